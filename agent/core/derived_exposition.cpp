#include "agent/core/derived_exposition.h"

#include <charconv>
#include <cmath>
#include <map>

namespace crmscope::agent {

namespace {

std::string_view TypeName(MetricKind kind) {
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

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The family a series belongs to, and the catalog entry describing it (null: untyped).
std::pair<std::string_view, const FamilyCatalog::Family*> FamilyOf(std::string_view name,
                                                                   const FamilyCatalog& catalog) {
  if (auto it = catalog.families.find(name); it != catalog.families.end()) {
    return {name, &it->second};
  }
  for (std::string_view suffix : {"_bucket", "_sum", "_count", "_total"}) {
    if (!EndsWith(name, suffix)) continue;
    std::string_view base = name.substr(0, name.size() - suffix.size());
    auto it = catalog.families.find(base);
    if (it == catalog.families.end()) continue;
    // Text format 0.0.4 names a counter's family with its _total: the series name itself.
    if (it->second.kind == MetricKind::kCounter) return {name, &it->second};
    if (suffix != "_total") return {base, &it->second};
  }
  return {name, nullptr};
}

void AppendEscaped(std::string_view value, bool quotes_too, std::string* out) {
  for (char c : value) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '\n') {
      *out += "\\n";
    } else if (c == '"' && quotes_too) {
      *out += "\\\"";
    } else {
      *out += c;
    }
  }
}

void AppendValue(double v, std::string* out) {
  if (std::isnan(v)) {
    *out += "NaN";
  } else if (std::isinf(v)) {
    *out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    *out += std::string_view(buf, std::to_chars(buf, buf + sizeof buf, v).ptr - buf);
  }
}

void AppendSeries(const remote_write::TimeSeries& series, std::string* out) {
  *out += MetricName(series.labels);
  bool first = true;
  for (const Label& label : series.labels) {
    if (label.name == kMetricNameLabel) continue;
    *out += first ? '{' : ',';
    first = false;
    *out += label.name;
    *out += "=\"";
    AppendEscaped(label.value, true, out);
    *out += '"';
  }
  if (!first) *out += '}';
  *out += ' ';
  AppendValue(series.samples.back().v, out);
  *out += '\n';
}

}  // namespace

void AppendExposition(const std::vector<const LatestCollection*>& collections, std::string* out) {
  struct Group {
    const FamilyCatalog::Family* family = nullptr;
    std::string lines;
  };
  // Ordered by family name, so the output is stable between scrapes.
  std::map<std::string, Group, std::less<>> groups;
  for (const LatestCollection* collection : collections) {
    for (const remote_write::TimeSeries& series : collection->batch.series) {
      if (series.samples.empty() || IsStaleNaN(series.samples.back().v)) continue;
      auto [name, family] = FamilyOf(MetricName(series.labels), collection->catalog);
      auto it = groups.find(name);
      if (it == groups.end()) it = groups.emplace(std::string(name), Group{family, {}}).first;
      AppendSeries(series, &it->second.lines);
    }
  }
  for (const auto& [name, group] : groups) {
    if (group.family != nullptr && !group.family->help.empty()) {
      *out += "# HELP " + name + ' ';
      AppendEscaped(group.family->help, false, out);
      *out += '\n';
    }
    *out += "# TYPE " + name + ' ';
    *out += TypeName(group.family != nullptr ? group.family->kind : MetricKind::kUnknown);
    *out += '\n';
    *out += group.lines;
  }
}

}  // namespace crmscope::agent
