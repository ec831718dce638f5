// The implementations behind CallFunction (function_call.h), one small function per PromQL
// builtin as in Prometheus 2.42's promql/functions.go, grouped by kind into functions_*.cpp.
// Internal to the functions library: the evaluator sees only CallFunction.
#pragma once

#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "collector/promql/function_call.h"
#include "collector/promql/functions_series.h"

namespace crmscope::promql {

using FunctionImpl = Value (*)(const FunctionCallContext& ctx, std::string* error);

struct FunctionImplEntry {
  std::string_view name;
  FunctionImpl impl;
};

// Prometheus's dropMetricName: a copy of `labels` without __name__.
Labels DropMetricName(const Labels& labels);

// The instant-vector argument at `i` (an empty vector when the slot holds something else).
const Vector& VectorArg(const FunctionCallContext& ctx, size_t i);
// The scalar argument at `i` (NaN when the slot holds something else).
double ScalarArg(const FunctionCallContext& ctx, size_t i);
const std::string& StringArg(const FunctionCallContext& ctx, size_t i);

// Go's math.Max and math.Min, which PromQL's clamp functions use: an infinity wins over NaN,
// NaN wins over any finite number, and +0 is greater than -0 — unlike std::fmax/std::fmin.
double GoMax(double a, double b);
double GoMin(double a, double b);

// One step of Neumaier-compensated summation, as Prometheus's kahanSumInc: `sum` and the
// compensation `c` are updated with `inc`; the total is sum + c.
inline void KahanSumInc(double inc, double& sum, double& c) {
  double t = sum + inc;
  if (std::fabs(sum) >= std::fabs(inc)) {
    c += (sum - t) + inc;
  } else {
    c += (inc - t) + sum;
  }
  sum = t;
}

struct SeriesFunctionEntry {
  std::string_view name;
  SeriesValueFn value_of;
};

// The tables of each group, ending with {"", nullptr}.
extern const FunctionImplEntry kMathFunctions[];       // functions_math.cpp
extern const FunctionImplEntry kDateFunctions[];       // functions_date.cpp
extern const SeriesFunctionEntry kRangeSeriesFunctions[];     // functions_range.cpp
extern const SeriesFunctionEntry kOverTimeSeriesFunctions[];  // functions_over_time.cpp
extern const FunctionImplEntry kOverTimeFunctions[];   // functions_over_time.cpp
extern const FunctionImplEntry kLabelFunctions[];      // functions_labels.cpp
extern const FunctionImplEntry kHistogramFunctions[];  // functions_histogram.cpp
extern const FunctionImplEntry kMiscFunctions[];       // functions_misc.cpp

}  // namespace crmscope::promql
