// The type rules of PromQL, checked after a successful parse as Prometheus's checkAST does:
// operand types of operators, functions and aggregations, and the selector rules that need
// the whole selector (a metric name set twice, a selector matching everything).
#pragma once

#include <string_view>

#include "collector/promql/ast.h"

namespace crmscope::promql {

// Throws ParseError at the first violation, in Prometheus's order (children before parents).
// Also settles binary matching as Prometheus does: set operators become many-to-many, and
// matching is dropped unless both sides are instant vectors. `input` is the query text, used
// to place errors about an operator on the operator.
void CheckTypes(Expr& root, std::string_view input);

}  // namespace crmscope::promql
