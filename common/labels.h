// Label sets: the identity of a time series. A series is named by its labels, the metric name
// being the value of the reserved label "__name__". Labels here are always kept sorted by name,
// which makes a label set's byte encoding canonical.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crmscope {

inline constexpr std::string_view kMetricNameLabel = "__name__";

struct Label {
  std::string name;
  std::string value;
  bool operator==(const Label&) const = default;
};

// A label set sorted by name, without duplicates: use SortLabels() after building one by hand.
using Labels = std::vector<Label>;

// A label that points into memory owned by someone else (a decoded request, say).
struct LabelView {
  std::string_view name;
  std::string_view value;
};

void SortLabels(Labels& labels);
Labels LabelsFromViews(const LabelView* begin, const LabelView* end);

// The value of `name`, or "" where the label is absent (Prometheus treats both alike).
std::string_view GetLabel(const Labels& labels, std::string_view name);
inline std::string_view MetricName(const Labels& labels) { return GetLabel(labels, kMetricNameLabel); }

// Prometheus's text form: name{a="b", c="d"} with Go-style escaping of values.
std::string LabelsToString(const Labels& labels);

// Validation as the remote-write 1.0 specification asks. Return "" when valid, else a short
// human-readable reason naming the offending label.
bool IsValidMetricName(std::string_view name);   // [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsValidLabelName(std::string_view name);    // [a-zA-Z_][a-zA-Z0-9_]*
bool IsValidUtf8(std::string_view s);
// `labels` must be sorted by name.
std::string ValidateLabels(const Labels& labels);
std::string ValidateLabels(const LabelView* sorted, size_t n);

// A 64-bit hash of a sorted label set, equal for equal sets (and the same across runs), for hash
// maps that intern series. Not a checksum: do not persist it.
uint64_t HashLabels(const Labels& labels);
uint64_t HashLabels(const LabelView* sorted, size_t n);

}  // namespace crmscope
