// Range-vector functions one series at a time, for an evaluator that walks series first and
// steps second, as Prometheus's engine does for calls with a matrix argument: it can then build
// each result series' labels once instead of once per step. CallFunction gives the same values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "collector/promql/function_call.h"

namespace crmscope::promql {

// Computes a function's value at one step from one series' samples in the window, `ctx` being
// what CallFunction would get (ts, window bounds, range_ms, the other arguments; range_arg is
// not read). Returns false when the series has no result at that step (e.g. rate() of fewer
// than two samples); an error (holt_winters's factors) goes to *error.
using SeriesValueFn = bool (*)(const std::vector<Sample>& points, const FunctionCallContext& ctx,
                               double* value, std::string* error);

// The per-series function of a range-vector function; nullptr for absent_over_time (its result
// depends on all series at once) and for functions without a range-vector argument.
SeriesValueFn FindSeriesValueFn(std::string_view name);

// Whether the function's results keep their series' __name__: only last_over_time, which
// Prometheus treats like an offset; every other range-vector function drops it.
bool KeepsMetricName(std::string_view name);

}  // namespace crmscope::promql
