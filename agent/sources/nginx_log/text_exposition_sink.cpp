#include "agent/sources/nginx_log/text_exposition_sink.h"

#include <charconv>
#include <cmath>

namespace crmscope::agent::nginx_log {

namespace {

std::string_view KindName(MetricKind kind) {
  switch (kind) {
    case MetricKind::kCounter:
      return "counter";
    case MetricKind::kGauge:
      return "gauge";
    case MetricKind::kHistogram:
      return "histogram";
    case MetricKind::kSummary:
      return "summary";
    default:
      return "untyped";
  }
}

// HELP escapes backslash and newline; label values also the double quote.
void AppendEscaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '"' && quote)
      out += "\\\"";
    else
      out.push_back(c);
  }
}

}  // namespace

void AppendSampleValue(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buffer[32];
    auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr);
  }
}

void TextExpositionSink::Describe(std::string_view family, MetricKind kind, std::string_view help,
                                  std::string_view /*unit: not part of format 0.0.4*/) {
  text_ += "# HELP ";
  text_ += family;
  text_ += ' ';
  AppendEscaped(text_, help, false);
  text_ += "\n# TYPE ";
  text_ += family;
  text_ += ' ';
  text_ += KindName(kind);
  text_ += '\n';
}

void TextExpositionSink::AppendSeries(const Labels& labels, double value) {
  text_ += MetricName(labels);
  bool first = true;
  for (const Label& label : labels) {
    if (label.name == kMetricNameLabel) continue;
    text_ += first ? '{' : ',';
    first = false;
    text_ += label.name;
    text_ += "=\"";
    AppendEscaped(text_, label.value, true);
    text_ += '"';
  }
  if (!first) text_ += '}';
  text_ += ' ';
  AppendSampleValue(text_, value);
}

void TextExpositionSink::Add(const Labels& labels, double value) {
  AppendSeries(labels, value);
  text_ += '\n';
}

void TextExpositionSink::AddAt(const Labels& labels, TimestampMs t, double value) {
  AppendSeries(labels, value);
  text_ += ' ';
  text_ += std::to_string(t);
  text_ += '\n';
}

}  // namespace crmscope::agent::nginx_log
