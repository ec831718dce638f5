// `crmscope demo`: the demo CRM stack on loopback (see demo_options.cpp for its flags).
#pragma once

#include <string>
#include <vector>

namespace crmscope::launcher {

// Returns the process exit code: 0 when the run ended as asked (time up, Ctrl-C), 1 when a
// process died or the stack could not start, 2 for bad flags.
int RunDemoCommand(const std::vector<std::string>& args);

}  // namespace crmscope::launcher
