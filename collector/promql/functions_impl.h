// The implementations behind CallFunction (function_call.h), one small function per PromQL
// builtin as in Prometheus 2.42's promql/functions.go, grouped by kind into functions_*.cpp.
// Internal to the functions library: the evaluator sees only CallFunction.
#pragma once

#include <string>
#include <string_view>

#include "collector/promql/function_call.h"

namespace crmscope::promql {

using FunctionImpl = Value (*)(const FunctionCallContext& ctx, std::string* error);

// nullptr for a name without an implementation.
FunctionImpl FindFunctionImpl(std::string_view name);

// Prometheus's dropMetricName: a copy of `labels` without __name__.
Labels DropMetricName(const Labels& labels);

// The instant-vector argument at `i` (an empty vector when the slot holds something else).
const Vector& VectorArg(const FunctionCallContext& ctx, size_t i);
// The scalar argument at `i` (NaN when the slot holds something else).
double ScalarArg(const FunctionCallContext& ctx, size_t i);
const std::string& StringArg(const FunctionCallContext& ctx, size_t i);

// Elementwise math: abs, ceil, exp, ..., the trigonometric functions, clamp*, round, sgn,
// timestamp, and the date functions (functions_math.cpp).
FunctionImpl FindMathFunction(std::string_view name);

}  // namespace crmscope::promql
