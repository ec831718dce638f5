// The live table's figures. Nodes: request rate, 5xx share and latency quantiles from the deltas
// of their /metrics between two reports; availability from /healthz probes in between. Proxy:
// the same figures from the nginx access log lines written in between (exact quantiles of
// $request_time) and /healthz probes through nginx.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "crm_demo/launcher/access_log.h"
#include "crm_demo/launcher/http_client.h"
#include "crm_demo/launcher/live_table.h"
#include "crm_demo/launcher/node_traffic.h"

namespace crmscope::launcher {

struct MonitoredNode {
  std::string name;
  std::string url;  // http://127.0.0.1:PORT
};

class StackMonitor {
 public:
  StackMonitor(std::vector<MonitoredNode> nodes, std::string proxy_url, std::string access_log);

  // Scrapes every node and skips the log's existing lines: the first report covers only what
  // happens after this call.
  void Start(HttpClient& http);
  // One /healthz probe per node and one through the proxy.
  void Probe(HttpClient& http);
  // The rows since the last report (or Start), proxy first.
  std::vector<TableRow> Report(HttpClient& http);

 private:
  struct NodeState {
    MonitoredNode node;
    NodeTraffic last;
    bool scraped = false;
    int probes = 0, probes_ok = 0;
  };
  TableRow NodeRow(HttpClient& http, NodeState& state, double seconds);
  TableRow ProxyRow(double seconds);

  std::vector<NodeState> nodes_;
  std::string proxy_url_;
  AccessLogFollower access_log_;
  int proxy_probes_ = 0, proxy_probes_ok_ = 0;
  std::chrono::steady_clock::time_point last_report_;
};

}  // namespace crmscope::launcher
