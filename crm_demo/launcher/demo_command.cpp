// `crmscope demo`: start the stack, run the load with its fault schedule while printing the live
// table, and stop everything when the time is up, on Ctrl-C, or when any process dies.
#include "crm_demo/launcher/demo_command.h"

#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "common/time.h"
#include "crm_demo/launcher/demo_stack.h"
#include "crm_demo/launcher/http_client.h"
#include "crm_demo/launcher/log_file.h"
#include "crm_demo/launcher/stack_monitor.h"

namespace crmscope::launcher {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kProbeInterval(1000);
constexpr int64_t kLongestFaultMs = 86'400'000;  // crm-node's limit for duration_s

std::string Seconds(Clock::duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + "s";
}

// Sends each planned fault to its node(s) when its time comes; the node ends it by itself.
class FaultSchedule {
 public:
  FaultSchedule(const std::vector<PlannedFault>& faults, int64_t run_ms)
      : faults_(faults), sent_(faults.size(), false) {
    for (PlannedFault& fault : faults_) {
      if (fault.duration_ms > 0) continue;
      fault.duration_ms =
          run_ms > 0 ? std::max<int64_t>(run_ms - fault.start_ms, 1000) : kLongestFaultMs;
    }
  }

  Clock::time_point NextDue(Clock::time_point start) const {
    Clock::time_point next = Clock::time_point::max();
    for (size_t i = 0; i < faults_.size(); ++i) {
      if (!sent_[i]) next = std::min(next, start + milliseconds(faults_[i].start_ms));
    }
    return next;
  }

  void SendDue(Clock::time_point start, const DemoStack& stack, HttpClient& http) {
    Clock::time_point now = Clock::now();
    for (size_t i = 0; i < faults_.size(); ++i) {
      if (sent_[i] || now < start + milliseconds(faults_[i].start_ms)) continue;
      sent_[i] = true;
      for (const RunningNode& node : stack.nodes()) {
        if (faults_[i].node == "all" || faults_[i].node == node.name)
          Send(faults_[i], node, stack, http, now - start);
      }
    }
  }

  // "node2:drop_index until t=150s, ..." for the faults active at `elapsed`.
  std::string Active(Clock::duration elapsed) const {
    int64_t t = std::chrono::duration_cast<milliseconds>(elapsed).count();
    std::string out;
    for (size_t i = 0; i < faults_.size(); ++i) {
      const PlannedFault& f = faults_[i];
      if (!sent_[i] || t >= f.start_ms + f.duration_ms) continue;
      out += (out.empty() ? "" : ", ") + f.node + ":" + f.type +
             " until t=" + std::to_string((f.start_ms + f.duration_ms) / 1000) + "s";
    }
    return out.empty() ? "none" : out;
  }

 private:
  static void Send(const PlannedFault& fault, const RunningNode& node, const DemoStack& stack,
                   HttpClient& http, Clock::duration elapsed) {
    HttpResult result =
        http.PostJson(node.url + "/admin/faults", FaultRequestBody(fault, fault.duration_ms),
                      stack.admin_token(), milliseconds(5000));
    if (result.status == 201) {
      std::printf("t=%s  fault %s:%s%s started on %s for %s\n", Seconds(elapsed).c_str(),
                  fault.node.c_str(), fault.type.c_str(), fault.params.dump().c_str(),
                  node.name.c_str(), FormatDuration(fault.duration_ms).c_str());
    } else {
      std::fprintf(
          stderr, "crmscope demo: t=%s fault %s NOT started on %s: %s %s\n",
          Seconds(elapsed).c_str(), fault.flag.c_str(), node.name.c_str(),
          result.error.empty() ? std::to_string(result.status).c_str() : result.error.c_str(),
          result.body.c_str());
    }
    std::fflush(stdout);
  }

