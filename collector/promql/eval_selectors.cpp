#include "collector/promql/eval_selectors.h"

#include <algorithm>

namespace crmscope::promql::eval {

SelectedSeries::SelectedSeries(const QueryContext& q, const VectorSelector& vs) {
  if (q.storage == nullptr) return;
  auto it = q.select_ranges.find(&vs);
  if (it == q.select_ranges.end()) return;
  // Prometheus selects with the selector's own range as hints, and its querier trims samples
  // outside them; a querier over exactly that range does both.
  querier_.emplace(q.storage->NewQuerier(it->second.start, it->second.end));
  series_ = querier_->Select(vs.matchers);
}

const std::vector<Sample>& SelectedSeries::Load(size_t i, bool drop_stale) {
  buffer_.clear();
  std::unique_ptr<storage::SampleIterator> it = querier_->Samples(series_[i].ref);
  while (it->Next()) {
    Sample s = it->At();
    if (drop_stale && IsStaleNaN(s.v)) continue;
    buffer_.push_back(s);
  }
  return buffer_;
}

namespace {

class SelectorSource final : public RangeSource {
 public:
  SelectorSource(const QueryContext& q, const MatrixSelector& ms)
      : selected_(q, *ms.vector_selector) {
    offset_ms = ms.vector_selector->offset_ms;
    range_ms = ms.range_ms;
  }
  size_t size() const override { return selected_.size(); }
  const Labels& labels(size_t i) const override { return selected_.labels(i); }
  const std::vector<Sample>& samples(size_t i) override { return selected_.Load(i, true); }

 private:
  SelectedSeries selected_;
};

class MatrixSource final : public RangeSource {
 public:
  MatrixSource(Matrix m, int64_t offset, int64_t range) : matrix_(std::move(m)) {
    offset_ms = offset;
    range_ms = range;
  }
  size_t size() const override { return matrix_.size(); }
  const Labels& labels(size_t i) const override { return matrix_[i].metric; }
  const std::vector<Sample>& samples(size_t i) override {
    const std::vector<Sample>& points = matrix_[i].points;
    bool any_stale = std::any_of(points.begin(), points.end(),
                                 [](const Sample& s) { return IsStaleNaN(s.v); });
    if (!any_stale) return points;
    filtered_.clear();
    for (const Sample& s : points) {
      if (!IsStaleNaN(s.v)) filtered_.push_back(s);
    }
    return filtered_;
  }

 private:
  Matrix matrix_;
  std::vector<Sample> filtered_;
};

}  // namespace

std::unique_ptr<RangeSource> SelectorRangeSource(const QueryContext& q, const MatrixSelector& ms) {
  return std::make_unique<SelectorSource>(q, ms);
}

std::unique_ptr<RangeSource> MatrixRangeSource(Matrix matrix, int64_t offset_ms, int64_t range_ms) {
  return std::make_unique<MatrixSource>(std::move(matrix), offset_ms, range_ms);
}

// An instant vector selector takes, at each step, the newest sample in
// [t - offset - lookback_delta, t - offset] (both ends included in Prometheus 2.x), unless that
// sample is a staleness marker. The output point carries the step's time; `sample_times`,
// when given (for timestamp()), receives the samples' own times.
Matrix Evaluator::EvalVectorSelector(VectorSelector& vs,
                                     std::vector<std::vector<TimestampMs>>* sample_times,
                                     bool count_samples) {
  SelectedSeries selected(q_, vs);
  Matrix mat;
  // timestamp() of a selector with @ reads at the @ time at every step (Prometheus sets the
  // offset per step to ts - @, dropping any offset written with it).
  bool pinned = sample_times != nullptr && vs.timestamp_ms.has_value();
  for (size_t i = 0; i < selected.size(); ++i) {
    q_.CheckDeadline();
    const std::vector<Sample>& samples = selected.Load(i, /*drop_stale=*/false);
    MatrixSeries series{selected.labels(i), {}};
    std::vector<TimestampMs> times;
    size_t next = 0;  // first sample after the reference time
    for (TimestampMs ts = start_; ts <= end_; ts += interval_) {
      TimestampMs ref = pinned ? *vs.timestamp_ms : ts - vs.offset_ms;
      while (next < samples.size() && samples[next].t <= ref) ++next;
      if (next == 0) continue;
      const Sample& s = samples[next - 1];
      if (s.t < ref - q_.lookback_delta_ms || IsStaleNaN(s.v)) continue;
      if (count_samples) {
        if (q_.current_samples >= q_.max_samples) ThrowTooManySamples();
        ++q_.current_samples;
      }
      series.points.push_back({ts, s.v});
      if (sample_times) times.push_back(s.t);
    }
    if (series.points.empty()) continue;
    mat.push_back(std::move(series));
    if (sample_times) sample_times->push_back(std::move(times));
  }
  return mat;
}

// A range selector evaluated on its own (an instant query of `x[5m]`): the samples in
// [t - offset - range, t - offset], staleness markers left out, at their own times.
Matrix Evaluator::EvalMatrixSelector(MatrixSelector& ms) {
  SelectedSeries selected(q_, *ms.vector_selector);
  TimestampMs maxt = start_ - ms.vector_selector->offset_ms;
  TimestampMs mint = maxt - ms.range_ms;
  Matrix mat;
  for (size_t i = 0; i < selected.size(); ++i) {
    q_.CheckDeadline();
    const std::vector<Sample>& samples = selected.Load(i, /*drop_stale=*/true);
    auto lo = std::lower_bound(samples.begin(), samples.end(), mint,
                               [](const Sample& s, TimestampMs t) { return s.t < t; });
    auto hi = std::upper_bound(samples.begin(), samples.end(), maxt,
                               [](TimestampMs t, const Sample& s) { return t < s.t; });
    if (lo >= hi) continue;
    MatrixSeries series{selected.labels(i), {}};
    for (auto p = lo; p != hi; ++p) {
      if (q_.current_samples >= q_.max_samples) ThrowTooManySamples();
      ++q_.current_samples;
      series.points.push_back(*p);
    }
    mat.push_back(std::move(series));
  }
  return mat;
}

}  // namespace crmscope::promql::eval
