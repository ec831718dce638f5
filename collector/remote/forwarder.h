// Forwards what the collector ingests to other remote-write engines (Prometheus, Mimir, Thanos
// Receive, VictoriaMetrics), one durable queue and sender per `remote_write:` item of the
// collector's config (exporters/remote_write/queue_sender.h), queued under
// <storage.path>/forward/<name>. This is how a deployment outgrows one collector.
//
// Only what the collector accepted is forwarded, in the order it was committed per series:
// - series over the receiver's limits, and series the storage refused whole (invalid labels,
//   series limit, older than retention), are left out;
// - a sample at or before the newest one already forwarded for its series is left out (counted in
//   crmscope_collector_forward_samples_skipped_total): it is a resend the collector took as a
//   duplicate, or out of order, and a receiver without out-of-order ingestion (Prometheus 2.42)
//   answers the whole batch with 400 for it, losing the good samples beside it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "collector/api/write_handler.h"
#include "collector/remote/newest_forwarded.h"
#include "exporters/remote_write/queue_sender.h"

namespace prometheus {
class Counter;
class Registry;
}  // namespace prometheus

namespace crmscope::collector {

class Forwarder : public api::IngestListener {
 public:
  // Opens a sender per config; a config without queue_dir queues under
  // <storage_path>/forward/<name>. Metrics are crmscope_collector_forward_* on `registry`.
  static std::unique_ptr<Forwarder> Open(std::vector<remote_write::QueueSenderConfig> configs,
                                         const std::string& storage_path,
                                         prometheus::Registry* registry, std::string* error);
  ~Forwarder() override;

  void Ingested(const remote_write::DecodedRequest& request, const std::vector<uint32_t>& series,
                const storage::AppendStats& stats) override;

  // Sends what is queued for up to flush_deadline; the rest waits on disk for the next start.
  void Close(std::chrono::milliseconds flush_deadline);

  const std::vector<std::unique_ptr<remote_write::QueueSender>>& senders() const { return senders_; }

 private:
  Forwarder() = default;
  std::vector<std::unique_ptr<remote_write::QueueSender>> senders_;
  NewestForwarded newest_;
  prometheus::Counter* skipped_ = nullptr;
};

}  // namespace crmscope::collector
