// crm-loadgen: drives crm-node's API with a CRM workload, open loop by default (see
// load_driver.h), and reports per-operation latency and throughput. SIGINT or SIGTERM ends the
// run early; the summary (and --json) is still written.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "crm_demo/loadgen/customer_population.h"
#include "crm_demo/loadgen/flags.h"
#include "crm_demo/loadgen/load_driver.h"
#include "crm_demo/loadgen/report.h"
#include "crm_demo/loadgen/workload.h"

namespace {

using namespace crmscope::loadgen;

constexpr int kExitUsage = 2;
constexpr size_t kMaxSampledNames = 100000;

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

void OnStopSignal(int) { g_stop.store(true); }

void InstallStopHandlers() {
  struct sigaction action {};
  action.sa_handler = &OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool LoadPopulation(const Flags& flags, CustomerPopulation* population) {
  if (flags.db.empty()) {
    *population = CustomerPopulation::Synthetic(flags.customers, flags.seed);
    return true;
  }
  std::string error;
  if (!CustomerPopulation::FromDatabase(flags.db, kMaxSampledNames, population, &error)) {
    std::fprintf(stderr, "crm-loadgen: error: %s\n", error.c_str());
    return false;
  }
  return true;
}

RunDescription Describe(const Flags& flags) {
  RunDescription run;
  run.target = flags.load.target;
  run.closed_loop = flags.load.closed_loop;
  run.target_rate = flags.load.rate;
  run.connections = flags.load.connections;
  run.duration_s = static_cast<double>(flags.load.duration_ns) / 1e9;
  run.mix = FormatMix(flags.mix);
  run.zipf = flags.zipf;
  run.seed = flags.seed;
  return run;
}

bool WriteJson(const std::string& path, const nlohmann::json& document) {
  std::ofstream out(path, std::ios::trunc);
  out << document.dump(2) << '\n';
  out.close();
  if (!out) {
    std::fprintf(stderr, "crm-loadgen: error: cannot write %s\n", path.c_str());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  FlagAction action;
  std::string error;
  if (!ParseFlags(argc, argv, &flags, &action, &error)) {
    std::fprintf(stderr, "crm-loadgen: error: %s, try --help\n", error.c_str());
    return kExitUsage;
  }
  if (action == FlagAction::kHelp) {
    std::fputs(FlagsUsage().c_str(), stdout);
    return 0;
  }
  if (flags.load.closed_loop && flags.concurrency > 0) flags.load.connections = flags.concurrency;

  CustomerPopulation population;
  if (!LoadPopulation(flags, &population)) return 1;
  Workload workload(flags.mix, population, flags.zipf, flags.seed);
  std::unique_ptr<LoadDriver> driver = LoadDriver::Create(flags.load, &error);
  if (!driver) {
    std::fprintf(stderr, "crm-loadgen: error: %s\n", error.c_str());
    return 1;
  }
  InstallStopHandlers();

  const RunDescription run = Describe(flags);
  std::printf("crm-loadgen: %s against %s for %.1fs, %llu customers (%s), mix %s\n",
              run.closed_loop ? "closed loop" : "open loop", run.target.c_str(), run.duration_s,
              static_cast<unsigned long long>(population.customer_count()),
              flags.db.empty() ? "synthetic" : flags.db.c_str(), run.mix.c_str());
  std::fflush(stdout);
  nlohmann::json intervals = nlohmann::json::array();
  auto total = std::make_unique<RunStats>();
  driver->Run(workload, g_stop,
              [&](const RunStats& interval, int64_t since_start_ns) {
                const double t = static_cast<double>(since_start_ns) / 1e9;
                std::fputs(FormatTextReport(interval, run, t).c_str(), stdout);
                std::fflush(stdout);
                if (flags.json_file.empty()) return;
                nlohmann::json entry = SummaryJson(interval);
                entry["t_s"] = t;
                intervals.push_back(std::move(entry));
              },
              total.get());
  std::fputs(FormatTextReport(*total, run, -1).c_str(), stdout);
  std::fflush(stdout);
  if (!flags.json_file.empty() && !WriteJson(flags.json_file, RunJson(run, intervals, *total))) {
    return 1;
  }
  // Nothing answered at all: the target is down or wrong, which a script must not miss.
  return total->all.responses() == 0 ? 1 : 0;
}
