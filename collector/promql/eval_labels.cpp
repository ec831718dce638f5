#include "collector/promql/eval_labels.h"

#include <algorithm>

#include "collector/promql/eval_error.h"
#include "collector/promql/go_format.h"

namespace crmscope::promql::eval {

namespace {

bool Contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Prometheus separates names and values with 0xff, a byte valid UTF-8 never holds.
constexpr char kSeparator = '\xff';

}  // namespace

int CompareLabels(const Labels& a, const Labels& b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (int c = a[i].name.compare(b[i].name); c != 0) return c < 0 ? -1 : 1;
    if (int c = a[i].value.compare(b[i].value); c != 0) return c < 0 ? -1 : 1;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

Labels WithoutMetricName(const Labels& labels) {
  Labels out;
  out.reserve(labels.size());
  for (const Label& l : labels) {
    if (l.name != kMetricNameLabel) out.push_back(l);
  }
  return out;
}

std::string GoLabelsString(const Labels& labels) {
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ", ";
    out += labels[i].name;
    out += '=';
    out += GoQuote(labels[i].value);
  }
  out += '}';
  return out;
}

std::string LabelsKey(const Labels& labels, const std::vector<std::string>& sorted_names, bool keep) {
  std::string key;
  size_t j = 0;
  for (const Label& l : labels) {
    while (j < sorted_names.size() && sorted_names[j] < l.name) ++j;
    bool named = j < sorted_names.size() && sorted_names[j] == l.name;
    bool include = keep ? named : !named && l.name != kMetricNameLabel;
    if (!include) continue;
    key += l.name;
    key += kSeparator;
    key += l.value;
    key += kSeparator;
  }
  return key;
}

Labels MatchLabels(const Labels& labels, const std::vector<std::string>& names, bool on) {
  Labels out;
  for (const Label& l : labels) {
    bool named = Contains(names, l.name);
    if (on == named && (on || l.name != kMetricNameLabel)) out.push_back(l);
  }
  return out;
}

Labels KeepLabels(const Labels& labels, const std::vector<std::string>& names) {
  Labels out;
  for (const Label& l : labels) {
    if (Contains(names, l.name)) out.push_back(l);
  }
  return out;
}

Labels DeleteLabels(const Labels& labels, const std::vector<std::string>& names) {
  Labels out;
  for (const Label& l : labels) {
    if (!Contains(names, l.name)) out.push_back(l);
  }
  return out;
}

void SetLabel(Labels& labels, const std::string& name, std::string_view value) {
  auto it = std::lower_bound(labels.begin(), labels.end(), name,
                             [](const Label& l, const std::string& n) { return l.name < n; });
  bool present = it != labels.end() && it->name == name;
  if (value.empty()) {
    if (present) labels.erase(it);
  } else if (present) {
    it->value = std::string(value);
  } else {
    labels.insert(it, Label{name, std::string(value)});
  }
}

uint32_t SeriesBuilder::Intern(const Labels& labels) {
  auto it = index_.find(labels);
  if (it != index_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(series_.size());
  series_.push_back(MatrixSeries{labels, {}});
  index_.emplace(labels, id);
  return id;
}

uint32_t SeriesBuilder::Intern(Labels&& labels) {
  auto it = index_.find(labels);
  if (it != index_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(series_.size());
  series_.push_back(MatrixSeries{labels, {}});
  index_.emplace(std::move(labels), id);
  return id;
}

void SeriesBuilder::Add(uint32_t series, TimestampMs t, double v) {
  std::vector<Sample>& points = series_[series].points;
  if (!points.empty() && points.back().t == t) ThrowExecution(kSameLabelsetError);
  points.push_back({t, v});
}

Matrix SeriesBuilder::Take() {
  index_.clear();
  std::erase_if(series_, [](const MatrixSeries& s) { return s.points.empty(); });
  return std::move(series_);
}

bool ContainsSameLabelset(const Matrix& m) {
  if (m.size() < 2) return false;
  std::unordered_map<Labels, bool, LabelsHash> seen;
  seen.reserve(m.size());
  for (const MatrixSeries& s : m) {
    if (!seen.emplace(s.metric, true).second) return true;
  }
  return false;
}

}  // namespace crmscope::promql::eval
