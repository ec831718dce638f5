// crmscope-agent: samples the proxy and the CRM nodes and ships the series to the collector over
// Prometheus remote write, through a durable queue per endpoint.
//
//   crmscope-agent --config.file=agent.yml [--web.listen-address=127.0.0.1:9310]
//                  [--storage.path=data/agent] [--log.level=info]
//   crmscope-agent parse-nginx-log --log-format '<format>' [--route-rule REGEX=TEMPLATE ...] FILE
//
// SIGINT and SIGTERM stop the sources, flush the queues for up to --shutdown.flush-timeout and
// exit; what was not delivered stays queued for the next start.
#include <malloc.h>
#include <curl/curl.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "agent/core/agent_runtime.h"
#include "agent/sources/nginx_log/parse_nginx_log_command.h"
#include "common/flags.h"
#include "common/log.h"

namespace {

using crmscope::Flags;
namespace log = crmscope::log;

int Fail(const std::string& message) {
  log::Error(message);
  return 1;
}

int Serve(const std::vector<std::string>& args) {
  Flags flags({{"config.file", "agent.yml", "The agent's YAML configuration file."},
               {"web.listen-address", "127.0.0.1:9310",
                "Address for the agent's own /metrics and health endpoints; port 0 picks one."},
               {"storage.path", "data/agent",
                "Directory of the remote-write queues (one folder per endpoint)."},
               {"shutdown.flush-timeout", "5s",
                "How long a stopping agent keeps sending what is queued."},
               {"log.level", "info", "debug, info, warn or error."}});
  std::string error;
  if (!flags.Parse(args, &error)) return Fail(error);
  if (flags.help_requested()) {
    std::fputs(flags.Usage("crmscope-agent").c_str(), stdout);
    return 0;
  }
  log::Level level;
  if (!log::ParseLevel(flags.Get("log.level"), &level)) return Fail("--log.level: unknown level");
  log::SetLevel(level);
  int64_t flush_ms = 0;
  if (!flags.GetDurationMs("shutdown.flush-timeout", &flush_ms, &error)) return Fail(error);

  crmscope::agent::AgentRuntime::Options options;
  options.config_file = flags.Get("config.file");
  options.listen_address = flags.Get("web.listen-address");
  options.storage_path = flags.Get("storage.path");
  auto runtime = crmscope::agent::AgentRuntime::Start(options, &error);
  if (runtime == nullptr) return Fail(error);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  // While waiting for a stop signal, hand the heap's free pages back every 30 s: glibc only
  // returns memory at the heap's top, and the holes scrape bodies and send batches leave below
  // live data stay resident otherwise (bench/agent/footprint.sh: ~0.8 MiB of a 3.9 MiB heap).
  int signal = -1;
  const timespec trim_interval{.tv_sec = 30, .tv_nsec = 0};
  while (signal != SIGINT && signal != SIGTERM) {
    signal = sigtimedwait(&signals, nullptr, &trim_interval);
    if (signal < 0) malloc_trim(0);
  }
  log::Info("Stopping", {{"signal", signal == SIGINT ? "SIGINT" : "SIGTERM"}});
  runtime->Stop(std::chrono::milliseconds(flush_ms));
  log::Info("Stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // One malloc arena for all threads instead of glibc's one per thread (collections, sender
  // shards, HTTP workers): the agent allocates little and rarely contends, and per-thread arenas
  // each kept their freed memory (bench/agent/footprint.sh: 25.6 MiB RSS median with them,
  // 23.5 MiB without, node_exporter 20.6 MiB).
  mallopt(M_ARENA_MAX, 1);
  // Before any thread: the sources make their curl handles in their constructors, and libcurl's
  // lazy global initialisation is not thread-safe.
  curl_global_init(CURL_GLOBAL_DEFAULT);
  // Blocked before any thread starts, so every thread inherits the mask and sigwait gets them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  if (argc >= 2 && std::string_view(argv[1]) == "parse-nginx-log") {
    return crmscope::agent::RunParseNginxLog(argc - 1, argv + 1);
  }
  return Serve(std::vector<std::string>(argv + 1, argv + argc));
}
