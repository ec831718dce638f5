#include "collector/promql/parse_error.h"

#include <algorithm>

namespace crmscope::promql {

std::string FormatParseError(std::string_view input, const ParseError& error) {
  int line = 1, last_break = -1;
  int pos = std::min(error.pos.start, static_cast<int>(input.size()));
  for (int i = 0; i < pos; ++i) {
    if (input[i] == '\n') {
      ++line;
      last_break = i;
    }
  }
  return std::to_string(line) + ":" + std::to_string(pos - last_break) +
         ": parse error: " + error.message;
}

}  // namespace crmscope::promql
