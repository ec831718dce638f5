// How evaluation fails: Prometheus's evaluator panics with an error wherever it finds one and
// recovers at the top of the query; here an EvalError is thrown and caught in engine.cpp.
#pragma once

#include <string>

#include "collector/promql/engine.h"

namespace crmscope::promql::eval {

struct EvalError {
  QueryErrorType type = QueryErrorType::kExecution;
  std::string message;
};

[[noreturn]] inline void ThrowExecution(std::string message) {
  throw EvalError{QueryErrorType::kExecution, std::move(message)};
}

// ErrTooManySamples(env): Prometheus names the environment "query execution".
[[noreturn]] inline void ThrowTooManySamples() {
  ThrowExecution("query processing would load too many samples into memory in query execution");
}

inline constexpr const char* kSameLabelsetError = "vector cannot contain metrics with the same labelset";

}  // namespace crmscope::promql::eval
