#include "bench/ingest/crm_series.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <string>

namespace crmscope::bench {
namespace {

struct Route {
  const char* path;
  std::vector<const char*> methods;
  double rate;      // requests per second on one node, all methods together
  double median_s;  // typical latency
};

// The request mix of a CRM's REST API: list and search endpoints read, :id endpoints edit.
const std::vector<Route>& Routes() {
  static const std::vector<Route> routes = {
      {"/api/v1/accounts", {"GET", "POST"}, 6, 0.045},
      {"/api/v1/accounts/:id", {"GET", "PUT", "DELETE"}, 9, 0.018},
      {"/api/v1/contacts", {"GET", "POST"}, 8, 0.05},
      {"/api/v1/contacts/:id", {"GET", "PUT", "DELETE"}, 12, 0.015},
      {"/api/v1/leads", {"GET", "POST"}, 4, 0.04},
      {"/api/v1/opportunities", {"GET", "POST"}, 3, 0.06},
      {"/api/v1/opportunities/:id", {"GET", "PUT"}, 4, 0.02},
      {"/api/v1/cases", {"GET", "POST"}, 2, 0.05},
      {"/api/v1/activities", {"GET", "POST"}, 7, 0.03},
      {"/api/v1/search", {"GET"}, 5, 0.12},
      {"/api/v1/reports/:id", {"GET"}, 0.5, 0.9},
      {"/login", {"POST"}, 1.5, 0.25},
  };
  return routes;
}

struct CodeShare {
  const char* code;
  double share;
};

std::vector<CodeShare> CodesOf(const std::string& method) {
  if (method == "GET") return {{"200", 0.9}, {"304", 0.05}, {"404", 0.04}, {"500", 0.002}};
  if (method == "POST") return {{"201", 0.9}, {"400", 0.07}, {"409", 0.02}, {"500", 0.002}};
  if (method == "PUT") return {{"200", 0.92}, {"400", 0.05}, {"404", 0.03}, {"500", 0.002}};
  return {{"204", 0.95}, {"404", 0.05}, {"500", 0.002}};
}

// Prometheus client libraries' default buckets, as most CRM services leave them.
constexpr std::array<double, 11> kBucketBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                  0.5,   1,    2.5,   5,    10};
constexpr size_t kNumBuckets = kBucketBounds.size() + 1;  // + "+Inf"

std::string FormatLe(size_t bucket) {
  if (bucket == kBucketBounds.size()) return "+Inf";
  char text[32];
  std::snprintf(text, sizeof text, "%g", kBucketBounds[bucket]);
  return text;
}

// Gauges of one node: name, an extra label, its typical level, whether its values are integers.
struct GaugeSpec {
  const char* name;
  const char* label_name;  // nullptr: none
  const char* label_value;
  double level;
  bool integer;
};
constexpr GaugeSpec kGauges[] = {
    {"http_requests_in_flight", nullptr, nullptr, 6, true},
    {"crm_active_sessions", nullptr, nullptr, 320, true},
    {"crm_cache_entries", "cache", "accounts", 52000, true},
    {"crm_cache_entries", "cache", "contacts", 126000, true},
    {"crm_cache_entries", "cache", "sessions", 8000, true},
    {"crm_cache_hit_ratio", "cache", "accounts", 0.93, false},
    {"crm_cache_hit_ratio", "cache", "contacts", 0.88, false},
    {"crm_cache_hit_ratio", "cache", "sessions", 0.99, false},
    {"crm_db_pool_connections", "state", "active", 12, true},
    {"crm_db_pool_connections", "state", "idle", 28, true},
    {"crm_queue_depth", "queue", "email", 40, true},
    {"crm_queue_depth", "queue", "sync", 150, true},
    {"crm_queue_depth", "queue", "webhooks", 8, true},
    {"process_open_fds", nullptr, nullptr, 210, true},
    {"process_resident_memory_bytes", nullptr, nullptr, 1.3e9, true},
};
constexpr double kCpuSecondsPerSecond = 0.45;

}  // namespace

CrmFleet::CrmFleet(size_t num_series, int64_t interval_ms, uint64_t seed)
    : interval_ms_(interval_ms), rng_(seed) {
  for (uint32_t node = 0; series_.size() < num_series; ++node) {
    // Prometheus spreads targets over the interval by a hash of the target; -3 leaves room for
    // jitter without reaching the next interval.
    node_offsets_ms_.push_back(static_cast<int64_t>(rng_() % static_cast<uint64_t>(interval_ms - 3)));
    AddNode(node, num_series - series_.size());
  }
}

