#include <algorithm>
#include <mutex>

#include "collector/storage/storage_impl.h"

namespace crmscope::storage {

namespace {

// Iterates the chunks of one series in order. Chunks normally follow one another; where they
// overlap (out-of-order chunks, or a chunk seen both in the head and in a block while a checkpoint
// commits) they are merged and equal timestamps kept once.
class ChunkSeriesIterator : public SampleIterator {
 public:
  ChunkSeriesIterator(std::vector<ChunkRef> chunks, TimestampMs mint, TimestampMs maxt)
      : chunks_(std::move(chunks)), mint_(mint), maxt_(maxt) {
    std::sort(chunks_.begin(), chunks_.end(), [](const ChunkRef& a, const ChunkRef& b) {
      return a.min_t != b.min_t ? a.min_t < b.min_t : a.max_t < b.max_t;
    });
    chunks_.erase(std::unique(chunks_.begin(), chunks_.end(),
                              [](const ChunkRef& a, const ChunkRef& b) {
                                return a.min_t == b.min_t && a.max_t == b.max_t && *a.bytes == *b.bytes;
                              }),
                  chunks_.end());
    for (size_t i = 1; i < chunks_.size(); ++i) {
      if (chunks_[i].min_t <= chunks_[i - 1].max_t) overlapping_ = true;
    }
    if (overlapping_) MergeAll();
  }

  bool Next() override {
    if (overlapping_) {
      if (pos_ >= merged_.size()) return false;
      cur_ = merged_[pos_++];
      return true;
    }
    while (true) {
      if (it_ && it_->Next()) {
        cur_ = it_->At();
        if (cur_.t > maxt_) return Finish();
        if (cur_.t >= mint_) return true;
        continue;
      }
      if (next_chunk_ >= chunks_.size()) return Finish();
      it_.emplace(*chunks_[next_chunk_++].bytes);
    }
  }

  bool Seek(TimestampMs target) override {
    if (started_ && cur_.t >= target) return true;
    started_ = true;
    while (Next()) {
      if (cur_.t >= target) return true;
    }
    return false;
  }

  Sample At() const override { return cur_; }

 private:
  bool Finish() {
    next_chunk_ = chunks_.size();
    it_.reset();
    return false;
  }

  void MergeAll() {
    for (const ChunkRef& c : chunks_) {
      XorIterator it(*c.bytes);
      while (it.Next()) {
        Sample s = it.At();
        if (s.t >= mint_ && s.t <= maxt_) merged_.push_back(s);
      }
    }
    std::stable_sort(merged_.begin(), merged_.end(), [](const Sample& a, const Sample& b) { return a.t < b.t; });
    merged_.erase(std::unique(merged_.begin(), merged_.end(),
                              [](const Sample& a, const Sample& b) { return a.t == b.t; }),
                  merged_.end());
  }

