// The contract between the evaluator (engine.cpp and its parts) and the function
// implementations (functions_*.cpp): how one call of a PromQL function is evaluated at one step.
//
// The evaluator evaluates the arguments and calls CallFunction once per evaluation step, as
// Prometheus's engine calls a FunctionCall with its EvalNodeHelper:
//  - scalar, string and instant-vector arguments are evaluated at the step's time and passed
//    in `args` (by position);
//  - a range-vector argument (a matrix selector or a subquery; at most one per function) is
//    passed in `range_arg` instead, its slot in `args` left std::monostate: for every series
//    selected, the samples in the window [window_start_ms, window_end_ms] (both inclusive, as in
//    Prometheus 2.x: window_end = step time - offset, window_start = window_end - range), stale
//    markers already removed. Series with no sample in the window are left out.
// The implementation returns the step's result: a Vector for functions returning an instant
// vector (with the labels the function's result has in Prometheus: most functions drop
// __name__; label_replace/label_join rewrite labels; ...), a Scalar for scalar()/time()/...
// An error (label_replace's invalid regex, a duplicate series after a label change, ...) goes
// to *error worded as Prometheus words it, and the returned value is ignored.
#pragma once

#include <string>
#include <vector>

#include "collector/promql/ast.h"
#include "collector/promql/value.h"

namespace crmscope::promql {

struct FunctionCallContext {
  const Call* call = nullptr;  // the call node: func->name, and the arguments' syntax trees
  TimestampMs ts_ms = 0;       // the step's evaluation time
  std::vector<Value> args;
  const Matrix* range_arg = nullptr;
  TimestampMs window_start_ms = 0, window_end_ms = 0;
  int64_t range_ms = 0;  // window_end - window_start
};

// Evaluates ctx.call->func at one step. Thread-safe (no state between calls).
Value CallFunction(const FunctionCallContext& ctx, std::string* error);

}  // namespace crmscope::promql
