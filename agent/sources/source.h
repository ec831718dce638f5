// What every agent source implements, and where it puts what it sampled.
//
// A source is polled: every `interval` the agent's scheduler calls Collect(), and the source
// adds the current value of each of its series to the sink. Sources that watch a stream (the
// nginx access log) consume what arrived since the last call and report their cumulative
// counters and histograms, as an exporter answers a scrape. One source is never collected by two
// threads at once; different sources may be collected concurrently.
//
// Hot path: a source keeps its label sets between collections and passes them by reference; the
// sink interns them (hash of the sorted labels) so a steady source costs no allocation per sample.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/labels.h"
#include "common/sample.h"

namespace crmscope::agent {

// Prometheus's metric types, for the metadata remote write carries.
enum class MetricKind { kUnknown, kCounter, kGauge, kHistogram, kSummary, kInfo, kStateset };

class SampleSink {
 public:
  virtual ~SampleSink() = default;
  // One sample of the series `labels` (sorted, with __name__) at the collection's timestamp.
  virtual void Add(const Labels& labels, double value) = 0;
  // ... at an explicit timestamp (a scraped sample that carries one, honour_timestamps).
  virtual void AddAt(const Labels& labels, TimestampMs t, double value) = 0;
  // The type, help and unit of a metric family; once per family per collection is enough.
  virtual void Describe(std::string_view family, MetricKind kind, std::string_view help,
                        std::string_view unit) = 0;
};

class Source {
 public:
  virtual ~Source() = default;
  // Names the source in logs and in the agent's own metrics ("nginx_log:/var/log/access.log").
  virtual std::string_view name() const = 0;
  // Adds every current sample to `sink`, stamped `now` unless a sample says otherwise. Must
  // return within the source's configured timeout; failures show as samples (up=0,
  // probe_success=0) and in the agent's own metrics, never as exceptions.
  virtual void Collect(TimestampMs now, SampleSink& sink) = 0;
};

}  // namespace crmscope::agent
