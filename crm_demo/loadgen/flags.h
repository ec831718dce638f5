// crm-loadgen's command line, spelled like Prometheus's flags (--flag=value or --flag value,
// booleans also as --no-flag, durations as "60s", "1m30s", "500ms").
#pragma once

#include <cstdint>
#include <string>

#include "crm_demo/loadgen/load_driver.h"
#include "crm_demo/loadgen/workload.h"

namespace crmscope::loadgen {

struct Flags {
  LoadOptions load;
  int concurrency = 0;  // closed loop; 0: --connections
  Mix mix = DefaultMix();
  double zipf = 1.1;
  uint64_t customers = 100000;
  std::string db;
  uint64_t seed = 1;
  std::string json_file;
};

enum class FlagAction { kRun, kHelp };

// On failure returns false with *error worded like kingpin's ("unknown long flag '--foo'").
bool ParseFlags(int argc, const char* const* argv, Flags* flags, FlagAction* action,
                std::string* error);
std::string FlagsUsage();

}  // namespace crmscope::loadgen
