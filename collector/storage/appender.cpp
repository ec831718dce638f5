#include <prometheus/counter.h>

#include <algorithm>

#include "collector/storage/storage_impl.h"
#include "collector/storage/wal_record.h"

namespace crmscope::storage {

namespace {

// A series' labels made canonical: empty values dropped (Prometheus treats them as absent),
// sorted by name and hashed before any storage lock is taken. Validation waits until the series
// turns out to be new: a known label set was validated when it was first seen.
struct PreparedSeries {
  std::vector<LabelView> labels;
  uint64_t hash = 0;
  SeriesRef ref = 0;
  std::string text;  // Prometheus text form, made on the first rejection only

  const std::string& Text() {
    if (text.empty()) text = LabelsToString(LabelsFromViews(labels.data(), labels.data() + labels.size()));
    return text;
  }
};

void Prepare(const LabelView* labels, size_t n, PreparedSeries* out) {
  out->labels.clear();
  out->text.clear();
  out->ref = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!labels[i].value.empty()) out->labels.push_back(labels[i]);
  }
  auto by_name = [](const LabelView& a, const LabelView& b) { return a.name < b.name; };
  if (!std::is_sorted(out->labels.begin(), out->labels.end(), by_name)) {
    std::sort(out->labels.begin(), out->labels.end(), by_name);
  }
  out->hash = HashLabels(out->labels.data(), out->labels.size());
}

void Reject(AppendStats& stats, PreparedSeries& series, RejectReason reason, size_t count,
            const std::string& detail) {
  stats.rejected[static_cast<int>(reason)] += count;
  if (!stats.rejections.empty()) {
    auto& last = stats.rejections.back();
    if (last.reason == reason && last.series == series.Text()) {
      last.count += count;
      return;
    }
  }
  if (stats.rejections.size() >= AppendStats::kMaxReportedSeries) return;
  stats.rejections.push_back({series.Text(), reason, count, detail});
}

}  // namespace

Appender::Appender(Storage* storage) : storage_(storage) {}
Appender::~Appender() = default;

void Appender::Append(const LabelView* labels, size_t num_labels, const Sample* samples, size_t num_samples) {
  if (pending_.empty()) pending_.reserve(256);
  pending_.push_back({labels, num_labels, samples, num_samples});
}

bool Appender::Commit(std::string* error) {
  Storage::Impl& s = *storage_->impl_;
  // Reused across requests on the same thread: no allocation per series once warm.
  thread_local std::vector<PreparedSeries> prepared;
  if (prepared.size() < pending_.size()) prepared.resize(pending_.size());
  for (size_t i = 0; i < pending_.size(); ++i) Prepare(pending_[i].labels, pending_[i].num_labels, &prepared[i]);
  {
    // Most series are known: look them up under the shared lock, so concurrent requests do this
    // part in parallel and the exclusive section below only appends.
    std::shared_lock<std::shared_mutex> lock(s.mu);
    for (size_t i = 0; i < pending_.size(); ++i) {
      prepared[i].ref = s.index.Find(prepared[i].labels.data(), prepared[i].labels.size(), prepared[i].hash);
    }
  }

  auto job = std::make_unique<CommitJob>();
  WalRecordBuilder wal;
  std::shared_ptr<CommitJob> queued;
  {
    std::unique_lock<std::shared_mutex> lock(s.mu);
    if (s.write_failed) {
      *error = "storage is read-only after a failed write; restart the collector";
      return false;
    }
    TimestampMs too_old = s.min_valid_time;
    if (s.options.retention_ms > 0 && s.max_time != HeadSeries::kNone) {
      too_old = std::max(too_old, s.max_time - s.options.retention_ms);
    }
    std::vector<SymbolId> new_symbols;
    for (size_t i = 0; i < pending_.size(); ++i) {
      const Pending& p = pending_[i];
      PreparedSeries& ps = prepared[i];
      SeriesRef ref = ps.ref;
      // Another request may have created the series, or retention removed it, since the lookup.
      if (ref == 0 || !s.index.Contains(ref)) ref = s.index.Find(ps.labels.data(), ps.labels.size(), ps.hash);
      if (ref == 0) {
        std::string invalid = ValidateLabels(ps.labels.data(), ps.labels.size());
        if (!invalid.empty()) {
          Reject(stats_, ps, RejectReason::kInvalidLabels, p.num_samples, invalid);
          continue;
        }
        if (s.options.max_series > 0 && s.index.size() >= s.options.max_series) {
          Reject(stats_, ps, RejectReason::kSeriesLimit, p.num_samples,
                 "limit of " + std::to_string(s.options.max_series) + " series reached");
          continue;
        }
        new_symbols.clear();
        ref = s.index.Add(ps.labels.data(), ps.labels.size(), ps.hash, &new_symbols);
        for (SymbolId id : new_symbols) job->symbols.emplace_back(id, std::string(s.index.symbols().Get(id)));
        job->series.emplace_back(ref, s.index.Pairs(ref));
        ++stats_.new_series;
      }
      HeadSeries& hs = s.HeadFor(ref);
      for (size_t j = 0; j < p.num_samples; ++j) {
        const Sample& smp = p.samples[j];
        if (too_old != HeadSeries::kNone && smp.t < too_old) {
          Reject(stats_, ps, RejectReason::kTooOld, 1, "sample at " + std::to_string(smp.t) +
                                                          " is older than " + std::to_string(too_old));
          continue;
        }
        switch (hs.Append(smp.t, smp.v, s.options.out_of_order_window_ms)) {
          case AppendOutcome::kAppended:
          case AppendOutcome::kAppendedOutOfOrder:
            wal.Add(ref, smp.t, smp.v);
            ++stats_.accepted;
            if (s.min_time == HeadSeries::kNone || smp.t < s.min_time) s.min_time = smp.t;
            if (smp.t > s.max_time) s.max_time = smp.t;
            break;
          case AppendOutcome::kDuplicate:
            ++stats_.duplicates;
            break;
          case AppendOutcome::kOutOfOrder:
            Reject(stats_, ps, RejectReason::kOutOfOrder, 1,
                   "out of order sample at " + std::to_string(smp.t) + ", newest is " + std::to_string(hs.max_t()));
            break;
          case AppendOutcome::kDuplicateTimestamp:
            Reject(stats_, ps, RejectReason::kDuplicateTimestamp, 1,
                   "duplicate sample for timestamp " + std::to_string(smp.t) + " with another value");
            break;
        }
      }
    }
    job->wal = wal.Finish();
    if (!job->wal.empty() || !job->series.empty()) {
      s.wal_bytes_since_checkpoint += job->wal.size();
      queued = s.writer->Enqueue(std::move(job));
    }
  }
  s.metrics.appended->Increment(static_cast<double>(stats_.accepted));
  s.metrics.duplicates->Increment(static_cast<double>(stats_.duplicates));
  for (int r = 0; r < kNumRejectReasons; ++r) {
    if (stats_.rejected[r]) s.metrics.rejected[r]->Increment(static_cast<double>(stats_.rejected[r]));
  }
  pending_.clear();
  if (queued && !s.writer->Wait(queued, error)) {
    std::unique_lock<std::shared_mutex> lock(s.mu);
    s.write_failed = true;
    return false;
  }
  return true;
}

}  // namespace crmscope::storage
