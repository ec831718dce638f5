#include "collector/storage/head.h"

#include <algorithm>
#include <bit>

#include "collector/storage/chunk.h"
#include "collector/storage/varint.h"

namespace crmscope::storage {

namespace {

std::shared_ptr<const std::string> Encode(const Sample* begin, const Sample* end) {
  XorChunk c;
  for (const Sample* s = begin; s != end; ++s) c.Append(s->t, s->v);
  return std::make_shared<const std::string>(c.bytes());
}

// Out-of-order samples become chunks like any other: at most kSamplesPerChunk each, never
// spanning two blocks.
void EncodeSamples(const std::vector<Sample>& samples, std::vector<ChunkRef>* out) {
  size_t i = 0;
  while (i < samples.size()) {
    size_t j = i;
    int64_t block = BlockOf(samples[i].t);
    while (j < samples.size() && j - i < kSamplesPerChunk && BlockOf(samples[j].t) == block) ++j;
    out->push_back({samples[i].t, samples[j - 1].t, Encode(&samples[i], &samples[j])});
    i = j;
  }
}

}  // namespace

AppendOutcome HeadSeries::Append(TimestampMs t, double v, int64_t ooo_window_ms) {
  if (max_t_ == kNone || t > max_t_) {
    if (open_ && (open_->num_samples() >= kSamplesPerChunk || BlockOf(t) != BlockOf(open_->first_t()))) {
      CutOpen();
    }
    if (!open_) open_.emplace();
    open_->Append(t, v);
    max_t_ = t;
    last_v_ = v;
    return AppendOutcome::kAppended;
  }
  // Senders retry: a sample we already hold is accepted again without being stored twice.
  if (t == max_t_) {
    return SameValueBits(v, last_v_) ? AppendOutcome::kDuplicate : AppendOutcome::kDuplicateTimestamp;
  }
  double old;
  if (FindSample(t, &old)) {
    return SameValueBits(v, old) ? AppendOutcome::kDuplicate : AppendOutcome::kDuplicateTimestamp;
  }
  if (ooo_window_ms > 0 && t >= max_t_ - ooo_window_ms) {
    auto pos = std::lower_bound(ooo_.begin(), ooo_.end(), t,
                                [](const Sample& s, TimestampMs x) { return s.t < x; });
    ooo_.insert(pos, Sample{t, v});
    return AppendOutcome::kAppendedOutOfOrder;
  }
  return AppendOutcome::kOutOfOrder;
}

void HeadSeries::CutOpen() {
  if (!open_ || open_->num_samples() == 0) return;
  closed_.push_back({open_->first_t(), open_->last_t(), std::make_shared<const std::string>(open_->bytes())});
  open_.reset();
}

bool HeadSeries::FindSample(TimestampMs t, double* v) const {
  auto pos = std::lower_bound(ooo_.begin(), ooo_.end(), t,
                              [](const Sample& s, TimestampMs x) { return s.t < x; });
  if (pos != ooo_.end() && pos->t == t) {
    *v = pos->v;
    return true;
  }
  auto find_in = [&](std::string_view bytes) {
    XorIterator it(bytes);
    if (it.Seek(t) && it.At().t == t) {
      *v = it.At().v;
      return true;
    }
    return false;
  };
  if (open_ && open_->num_samples() > 0 && t >= open_->first_t() && t <= open_->last_t()) {
    return find_in(open_->bytes());
  }
  for (auto it = closed_.rbegin(); it != closed_.rend(); ++it) {
    if (t > it->max_t) break;
    if (t >= it->min_t) return find_in(*it->bytes);
  }
  return false;
}

TimestampMs HeadSeries::min_t() const {
  TimestampMs m = kNone;
  auto take = [&m](TimestampMs t) { if (m == kNone || t < m) m = t; };
  if (!closed_.empty()) take(closed_.front().min_t);
  if (open_ && open_->num_samples() > 0) take(open_->first_t());
  if (!ooo_.empty()) take(ooo_.front().t);
  return m;
}

size_t HeadSeries::num_samples() const {
  size_t n = ooo_.size() + (open_ ? open_->num_samples() : 0);
  for (const ChunkRef& c : closed_) n += XorIterator(*c.bytes).num_samples();
  return n;
}

std::vector<ChunkRef> HeadSeries::Snapshot(TimestampMs mint, TimestampMs maxt) const {
  std::vector<ChunkRef> out;
  for (const ChunkRef& c : closed_) {
    if (c.max_t >= mint && c.min_t <= maxt) out.push_back(c);
  }
  if (open_ && open_->num_samples() > 0 && open_->last_t() >= mint && open_->first_t() <= maxt) {
    out.push_back({open_->first_t(), open_->last_t(), std::make_shared<const std::string>(open_->bytes())});
  }
  if (!ooo_.empty()) {
    std::vector<Sample> in_range;
    for (const Sample& s : ooo_) {
      if (s.t >= mint && s.t <= maxt) in_range.push_back(s);
    }
    EncodeSamples(in_range, &out);
    std::sort(out.begin(), out.end(), [](const ChunkRef& a, const ChunkRef& b) { return a.min_t < b.min_t; });
  }
  return out;
}

std::vector<ChunkRef> HeadSeries::ChunksBefore(TimestampMs block_end) {
  if (open_ && open_->num_samples() > 0 && open_->last_t() < block_end) CutOpen();
  std::vector<ChunkRef> out;
  for (const ChunkRef& c : closed_) {
    if (c.max_t < block_end) out.push_back(c);
  }
  std::vector<Sample> old;
  for (const Sample& s : ooo_) {
    if (s.t < block_end) old.push_back(s);
  }
  EncodeSamples(old, &out);
  return out;
}

void HeadSeries::DropBefore(TimestampMs block_end) {
  closed_.erase(std::remove_if(closed_.begin(), closed_.end(),
                               [block_end](const ChunkRef& c) { return c.max_t < block_end; }),
                closed_.end());
  ooo_.erase(std::remove_if(ooo_.begin(), ooo_.end(), [block_end](const Sample& s) { return s.t < block_end; }),
             ooo_.end());
}

std::string HeadSeries::Serialize() const {
  std::string out;
  PutUvarint(out, closed_.size());
  for (const ChunkRef& c : closed_) {
    PutUvarint(out, c.bytes->size());
    out.append(*c.bytes);
  }
  std::string_view open = open_ ? open_->bytes() : std::string_view();
  PutUvarint(out, open.size());
  out.append(open);
  PutUvarint(out, ooo_.size());
  for (const Sample& s : ooo_) {
    PutVarint(out, s.t);
    PutFixed64(out, std::bit_cast<uint64_t>(s.v));
  }
  // The newest sample is the last of the newest chunk: not stored again (a checkpoint writes every
  // series' head, so 16 bytes here cost 16 bytes per series on disk).
  return out;
}

bool HeadSeries::Restore(std::string_view in) {
  uint64_t n;
  if (!GetUvarint(in, &n)) return false;
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view bytes;
    if (!GetBytes(in, &bytes)) return false;
    auto chunk = XorChunk::FromBytes(bytes);
    if (!chunk || chunk->num_samples() == 0) return false;
    closed_.push_back({chunk->first_t(), chunk->last_t(), std::make_shared<const std::string>(bytes)});
  }
  std::string_view open;
  if (!GetBytes(in, &open)) return false;
  if (!open.empty()) {
    open_ = XorChunk::FromBytes(open);
    if (!open_) return false;
  }
  if (!GetUvarint(in, &n)) return false;
  for (uint64_t i = 0; i < n; ++i) {
    int64_t t;
    uint64_t bits;
    if (!GetVarint(in, &t) || !GetFixed64(in, &bits)) return false;
    ooo_.push_back({t, std::bit_cast<double>(bits)});
  }
  if (open_) {
    max_t_ = open_->last_t();
    last_v_ = open_->last_v();
  } else if (!closed_.empty()) {
    auto last = XorChunk::FromBytes(*closed_.back().bytes);
    max_t_ = last->last_t();
    last_v_ = last->last_v();
  } else if (!ooo_.empty()) {
    max_t_ = ooo_.back().t;
    last_v_ = ooo_.back().v;
  }
  return in.empty();
}

}  // namespace crmscope::storage
