// A pull parser for what a /metrics endpoint answers: the Prometheus text format 0.0.4 and
// OpenMetrics 1.0, picked from the response's Content-Type as Prometheus picks its parser.
//
// Next() walks the body one entry at a time: a sample, or a HELP / TYPE / UNIT line. Every view
// it hands out points into the body or into the parser's own buffers and stays valid until the
// next call. The parser allocates nothing per sample once its buffers have grown to the longest
// line (Reset() keeps them), so a scrape loop can run it over every response.
//
// Prometheus's semantics kept here:
//  - label values unescape \\, \" and \n; help text \\ and \n (OpenMetrics also \"); any other
//    backslash sequence stays as written, as Go's strings.Replacer leaves it;
//  - values as Go's strconv.ParseFloat reads them (NaN, +Inf, -Inf, exponents); every NaN comes
//    out with Go's math.NaN() bits, never the stale-marker bits;
//  - timestamps are integer milliseconds in 0.0.4 and float seconds in OpenMetrics (truncated to
//    milliseconds, as Prometheus converts them);
//  - OpenMetrics must end with "# EOF", allows no other comments, and its exemplars ("# {...} v")
//    are read and dropped. The `_created` samples of counters, histograms and summaries are
//    skipped: they are creation times, not series (prometheus/prometheus#6541; Prometheus 2.42
//    still stores them as series, later versions skip them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/sources/source.h"
#include "common/labels.h"
#include "common/sample.h"

namespace crmscope::agent {

enum class ExpositionFormat { kText004, kOpenMetrics1 };

// The format a Content-Type names: OpenMetrics for "application/openmetrics-text", the text
// format for anything else, an empty or unparsable header included.
ExpositionFormat ExpositionFormatFor(std::string_view content_type);

class ExpositionParser {
 public:
  enum class Entry { kSample, kHelp, kType, kUnit, kEnd, kError };

  ExpositionParser() = default;
  ExpositionParser(std::string_view body, ExpositionFormat format) { Reset(body, format); }
  // Starts over on another body, keeping the buffers grown so far.
  void Reset(std::string_view body, ExpositionFormat format);

  // The next entry; kEnd once the body is exhausted, kError (for good) on malformed input.
  Entry Next();

  // For kSample. series() is the sample's name and label set exactly as written, a cache key
  // that needs no label parsing to look up.
  std::string_view series() const { return series_; }
  std::string_view metric_name() const { return metric_name_; }
  // In the order written, values unescaped, without __name__.
  std::span<const LabelView> labels() const { return labels_; }
  double value() const { return value_; }
  bool has_timestamp() const { return has_timestamp_; }
  TimestampMs timestamp() const { return timestamp_; }

  // For kHelp, kType and kUnit: the family named, its type, its help text (unescaped) or unit.
  std::string_view family() const { return family_; }
  MetricKind kind() const { return kind_; }
  std::string_view text() const { return text_; }

  // For kError: "line N: what was wrong".
  const std::string& error() const { return error_; }
  // 1-based number of the line last read.
  size_t line_number() const { return line_number_; }

 private:
  // Each returns the entry a line makes, or nothing for a line that makes none (a blank line,
  // a plain comment, a skipped `_created` sample).
  std::optional<Entry> ParseLine(std::string_view line);
  std::optional<Entry> ParseTextComment(std::string_view line);
  std::optional<Entry> ParseOpenMetricsComment(std::string_view line);
  std::optional<Entry> ParseMetadata(Entry entry, std::string_view rest);
  std::optional<Entry> ParseSample(std::string_view line);
  bool IsOpenMetricsCreated() const;
  Entry Fail(std::string_view what);
  Entry Fail(std::string_view what, std::string_view token);

  std::string_view body_;
  ExpositionFormat format_ = ExpositionFormat::kText004;
  size_t pos_ = 0;
  size_t line_number_ = 0;
  bool eof_seen_ = false;
  bool failed_ = false;

  std::string_view series_;
  std::string_view metric_name_;
  std::vector<LabelView> labels_;
  double value_ = 0;
  bool has_timestamp_ = false;
  TimestampMs timestamp_ = 0;

  std::string_view family_;
  MetricKind kind_ = MetricKind::kUnknown;
  std::string_view text_;

  // The OpenMetrics family whose TYPE was read last, to recognise its `_created` samples.
  std::string_view om_family_;
  MetricKind om_family_kind_ = MetricKind::kUnknown;
  bool om_family_is_gauge_histogram_ = false;

  // Unescaped label values and help text of the current line; reserved to the line's length
  // before use, so views into it never move.
  std::string unescaped_;
  // Labels of an exemplar, parsed only to be checked.
  std::vector<LabelView> exemplar_labels_;
  std::string error_;
};

}  // namespace crmscope::agent