void CrmFleet::AddNode(uint32_t node, size_t max_series) {
  char instance[48];
  std::snprintf(instance, sizeof instance, "crm-app-%04u.eu1.internal:9102", node + 1);
  const Labels common = {{"cluster", "crm-prod-eu1"}, {"instance", instance}, {"job", "crm-app"}};
  auto add = [&](const char* name, Labels extra, Kind kind, double rate, uint32_t histogram = 0,
                 uint32_t bucket = 0) {
    if (max_series == 0) return;
    --max_series;
    Labels labels = common;
    labels.push_back({std::string(kMetricNameLabel), name});
    labels.insert(labels.end(), extra.begin(), extra.end());
    SortLabels(labels);
    const double initial = kind == Kind::kGauge ? std::abs(rate) : 0;  // a gauge starts at its level
    series_.push_back({std::move(labels), kind, node, histogram, bucket, rate, initial});
  };
  // A node's load differs from its neighbours' by up to ±30%.
  const double load = std::uniform_real_distribution<double>(0.7, 1.3)(rng_);
  for (const Route& route : Routes()) {
    for (size_t m = 0; m < route.methods.size(); ++m) {
      const double method_share = m == 0 ? 0.7 : 0.3 / static_cast<double>(route.methods.size() - 1);
      const double share = route.methods.size() == 1 ? 1.0 : method_share;
      for (const CodeShare& code : CodesOf(route.methods[m])) {
        add("http_requests_total",
            {{"code", code.code}, {"method", route.methods[m]}, {"route", route.path}},
            Kind::kCounter, route.rate * load * share * code.share);
      }
    }
    const auto h = static_cast<uint32_t>(histograms_.size());
    histograms_.push_back({route.rate * load, std::log(route.median_s), 0.8,
                           std::vector<double>(kNumBuckets, 0.0)});
    for (size_t b = 0; b < kNumBuckets; ++b) {
      add("http_request_duration_seconds_bucket", {{"le", FormatLe(b)}, {"route", route.path}},
          Kind::kBucket, 0, h, static_cast<uint32_t>(b));
    }
    add("http_request_duration_seconds_sum", {{"route", route.path}}, Kind::kSum, 0, h);
    add("http_request_duration_seconds_count", {{"route", route.path}}, Kind::kCount, 0, h);
  }
  for (const GaugeSpec& gauge : kGauges) {
    Labels extra;
    if (gauge.label_name != nullptr) extra.push_back({gauge.label_name, gauge.label_value});
    add(gauge.name, std::move(extra), Kind::kGauge, gauge.integer ? gauge.level : -gauge.level);
  }
  add("process_cpu_seconds_total", {}, Kind::kFloatCounter, kCpuSecondsPerSecond * load);
}

void CrmFleet::ObserveLatencies(Histogram& histogram) {
  const double interval_s = static_cast<double>(interval_ms_) / 1000;
  const int n = std::poisson_distribution<int>(histogram.rate * interval_s)(rng_);
  std::lognormal_distribution<double> latency(histogram.log_median, histogram.log_spread);
  for (int i = 0; i < n; ++i) {
    const double seconds = latency(rng_);
    const auto first = std::lower_bound(kBucketBounds.begin(), kBucketBounds.end(), seconds);
    for (size_t b = static_cast<size_t>(first - kBucketBounds.begin()); b < kNumBuckets; ++b) {
      histogram.cumulative[b] += 1;
    }
    histogram.sum += seconds;
  }
  histogram.count += n;
}

double CrmFleet::NextValue(Series& s) {
  const double interval_s = static_cast<double>(interval_ms_) / 1000;
  switch (s.kind) {
    case Kind::kCounter:
      if (s.rate > 0) s.value += std::poisson_distribution<int>(s.rate * interval_s)(rng_);
      return s.value;
    case Kind::kFloatCounter:
      s.value += s.rate * interval_s * std::uniform_real_distribution<double>(0.7, 1.3)(rng_);
      return s.value;
    case Kind::kGauge: {
      // rate > 0: an integer gauge around that level; rate < 0: a ratio around -rate.
      const double level = std::abs(s.rate);
      const double drift = std::normal_distribution<double>(0, level * 0.02)(rng_);
      if (s.rate > 0) {
        s.value = std::max(0.0, std::round(s.value + drift + (level - s.value) * 0.1));
      } else {
        s.value = std::clamp(s.value + drift + (level - s.value) * 0.1, 0.0, 1.0);
      }
      return s.value;
    }
    case Kind::kBucket: return histograms_[s.histogram].cumulative[s.bucket];
    case Kind::kSum: return histograms_[s.histogram].sum;
    case Kind::kCount: return histograms_[s.histogram].count;
  }
  return 0;
}

void CrmFleet::Scrape(TimestampMs step_start_ms, std::vector<Sample>* out) {
  for (Histogram& histogram : histograms_) ObserveLatencies(histogram);
  std::vector<TimestampMs> node_times(node_offsets_ms_.size());
  std::uniform_int_distribution<int> jitter(-2, 2);
  for (size_t node = 0; node < node_times.size(); ++node) {
    node_times[node] = step_start_ms + node_offsets_ms_[node] + 2 + jitter(rng_);
  }
  out->resize(series_.size());
  for (size_t i = 0; i < series_.size(); ++i) {
    (*out)[i] = {node_times[series_[i].node], NextValue(series_[i])};
  }
}

}  // namespace crmscope::bench
