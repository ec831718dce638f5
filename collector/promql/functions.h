// The builtin functions of PromQL as Prometheus 2.42 declares them for its parser: name,
// argument types and result type. The parser type-checks calls against this table; the
// engine keeps its own table of implementations keyed by the same names, so adding a function
// is one row here and one implementation there.
#pragma once

#include <string_view>
#include <vector>

#include "collector/promql/ast.h"

namespace crmscope::promql {

struct Function {
  std::string_view name;
  std::vector<ValueType> arg_types;
  // 0: exactly arg_types. n > 0: the last argument may be omitted, or given up to n times.
  // -1: the last argument may be omitted or repeated without limit (label_join's labels).
  int variadic = 0;
  ValueType return_type = ValueType::kVector;
};

// nullptr when PromQL has no function of that name.
const Function* FindFunction(std::string_view name);
const std::vector<Function>& AllFunctions();  // sorted by name

}  // namespace crmscope::promql
