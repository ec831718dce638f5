// The sender's metrics on a prometheus-cpp registry (names in queue_sender.h), modelled on
// Prometheus's prometheus_remote_storage_* family. Internal to the sender.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
}  // namespace prometheus

namespace crmscope::remote_write {

struct SenderMetrics {
  // A null registry keeps the metrics in a private one, so they still count for stats().
  SenderMetrics(prometheus::Registry* registry, std::string_view prefix,
                const std::string& remote_name, const std::string& url);
  ~SenderMetrics();

  std::shared_ptr<prometheus::Registry> own_registry;
  prometheus::Counter* samples_sent;
  prometheus::Counter* samples_failed;
  prometheus::Counter* samples_retried;
  prometheus::Counter* samples_dropped;
  prometheus::Counter* sent_bytes;
  prometheus::Gauge* queue_bytes;
  prometheus::Histogram* send_duration;
};

}  // namespace crmscope::remote_write
