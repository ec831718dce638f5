#include "crm_demo/launcher/node_traffic.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace crmscope::launcher {

namespace {

struct SampleLine {
  std::string_view name;
  std::vector<std::pair<std::string_view, std::string>> labels;
  double value = 0;

  const std::string* Label(std::string_view key) const {
    for (const auto& [k, v] : labels) {
      if (k == key) return &v;
    }
    return nullptr;
  }
};

double ParseValue(std::string_view text) {
  if (text == "+Inf") return std::numeric_limits<double>::infinity();
  if (text == "-Inf") return -std::numeric_limits<double>::infinity();
  double value = std::numeric_limits<double>::quiet_NaN();
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// A quoted label value starting after the opening quote; returns the position after the closing
// quote, or npos. Route templates contain braces, so values must be read, not searched.
size_t ReadQuoted(std::string_view line, size_t pos, std::string* out) {
  while (pos < line.size()) {
    char c = line[pos++];
    if (c == '"') return pos;
    if (c == '\\' && pos < line.size()) {
      char escaped = line[pos++];
      out->push_back(escaped == 'n' ? '\n' : escaped);
    } else {
      out->push_back(c);
    }
  }
  return std::string_view::npos;
}

bool ParseSampleLine(std::string_view line, SampleLine* sample) {
  if (line.empty() || line[0] == '#') return false;
  size_t pos = line.find_first_of("{ ");
  if (pos == std::string_view::npos) return false;
  sample->name = line.substr(0, pos);
  if (line[pos] == '{') {
    ++pos;
    while (pos < line.size() && line[pos] != '}') {
      size_t eq = line.find('=', pos);
      if (eq == std::string_view::npos || eq + 1 >= line.size() || line[eq + 1] != '"') {
        return false;
      }
      std::string value;
      std::string_view key = line.substr(pos, eq - pos);
      pos = ReadQuoted(line, eq + 2, &value);
      if (pos == std::string_view::npos) return false;
      sample->labels.emplace_back(key, std::move(value));
      if (pos < line.size() && line[pos] == ',') ++pos;
    }
    ++pos;  // '}'
  }
  while (pos < line.size() && line[pos] == ' ') ++pos;
  size_t end = line.find(' ', pos);
  sample->value = ParseValue(line.substr(pos, end == std::string_view::npos ? end : end - pos));
  return !std::isnan(sample->value);
}

bool IsLauncherRoute(const SampleLine& sample) {
  const std::string* route = sample.Label("route");
  return route != nullptr && (*route == "/metrics" || *route == "/healthz");
}

}  // namespace

NodeTraffic ParseNodeTraffic(std::string_view exposition) {
  NodeTraffic traffic;
  while (!exposition.empty()) {
    size_t newline = exposition.find('\n');
    std::string_view line = exposition.substr(0, newline);
    exposition.remove_prefix(newline == std::string_view::npos ? exposition.size() : newline + 1);
    SampleLine sample;
    if (!ParseSampleLine(line, &sample) || IsLauncherRoute(sample)) continue;
    if (sample.name == "http_requests_total") {
      traffic.requests += sample.value;
      const std::string* code = sample.Label("code");
      if (code != nullptr && !code->empty() && (*code)[0] == '5') {
        traffic.server_errors += sample.value;
      }
    } else if (sample.name == "http_request_duration_seconds_bucket") {
      const std::string* le = sample.Label("le");
      if (le != nullptr) traffic.buckets[ParseValue(*le)] += sample.value;
    }
  }
  return traffic;
}

NodeTraffic TrafficDelta(const NodeTraffic& now, const NodeTraffic& before) {
  auto delta = [](double a, double b) { return a >= b ? a - b : a; };
  NodeTraffic out;
  out.requests = delta(now.requests, before.requests);
  out.server_errors = delta(now.server_errors, before.server_errors);
  bool reset = now.requests < before.requests;
  for (const auto& [le, count] : now.buckets) {
    auto it = before.buckets.find(le);
    out.buckets[le] = reset || it == before.buckets.end() ? count : delta(count, it->second);
  }
  return out;
}

double HistogramQuantile(double q, const std::map<double, double>& buckets) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (buckets.empty() || std::isnan(q)) return nan;
  double total = buckets.rbegin()->second;
  if (!std::isinf(buckets.rbegin()->first) || total <= 0) return nan;
  if (q <= 0) return 0;
  double rank = std::min(q, 1.0) * total;
  double lower_bound = 0, lower_count = 0;
  for (const auto& [upper_bound, count] : buckets) {
    if (count >= rank) {
      if (std::isinf(upper_bound)) return lower_bound;
      if (count == lower_count) return upper_bound;
      return lower_bound +
             (upper_bound - lower_bound) * (rank - lower_count) / (count - lower_count);
    }
    lower_bound = upper_bound;
    lower_count = count;
  }
  return lower_bound;
}

}  // namespace crmscope::launcher
