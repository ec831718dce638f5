#include "crm_demo/launcher/stack_monitor.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace crmscope::launcher {

namespace {

constexpr auto kProbeTimeout = std::chrono::milliseconds(1000);
constexpr auto kScrapeTimeout = std::chrono::milliseconds(2000);
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double Percent(int part, int whole) { return whole > 0 ? 100.0 * part / whole : kNaN; }

// Nearest-rank quantile of sorted values.
double SortedQuantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return kNaN;
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

// The launcher's own probes and nginx's status page are not the CRM's traffic.
bool IsLauncherPath(std::string_view uri) {
  return uri == "/healthz" || uri == "/metrics" || uri == "/nginx_status";
}

}  // namespace

StackMonitor::StackMonitor(std::vector<MonitoredNode> nodes, std::string proxy_url,
                           std::string access_log)
    : proxy_url_(std::move(proxy_url)), access_log_(std::move(access_log)) {
  for (MonitoredNode& node : nodes) nodes_.push_back({std::move(node), {}, false, 0, 0});
}

void StackMonitor::Start(HttpClient& http) {
  for (NodeState& state : nodes_) {
    HttpResult scrape = http.Get(state.node.url + "/metrics", kScrapeTimeout);
    state.scraped = scrape.ok();
    if (scrape.ok()) state.last = ParseNodeTraffic(scrape.body);
  }
  access_log_.SkipToEnd();
  last_report_ = std::chrono::steady_clock::now();
}

void StackMonitor::Probe(HttpClient& http) {
  for (NodeState& state : nodes_) {
    ++state.probes;
    if (http.Get(state.node.url + "/healthz", kProbeTimeout).ok()) ++state.probes_ok;
  }
  ++proxy_probes_;
  if (http.Get(proxy_url_ + "/healthz", kProbeTimeout).ok()) ++proxy_probes_ok_;
}

TableRow StackMonitor::NodeRow(HttpClient& http, NodeState& state, double seconds) {
  TableRow row{state.node.name, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN};
  row.availability_pct = Percent(state.probes_ok, state.probes);
  state.probes = state.probes_ok = 0;
  HttpResult scrape = http.Get(state.node.url + "/metrics", kScrapeTimeout);
  if (!scrape.ok()) {
    state.scraped = false;
    return row;
  }
  NodeTraffic now = ParseNodeTraffic(scrape.body);
  if (state.scraped) {
    NodeTraffic delta = TrafficDelta(now, state.last);
    row.requests_per_s = delta.requests / seconds;
    if (delta.requests > 0) row.error_pct = 100.0 * delta.server_errors / delta.requests;
    row.p50_ms = HistogramQuantile(0.50, delta.buckets) * 1000;
    row.p95_ms = HistogramQuantile(0.95, delta.buckets) * 1000;
    row.p99_ms = HistogramQuantile(0.99, delta.buckets) * 1000;
  }
  state.last = std::move(now);
  state.scraped = true;
  return row;
}

TableRow StackMonitor::ProxyRow(double seconds) {
  std::vector<double> times_ms;
  int server_errors = 0;
  access_log_.Poll([&](std::string_view line) {
    AccessLogRecord record;
    if (!ParseAccessLogLine(line, &record) || IsLauncherPath(record.uri)) return;
    times_ms.push_back(record.request_time * 1000);
    if (record.status >= 500) ++server_errors;
  });
  std::sort(times_ms.begin(), times_ms.end());
  int requests = static_cast<int>(times_ms.size());
  TableRow row{"proxy",
               requests / seconds,
               Percent(server_errors, requests),
               SortedQuantile(times_ms, 0.50),
               SortedQuantile(times_ms, 0.95),
               SortedQuantile(times_ms, 0.99),
               Percent(proxy_probes_ok_, proxy_probes_)};
  proxy_probes_ = proxy_probes_ok_ = 0;
  return row;
}

std::vector<TableRow> StackMonitor::Report(HttpClient& http) {
  auto now = std::chrono::steady_clock::now();
  double seconds = std::max(1e-3, std::chrono::duration<double>(now - last_report_).count());
  last_report_ = now;
  std::vector<TableRow> rows{ProxyRow(seconds)};
  for (NodeState& state : nodes_) rows.push_back(NodeRow(http, state, seconds));
  return rows;
}

}  // namespace crmscope::launcher