  std::vector<PlannedFault> faults_;
  std::vector<bool> sent_;
};

enum class RunEnd { kTimeUp, kLoadFinished, kStopSignal, kChildDied };

struct RunOutcome {
  RunEnd end = RunEnd::kTimeUp;
  ChildProcess* died = nullptr;
};

// The main loop: one sigtimedwait per turn, woken by a signal (a stop request or a child's
// exit) or by the next due event (a probe, a table, a fault, the end of the run).
RunOutcome RunLoad(const DemoOptions& options, DemoStack& stack, StopSignals& signals) {
  HttpClient http;
  std::vector<MonitoredNode> monitored;
  for (const RunningNode& node : stack.nodes()) monitored.push_back({node.name, node.url});
  StackMonitor monitor(std::move(monitored), stack.proxy_url(), stack.dir().access_log);
  FaultSchedule faults(options.faults, options.duration_ms);
  monitor.Start(http);

  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = options.duration_ms > 0
                                         ? start + milliseconds(options.duration_ms)
                                         : Clock::time_point::max();
  Clock::time_point next_probe = start + kProbeInterval;
  Clock::time_point next_table = start + milliseconds(options.table_interval_ms);
  while (true) {
    Clock::time_point next = std::min({deadline, next_probe, next_table, faults.NextDue(start)});
    signals.Wait(std::chrono::duration_cast<milliseconds>(next - Clock::now()) + milliseconds(1));
    if (signals.stop_signal() != 0) return {RunEnd::kStopSignal, nullptr};
    if (ChildProcess* exited = stack.ReapExited()) {
      if (exited == stack.loadgen() && exited->ExitedCleanly())
        return {RunEnd::kLoadFinished, nullptr};
      return {RunEnd::kChildDied, exited};
    }
    Clock::time_point now = Clock::now();
    if (now >= deadline) return {RunEnd::kTimeUp, nullptr};
    faults.SendDue(start, stack, http);
    if (now >= next_probe) {
      monitor.Probe(http);
      next_probe = std::max(next_probe + kProbeInterval, Clock::now());
    }
    if (now >= next_table) {
      std::string heading = "t=" + Seconds(now - start) + "  faults: " + faults.Active(now - start);
      std::fputs(FormatLiveTable(heading, monitor.Report(http)).c_str(), stdout);
      std::fflush(stdout);
      next_table = std::max(next_table + milliseconds(options.table_interval_ms), Clock::now());
    }
  }
}

std::string DefaultBuildDir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  // build/crm_demo/launcher/crmscope -> build
  return ec ? "build" : exe.parent_path().parent_path().parent_path().string();
}

int Finish(DemoStack& stack, const RunOutcome& outcome) {
  std::vector<std::string> killed = stack.Stop();
  for (const std::string& name : killed) {
    std::fprintf(stderr, "crmscope demo: %s did not stop within its grace period; killed\n",
                 name.c_str());
  }
  if (stack.loadgen() != nullptr) {
    std::string summary = FromLastMarker(stack.loadgen()->log_path(), "=== summary");
    if (!summary.empty()) std::printf("crm-loadgen %s", summary.c_str());
  }
  std::fflush(stdout);  // the summary before the verdict on stderr, even through a pipe
  switch (outcome.end) {
    case RunEnd::kChildDied:
      std::fprintf(stderr,
                   "crmscope demo: %s (pid %d) %s unexpectedly; stopped the rest. The end of "
                   "%s:\n%s",
                   outcome.died->name().c_str(), outcome.died->pid(),
                   outcome.died->DescribeExit().c_str(), outcome.died->log_path().c_str(),
                   LastLines(outcome.died->log_path(), 10).c_str());
      return 1;
    case RunEnd::kStopSignal:
      std::fprintf(stderr, "crmscope demo: stopped on request (SIGINT, SIGTERM or SIGHUP)\n");
      return 0;
    default:
      std::fprintf(stderr, "crmscope demo: run complete; logs in %s/\n", stack.dir().logs.c_str());
      return 0;
  }
}

}  // namespace

int RunDemoCommand(const std::vector<std::string>& args) {
  DemoOptions options;
  bool help = false;
  std::string error;
  if (!ParseDemoOptions(args, &options, &help, &error)) {
    std::fprintf(stderr, "crmscope demo: %s\n(crmscope demo --help lists the flags)\n",
                 error.c_str());
    return 2;
  }
  if (help) {
    std::fputs(DemoUsage().c_str(), stdout);
    return 0;
  }
  ::signal(SIGPIPE, SIG_IGN);
  StopSignals signals;  // before any thread: libcurl may start resolver threads
  Binaries binaries;
  if (!FindBinaries(options.build_dir.empty() ? DefaultBuildDir() : options.build_dir, &binaries,
                    &error)) {
    std::fprintf(stderr, "crmscope demo: %s\n", error.c_str());
    return 1;
  }
  std::error_code ec;
  RunDirectory dir =
      RunDirectory::At(fs::absolute(options.run_dir, ec).lexically_normal().string());
  DemoStack stack(options, dir, binaries, signals);
  if (!stack.Start(&error) || !stack.WriteStackFile(&error) || !stack.StartLoad(&error)) {
    stack.Stop();
    if (error.empty()) {
      std::fprintf(stderr, "crmscope demo: interrupted while starting; stopped everything\n");
      return 0;
    }
    std::fprintf(stderr, "crmscope demo: %s\n", error.c_str());
    return 1;
  }
  std::fputs(stack.Banner(std::string(CRMSCOPE_SOURCE_DIR) + "/dashboards").c_str(), stdout);
  if (options.rate > 0) {
    std::printf("load: %g req/s through nginx for %s (crm-loadgen, log %s); Ctrl-C stops\n",
                options.rate,
                options.duration_ms > 0 ? FormatDuration(options.duration_ms).c_str() : "ever",
                dir.LogOf("loadgen").c_str());
  } else {
    std::printf("load: none (--rate 0)%s; Ctrl-C stops\n",
                options.duration_ms > 0
                    ? (", stopping after " + FormatDuration(options.duration_ms)).c_str()
                    : "");
  }
  std::fflush(stdout);
  return Finish(stack, RunLoad(options, stack, signals));
}

}  // namespace crmscope::launcher
