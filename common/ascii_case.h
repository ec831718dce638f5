// ASCII case-insensitive comparison, for HTTP header names and tokens (RFC 9110: case-insensitive).
#pragma once

#include <strings.h>

#include <string_view>

namespace crmscope {

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace crmscope
