// crmscope: the command-line front of the project. Each subcommand is one row of kCommands.
#include <curl/curl.h>

#include <array>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "crm_demo/launcher/demo_command.h"

namespace {

struct Subcommand {
  std::string_view name;
  std::string_view summary;
  int (*run)(const std::vector<std::string>& args);
};

constexpr std::array kCommands = {
    Subcommand{"demo", "run the demo CRM stack (nginx, crm-nodes, load, faults) on loopback",
               crmscope::launcher::RunDemoCommand},
};

void PrintUsage(FILE* out) {
  std::fputs("usage: crmscope <command> [flags]\n\ncommands:\n", out);
  for (const Subcommand& command : kCommands) {
    std::fprintf(out, "  %-10.*s %.*s\n", static_cast<int>(command.name.size()),
                 command.name.data(), static_cast<int>(command.summary.size()),
                 command.summary.data());
  }
  std::fputs("\ncrmscope <command> --help lists a command's flags.\n", out);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    PrintUsage(args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  for (const Subcommand& command : kCommands) {
    if (command.name != args[0]) continue;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int code = command.run({args.begin() + 1, args.end()});
    curl_global_cleanup();
    return code;
  }
  std::fprintf(stderr, "crmscope: unknown command '%s'\n", args[0].c_str());
  PrintUsage(stderr);
  return 2;
}
