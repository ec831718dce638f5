// The first error of a parse. Prometheus keeps parsing after an error but reports only the
// first, so the parser stops there: it throws a ParseError, caught at the API boundary.
#pragma once

#include <string>
#include <string_view>

#include "collector/promql/ast.h"

namespace crmscope::promql {

struct ParseError {
  PositionRange pos;
  std::string message;
};

// "line:column: parse error: message", with the column counted in bytes from 1.
std::string FormatParseError(std::string_view input, const ParseError& error);

}  // namespace crmscope::promql
