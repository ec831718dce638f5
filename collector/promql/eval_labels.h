// Label-set operations the evaluator needs, with the orderings, keys and text forms of
// Prometheus 2.42's model/labels package, and the collector of a node's output series.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "collector/promql/value.h"
#include "common/labels.h"

namespace crmscope::promql::eval {

// labels.Compare: pairwise by name, then by value; a prefix sorts first. Range query results
// are sorted this way.
int CompareLabels(const Labels& a, const Labels& b);
inline bool LabelsLess(const Labels& a, const Labels& b) { return CompareLabels(a, b) < 0; }

Labels WithoutMetricName(const Labels& labels);

// labels.String(): {__name__="up", job="crm"}, values quoted as Go's strconv.Quote; error
// messages about matching quote series this way.
std::string GoLabelsString(const Labels& labels);

// The identity two series share when they are matched or grouped together. With `keep`, the
// labels named in `sorted_names` (on(), by()); without, every label except those and __name__
// (ignoring(), without()), as Prometheus's signatureFunc and generateGroupingKey.
std::string LabelsKey(const Labels& labels, const std::vector<std::string>& sorted_names, bool keep);

// labels.Labels.MatchLabels: the labels an error message names as the match group.
Labels MatchLabels(const Labels& labels, const std::vector<std::string>& names, bool on);

// Builder.Keep / Builder.Del of a name list.
Labels KeepLabels(const Labels& labels, const std::vector<std::string>& names);
Labels DeleteLabels(const Labels& labels, const std::vector<std::string>& names);
// Sets `name` to `value`, or removes it when `value` is empty, keeping the set sorted.
void SetLabel(Labels& labels, const std::string& name, std::string_view value);

struct LabelsHash {
  size_t operator()(const Labels& labels) const { return HashLabels(labels); }
};

// A node's output series across the steps, keyed by label set, in order of first appearance
// (which an instant query returns as is: sort(), topk() and binary operators order their
// output). A series gets at most one point per step: a second one means the step's result held
// two series with one label set, which Prometheus refuses.
class SeriesBuilder {
 public:
  uint32_t Intern(const Labels& labels);
  uint32_t Intern(Labels&& labels);
  // Throws "vector cannot contain metrics with the same labelset" when the series already
  // has a point at t.
  void Add(uint32_t series, TimestampMs t, double v);
  size_t size() const { return series_.size(); }
  // The series with points, in order of first appearance.
  Matrix Take();

 private:
  Matrix series_;
  std::unordered_map<Labels, uint32_t, LabelsHash> index_;
};

// Matrix.ContainsSameLabelset.
bool ContainsSameLabelset(const Matrix& m);

}  // namespace crmscope::promql::eval
