// Ships samples to one Prometheus remote-write 1.0 endpoint without losing them: every Append()
// goes to a durable on-disk queue first (durable_queue.h), and a background reader hands the
// queued samples to `max_shards` concurrent senders, a series always to the same shard so its
// samples arrive in order. Each shard batches by size (max_samples_per_send) and age
// (batch_send_deadline), and retries a batch with exponential backoff and jitter on network
// errors, 5xx and 429 (waiting as long as Retry-After says), until it is delivered; on any other
// non-2xx answer the batch can never succeed, so it is dropped, counted as failed and logged.
// The queue position up to which everything was delivered is persisted, so after a restart
// (kill -9 included) sending resumes there: at most the batches in flight are sent twice, which
// remote-write receivers accept (an identical sample is stored once).
//
// Configured as Prometheus's remote_write items are (same key names, strict YAML):
//   - url: http://collector:9300/api/v1/write
//     name: central                  # metrics label remote_name and queue directory name
//     remote_timeout: 30s
//     bearer_token: s3cret           # or bearer_token_file: /etc/crmscope/token
//     headers: {X-Scope-OrgID: crm}
//     queue_config: {capacity: 10000, max_shards: 4, max_samples_per_send: 2000,
//                    batch_send_deadline: 5s, min_backoff: 30ms, max_backoff: 5s,
//                    retry_on_http_429: true}
//     queue: {path: /var/lib/crmscope/queue/central, max_bytes: 256MB}   # crmscope's own
// external_labels come from the enclosing config's global section, as in Prometheus.
//
// Metrics, on the given registry, each with labels remote_name and url:
//   <prefix>_samples_sent_total, _samples_failed_total (non-recoverable answers),
//   _samples_retried_total, _samples_dropped_total (the queue was full; oldest data went),
//   _sent_bytes_total, _queue_bytes, _send_duration_seconds (histogram, per HTTP attempt).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/labels.h"
#include "exporters/remote_write/codec.h"

namespace YAML {
class Node;
}
namespace prometheus {
class Registry;
}

namespace crmscope::remote_write {

struct QueueSenderConfig {
  std::string name;  // default: "rw-" and 6 hex digits of a hash of the url
  std::string url;
  std::string bearer_token;
  std::vector<std::pair<std::string, std::string>> headers;
  Labels external_labels;  // added to a series that lacks the label, as Prometheus does
  int64_t timeout_ms = 30000;  // remote_timeout: one HTTP attempt, connect to last byte

  std::string queue_dir;  // "": the caller's default (the collector: <storage.path>/forward/<name>)
  uint64_t max_bytes = 256ULL << 20;

  // Shards are fixed at max_shards: each is a thread and a keep-alive connection, and an agent
  // stays small by not growing them (Prometheus resizes between min_shards and max_shards).
  int max_shards = 4;
  int min_shards = 1;              // accepted for Prometheus compatibility, must be <= max_shards
  int capacity = 10000;            // samples buffered per shard before the reader waits
  int max_samples_per_send = 2000;
  int64_t batch_send_deadline_ms = 5000;
  int64_t min_backoff_ms = 30;
  int64_t max_backoff_ms = 5000;
  bool retry_on_http_429 = true;  // Prometheus 2.42 defaults to false; losing data is worse
};

// The name of an endpoint configured without one: "rw-" and 6 hex digits of a hash of its url,
// the same on every run (Prometheus also derives it from a hash).
std::string DefaultRemoteName(std::string_view url);

// Parses one remote_write list item into *out (which keeps its other fields, e.g. external
// labels); a missing name becomes DefaultRemoteName(url). Errors read "LINE:COL: message" with
// 1-based positions; unknown keys are errors.
// A relative bearer_token_file is taken relative to base_dir (the config file's directory).
bool ParseQueueSenderConfig(const YAML::Node& item, QueueSenderConfig* out, std::string* error,
                            std::string_view base_dir = {});

class QueueSender {
 public:
  struct Stats {
    uint64_t samples_sent = 0;
    uint64_t samples_failed = 0;   // dropped on a non-recoverable answer (4xx other than 429)
    uint64_t samples_retried = 0;  // counted once per retried attempt
    uint64_t samples_dropped = 0;  // deleted unsent because the queue reached max_bytes
    uint64_t queue_bytes = 0;  // of the on-disk queue not yet delivered
  };

  // Opens (creating) the queue in config.queue_dir and starts sending what it holds. Metrics go
  // to `registry` (which must outlive the sender), named <metric_prefix>_samples_sent_total etc.;
  // with a null registry they are kept privately and read through stats().
  static std::unique_ptr<QueueSender> Open(const QueueSenderConfig& config,
                                           prometheus::Registry* registry,
                                           std::string_view metric_prefix, std::string* error);
  ~QueueSender();  // Close(0) unless closed
  QueueSender(const QueueSender&) = delete;
  QueueSender& operator=(const QueueSender&) = delete;

  // Queues a batch; it survives kill -9 once this returns true. Thread-safe. Labels must be
  // sorted (common/labels.h). Fails on an I/O error, a batch larger than max_bytes, or after
  // Close().
  bool Append(const WriteRequest& batch, std::string* error);

  // Sends what is queued for up to flush_deadline, then stops; what was not delivered stays in
  // the queue for the next Open.
  void Close(std::chrono::milliseconds flush_deadline);

  Stats stats() const;
  const QueueSenderConfig& config() const;

  struct Impl;

 private:
  explicit QueueSender(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace crmscope::remote_write