  std::vector<ChunkRef> chunks_;
  TimestampMs mint_, maxt_;
  bool overlapping_ = false;
  bool started_ = false;
  std::vector<Sample> merged_;
  size_t pos_ = 0;
  size_t next_chunk_ = 0;
  std::optional<XorIterator> it_;
  Sample cur_;
};

bool Overlaps(TimestampMs lo, TimestampMs hi, TimestampMs mint, TimestampMs maxt) {
  return lo != HeadSeries::kNone && hi >= mint && lo <= maxt;
}

}  // namespace

Querier::Querier(const Storage* storage, TimestampMs mint, TimestampMs maxt)
    : storage_(storage), mint_(mint), maxt_(maxt) {}

Querier::Querier(Querier&& other) noexcept
    : storage_(other.storage_), mint_(other.mint_), maxt_(other.maxt_), conn_(std::move(other.conn_)) {}

Querier::~Querier() {
  if (conn_) storage_->impl_->readers->Release(std::move(conn_));
}

std::vector<SeriesEntry> Querier::Select(const Matchers& matchers) const {
  const Storage::Impl& s = *storage_->impl_;
  std::shared_lock<std::shared_mutex> lock(s.mu);
  std::vector<SeriesRef> refs = s.index.Select(matchers);
  // Keep series with samples in range: in the head, or in a block up to the series' newest.
  std::erase_if(refs, [&](SeriesRef ref) {
    if (ref < s.head.size() && s.head[ref] && !s.head[ref]->empty()) {
      const HeadSeries& hs = *s.head[ref];
      if (Overlaps(hs.min_t(), std::max(hs.max_t(), hs.min_t()), mint_, maxt_)) return false;
    }
    if (s.pending_block_chunks.count(ref)) return false;
    TimestampMs disk = ref < s.disk_max_t.size() ? s.disk_max_t[ref] : HeadSeries::kNone;
    TimestampMs oldest = s.blocks.empty() ? HeadSeries::kNone : s.blocks.begin()->first * kBlockMs;
    return !Overlaps(oldest, disk, mint_, maxt_);
  });
  std::sort(refs.begin(), refs.end(), [&](SeriesRef a, SeriesRef b) { return s.index.LabelsLess(a, b); });
  std::vector<SeriesEntry> out;
  out.reserve(refs.size());
  for (SeriesRef ref : refs) out.push_back({ref, s.index.GetLabels(ref)});
  return out;
}

std::unique_ptr<SampleIterator> Querier::Samples(SeriesRef ref) const {
  const Storage::Impl& s = *storage_->impl_;
  std::vector<ChunkRef> chunks;
  std::vector<int64_t> blocks;
  {
    // Head first, then blocks: a chunk that moves from head to block in between is seen twice
    // (and merged), never missed.
    std::shared_lock<std::shared_mutex> lock(s.mu);
    if (ref < s.head.size() && s.head[ref]) chunks = s.head[ref]->Snapshot(mint_, maxt_);
    if (auto it = s.pending_block_chunks.find(ref); it != s.pending_block_chunks.end()) {
      for (const ChunkRef& c : it->second) {
        if (c.max_t >= mint_ && c.min_t <= maxt_) chunks.push_back(c);
      }
    }
    TimestampMs disk = ref < s.disk_max_t.size() ? s.disk_max_t[ref] : HeadSeries::kNone;
    if (disk != HeadSeries::kNone && disk >= mint_) {
      for (auto it = s.blocks.lower_bound(BlockOf(mint_)); it != s.blocks.end(); ++it) {
        if (it->first > BlockOf(std::min(maxt_, disk))) break;
        blocks.push_back(it->first);
      }
    }
  }
  if (!blocks.empty()) {
    std::string error;
    if (!conn_) conn_ = s.readers->Acquire(&error);
    if (conn_) {
      auto stmt = conn_->Prepare(
          "SELECT min_t, max_t, data FROM chunks WHERE block = ? AND series = ? AND min_t <= ? AND max_t >= ?",
          &error);
      for (int64_t block : blocks) {
        if (!stmt) break;
        stmt->BindInt(1, block);
        stmt->BindInt(2, static_cast<int64_t>(ref));
        stmt->BindInt(3, maxt_);
        stmt->BindInt(4, mint_);
        while (stmt->Step()) {
          chunks.push_back({stmt->ColumnInt(0), stmt->ColumnInt(1),
                            std::make_shared<const std::string>(stmt->ColumnBlob(2))});
        }
        stmt->Reset();
      }
    }
  }
  return std::make_unique<ChunkSeriesIterator>(std::move(chunks), mint_, maxt_);
}

std::vector<std::string> Querier::LabelNames(const Matchers& matchers) const {
  if (matchers.empty()) {
    std::vector<SeriesEntry> all;  // label names of series in range
    std::vector<SeriesRef> refs;
    // != "" rather than =~".+": RE2's "." does not match a newline inside a value.
    auto any = LabelMatcher::Make(LabelMatcher::Type::kNotEqual, std::string(kMetricNameLabel), "", nullptr);
    for (const SeriesEntry& e : Select({any})) refs.push_back(e.ref);
    std::shared_lock<std::shared_mutex> lock(storage_->impl_->mu);
    return storage_->impl_->index.LabelNames(refs);
  }
  std::vector<SeriesRef> refs;
  for (const SeriesEntry& e : Select(matchers)) refs.push_back(e.ref);
  std::shared_lock<std::shared_mutex> lock(storage_->impl_->mu);
  return storage_->impl_->index.LabelNames(refs);
}

std::vector<std::string> Querier::LabelValues(std::string_view name, const Matchers& matchers) const {
  Matchers m = matchers;
  if (m.empty()) {
    m.push_back(LabelMatcher::Make(LabelMatcher::Type::kNotEqual, std::string(name), "", nullptr));
  }
  std::vector<SeriesRef> refs;
  for (const SeriesEntry& e : Select(m)) refs.push_back(e.ref);
  std::shared_lock<std::shared_mutex> lock(storage_->impl_->mu);
  return storage_->impl_->index.LabelValues(name, refs);
}

}  // namespace crmscope::storage
