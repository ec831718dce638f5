// Reading the ends of the children's log files, for error messages and the final summary.
#pragma once

#include <string>
#include <string_view>

namespace crmscope::launcher {

// The last `count` lines of the file, each indented by two spaces; "" when unreadable.
std::string LastLines(const std::string& path, int count);
// The file from the last line that contains `marker` to its end; "" when there is none.
std::string FromLastMarker(const std::string& path, std::string_view marker);

}  // namespace crmscope::launcher
