// A SampleSink that writes Prometheus's text exposition format 0.0.4: # HELP and # TYPE once per
// family, then its series in the order they were added (a histogram's _bucket lines with le,
// then _sum and _count). For the one-shot replay of a log, not for the agent's hot path.
#pragma once

#include <string>
#include <string_view>

#include "agent/sources/source.h"

namespace crmscope::agent::nginx_log {

class TextExpositionSink final : public SampleSink {
 public:
  void Add(const Labels& labels, double value) override;
  // Text format 0.0.4 carries a sample's own timestamp in milliseconds after the value.
  void AddAt(const Labels& labels, TimestampMs t, double value) override;
  void Describe(std::string_view family, MetricKind kind, std::string_view help,
                std::string_view unit) override;

  const std::string& text() const { return text_; }

 private:
  void AppendSeries(const Labels& labels, double value);
  std::string text_;
};

// A sample value as Prometheus prints one: integers without a fraction, +Inf, -Inf, NaN.
void AppendSampleValue(std::string& out, double value);

}  // namespace crmscope::agent::nginx_log
