// crmscope-collector: receives Prometheus remote write, stores samples, serves Prometheus's API.
//
// Start-up order follows Prometheus: the HTTP server comes first, so /-/healthy answers while
// the storage recovers; the API reports ready once the storage is open. SIGINT and SIGTERM shut
// down cleanly: the HTTP server stops (requests in flight finish), then the storage writes its
// checkpoint and closes.
#include <prometheus/registry.h>
#include <signal.h>

#include <chrono>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include "collector/api/api_server.h"
#include "common/log.h"
#include "collector/config.h"
#include "collector/remote/forwarder.h"
#include "collector/storage/storage.h"
#include "common/time.h"

namespace {

using namespace crmscope;

constexpr int kExitUsage = 2;
// How long shutdown waits for forwarded samples to be delivered; the rest stays queued on disk
// and goes out after the next start.
constexpr std::chrono::seconds kForwardFlushDeadline(5);

// Signals are taken synchronously by the main thread (sigwait), so shutdown runs as ordinary
// code. They are blocked before any thread starts, so every thread inherits the mask.
sigset_t BlockShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

bool LoadSettings(int argc, char** argv, collector::Flags* flags, collector::Config* config,
                  int* exit_code) {
  collector::FlagAction action;
  std::string error;
  if (!collector::ParseFlags(argc, argv, flags, &action, &error)) {
    std::fprintf(stderr, "crmscope-collector: error: %s, try --help\n", error.c_str());
    *exit_code = kExitUsage;
    return false;
  }
  if (action == collector::FlagAction::kHelp) {
    std::fputs(collector::FlagsUsage("crmscope-collector").c_str(), stdout);
    *exit_code = 0;
    return false;
  }
  if (action == collector::FlagAction::kVersion) {
    std::printf("crmscope-collector, version %s\n", CRMSCOPE_VERSION);
    *exit_code = 0;
    return false;
  }
  log::Level level = log::Level::kInfo;
  log::ParseLevel(flags->log_level, &level);
  log::SetLevel(level);
  if (!flags->config_file.empty() &&
      !collector::LoadConfigFile(flags->config_file, config, &error)) {
    log::Error("Error loading config", {{"err", error}});
    *exit_code = 1;
    return false;
  }
  if (flags->max_body_bytes >= 0) config->limits.max_body_bytes = flags->max_body_bytes;
  if (config->limits.max_body_bytes <= 0) {
    log::Error("--web.max-body-bytes must be greater than 0");
    *exit_code = kExitUsage;
    return false;
  }
  return true;
}

api::ApiOptions MakeApiOptions(const collector::Flags& flags, const collector::Config& config,
                               std::shared_ptr<prometheus::Registry> registry,
                               api::IngestListener* ingest_listener) {
  api::ApiOptions options;
  options.ingest_listener = ingest_listener;
  options.http.listen_address = flags.listen_address;
  options.limits.max_body_bytes = config.limits.max_body_bytes;
  options.limits.max_labels_per_series = config.limits.max_labels_per_series;
  options.limits.max_label_name_length = config.limits.max_label_name_length;
  options.limits.max_label_value_length = config.limits.max_label_value_length;
  options.bearer_tokens = config.remote_write_receiver.bearer_tokens;
  options.engine.timeout_ms = flags.query_timeout_ms;
  options.engine.max_samples = flags.query_max_samples;
  // 0 means the default, as Prometheus's engine reads it.
  if (flags.query_lookback_delta_ms > 0) {
    options.engine.lookback_delta_ms = flags.query_lookback_delta_ms;
  }
  options.engine.max_concurrent =
      static_cast<int>(std::min<int64_t>(flags.query_max_concurrency, 1 << 20));
  options.registry = std::move(registry);
  return options;
}

storage::Options MakeStorageOptions(const collector::Flags& flags, const collector::Config& config,
                                    std::shared_ptr<prometheus::Registry> registry) {
  storage::Options options;
  options.path = flags.storage_path;
  options.retention_ms = flags.retention_ms;
  options.retention_bytes = flags.retention_bytes;
  options.out_of_order_window_ms = flags.out_of_order_window_ms;
  options.fsync = flags.fsync;
  options.max_series = config.limits.max_series;
  options.registry = std::move(registry);
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  collector::Flags flags;
  collector::Config config;
  int exit_code = 0;
  if (!LoadSettings(argc, argv, &flags, &config, &exit_code)) return exit_code;

  sigset_t shutdown_signals = BlockShutdownSignals();
  log::Info("Starting crmscope-collector", {{"version", CRMSCOPE_VERSION}});
  auto registry = std::make_shared<prometheus::Registry>();

  std::string error;
  // Before the server, so nothing is accepted that is not forwarded.
  std::unique_ptr<collector::Forwarder> forwarder;
  if (!config.remote_write.empty()) {
    forwarder = collector::Forwarder::Open(config.remote_write, flags.storage_path, registry.get(),
                                           &error);
    if (!forwarder) {
      log::Error("Error starting remote write forwarding", {{"err", error}});
      return 1;
    }
  }
  std::unique_ptr<api::ApiServer> server =
      api::ApiServer::Start(MakeApiOptions(flags, config, registry, forwarder.get()), &error);
  if (!server) {
    log::Error("Error starting HTTP server", {{"err", error}});
    return 1;
  }
  log::Info("Listening",
            {{"address", flags.listen_address}, {"port", std::to_string(server->port())}});

  std::unique_ptr<storage::Storage> storage =
      storage::Storage::Open(MakeStorageOptions(flags, config, registry), &error);
  if (!storage) {
    log::Error("Opening storage failed", {{"path", flags.storage_path}, {"err", error}});
    return 1;
  }
  log::Info("Storage opened",
            {{"path", flags.storage_path}, {"retention", FormatDuration(flags.retention_ms)}});
  server->SetStorage(storage.get());
  log::Info("Server is ready to receive web requests.");

  int signal_number = 0;
  sigwait(&shutdown_signals, &signal_number);
  log::Warn("Received shutdown signal",
            {{"signal", signal_number == SIGINT ? "SIGINT" : "SIGTERM"}});
  server.reset();
  log::Info("HTTP server stopped");
  if (forwarder) {
    forwarder->Close(kForwardFlushDeadline);
    forwarder.reset();
    log::Info("Remote write forwarding stopped");
  }
  storage.reset();
  log::Info("See you next time!");
  return 0;
}
