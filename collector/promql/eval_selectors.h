// Reading selectors' series from storage for the evaluator: each selector selects its series
// once, over the time range the whole query needs from it, and its samples are read one series
// at a time while every step of that series is evaluated, never again per step.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "collector/promql/ast.h"
#include "collector/promql/eval_evaluator.h"
#include "collector/storage/storage.h"

namespace crmscope::promql::eval {

// The series a vector selector selects, readable one at a time.
class SelectedSeries {
 public:
  SelectedSeries(const QueryContext& q, const VectorSelector& vs);

  size_t size() const { return series_.size(); }
  const Labels& labels(size_t i) const { return series_[i].labels; }
  // Series i's samples in the selector's time range, ascending; with `drop_stale`, without
  // staleness markers. The buffer is reused by the next call.
  const std::vector<Sample>& Load(size_t i, bool drop_stale);

 private:
  std::optional<storage::Querier> querier_;
  std::vector<storage::SeriesEntry> series_;
  std::vector<Sample> buffer_;
};

// The series of a range-vector argument (a range selector's, or a subquery's result) with the
// offset and range of its windows.
class RangeSource {
 public:
  virtual ~RangeSource() = default;
  virtual size_t size() const = 0;
  virtual const Labels& labels(size_t i) const = 0;
  // Series i's samples without staleness markers, ascending. Valid until the next call.
  virtual const std::vector<Sample>& samples(size_t i) = 0;

  int64_t offset_ms = 0;
  int64_t range_ms = 0;
};

std::unique_ptr<RangeSource> SelectorRangeSource(const QueryContext& q, const MatrixSelector& ms);
// `matrix` is a subquery's result, held until the source is destroyed.
std::unique_ptr<RangeSource> MatrixRangeSource(Matrix matrix, int64_t offset_ms, int64_t range_ms);

}  // namespace crmscope::promql::eval
