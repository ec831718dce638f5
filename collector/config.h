// The collector's settings: command-line flags, named and spelled as Prometheus's
// (--web.listen-address, --storage.retention.time, ...; "--flag=value" or "--flag value"),
// and the YAML file given by --config.file for what does not fit on a command line.
//
//   remote_write_receiver:
//     bearer_tokens: [ "secret1" ]      # or bearer_token_file: /etc/crmscope/token
//   limits:
//     max_body_bytes: 33554432          # compressed request body (also "32MB")
//     max_series: 0                     # 0: no limit
//     max_labels_per_series: 30
//     max_label_name_length: 1024
//     max_label_value_length: 4096
//   global:
//     external_labels: {collector: eu1}  # added to forwarded series lacking them
//   remote_write:                        # forward everything ingested, as Prometheus's items
//     - url: http://prometheus:9090/api/v1/write
//       name: central                    # queue in <storage.path>/forward/central
//       queue_config: {max_shards: 4, max_samples_per_send: 2000}
//
// A bad file fails start-up with "FILE:LINE:COL: problem", so typos never go unnoticed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/labels.h"
#include "exporters/remote_write/queue_sender.h"

namespace crmscope::collector {

struct RemoteWriteReceiverConfig {
  std::vector<std::string> bearer_tokens;  // empty: no authentication
};

// Limits on what one remote-write request may carry. For the label limits, 0 means no limit.
struct Limits {
  int64_t max_body_bytes = 32LL << 20;
  size_t max_series = 0;
  size_t max_labels_per_series = 30;
  size_t max_label_name_length = 1024;
  size_t max_label_value_length = 4096;
};

struct Config {
  RemoteWriteReceiverConfig remote_write_receiver;
  Limits limits;
  Labels external_labels;  // global.external_labels, sorted; copied into each remote_write item
  std::vector<remote_write::QueueSenderConfig> remote_write;  // names unique
};

// Parses YAML text; `filename` names it in errors and anchors relative paths
// (bearer_token_file), as Prometheus resolves paths against the config file's directory.
bool ParseConfig(std::string_view yaml, const std::string& filename, Config* config,
                 std::string* error);
bool LoadConfigFile(const std::string& filename, Config* config, std::string* error);

struct Flags {
  std::string listen_address = "127.0.0.1:9300";
  std::string storage_path = "data/";
  std::string config_file;
  int64_t retention_ms = 15LL * 24 * 3600 * 1000;
  int64_t retention_bytes = 0;
  int64_t out_of_order_window_ms = 0;
  bool fsync = false;
  int64_t max_body_bytes = -1;  // -1: not given, the config file's limit (or its default) holds
  std::string log_level = "info";
  // PromQL limits, named and defaulted as Prometheus's --query.* flags.
  int64_t query_timeout_ms = 2 * 60 * 1000;
  int64_t query_max_samples = 50'000'000;
  int64_t query_lookback_delta_ms = 5 * 60 * 1000;
  int64_t query_max_concurrency = 20;
};

enum class FlagAction { kRun, kHelp, kVersion };

// Parses argv[1..]. On failure returns false with *error worded like Prometheus's (kingpin's)
// "unknown long flag '--foo'"; the caller prints it and exits with status 2.
bool ParseFlags(int argc, const char* const* argv, Flags* flags, FlagAction* action,
                std::string* error);
std::string FlagsUsage(std::string_view program);

}  // namespace crmscope::collector
