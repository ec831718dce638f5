#include "exporters/remote_write/sender_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace crmscope::remote_write {

namespace {

// Several senders share one registry (one per endpoint): the registry hands back the existing
// family when name and help match, and each sender adds its own label set to it.
prometheus::Counter* AddCounter(prometheus::Registry& registry, std::string_view prefix,
                                std::string_view suffix, std::string_view help,
                                const prometheus::Labels& labels) {
  auto& family = prometheus::BuildCounter()
                     .Name(std::string(prefix) + std::string(suffix))
                     .Help(std::string(help))
                     .Register(registry);
  return &family.Add(labels);
}

}  // namespace

SenderMetrics::SenderMetrics(prometheus::Registry* registry, std::string_view prefix,
                             const std::string& remote_name, const std::string& url) {
  if (!registry) {
    own_registry = std::make_shared<prometheus::Registry>();
    registry = own_registry.get();
  }
  const prometheus::Labels labels = {{"remote_name", remote_name}, {"url", url}};
  samples_sent = AddCounter(*registry, prefix, "_samples_sent_total",
                            "Total number of samples successfully sent to remote storage.", labels);
  samples_failed = AddCounter(
      *registry, prefix, "_samples_failed_total",
      "Total number of samples which failed on send to remote storage, non-recoverable errors.",
      labels);
  samples_retried = AddCounter(
      *registry, prefix, "_samples_retried_total",
      "Total number of samples which failed on send to remote storage but were retried because "
      "the send error was recoverable.",
      labels);
  samples_dropped = AddCounter(
      *registry, prefix, "_samples_dropped_total",
      "Total number of samples deleted from the on-disk queue unsent because it reached max_bytes.",
      labels);
  sent_bytes = AddCounter(*registry, prefix, "_sent_bytes_total",
                          "The total number of bytes of data (compressed) sent by the queue.",
                          labels);
  queue_bytes = &prometheus::BuildGauge()
                     .Name(std::string(prefix) + "_queue_bytes")
                     .Help("Bytes held by the on-disk queue of samples not yet delivered.")
                     .Register(*registry)
                     .Add(labels);
  send_duration =
      &prometheus::BuildHistogram()
           .Name(std::string(prefix) + "_send_duration_seconds")
           .Help("Duration of send calls to the remote storage, one per HTTP attempt.")
           .Register(*registry)
           .Add(labels, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1,
                                                                 0.25, 0.5, 1, 2.5, 5, 10, 25, 60});
}

SenderMetrics::~SenderMetrics() = default;

}  // namespace crmscope::remote_write
