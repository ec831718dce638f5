// The values PromQL expressions evaluate to, as Prometheus 2.42's promql package defines them:
// an instant vector (one sample per series at one time), a range vector (a window of samples
// per series), a scalar and a string.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "common/labels.h"
#include "common/sample.h"

namespace crmscope::promql {

// One series' sample in an instant vector. `t` is the evaluation time, except where Prometheus
// keeps the sample's own timestamp (a plain vector selector's result, for timestamp()).
struct VectorElement {
  Labels metric;  // sorted, with __name__ unless an operation dropped it
  TimestampMs t = 0;
  double v = 0;
};
using Vector = std::vector<VectorElement>;

struct MatrixSeries {
  Labels metric;
  std::vector<Sample> points;  // ascending by time
};
using Matrix = std::vector<MatrixSeries>;

struct Scalar {
  TimestampMs t = 0;
  double v = 0;
};

struct String {
  TimestampMs t = 0;
  std::string v;
};

using Value = std::variant<std::monostate, Vector, Matrix, Scalar, String>;

}  // namespace crmscope::promql
