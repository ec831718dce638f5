// The crmscope-agent configuration files the demo writes: one agent beside nginx (its access
// log, its stub_status and the host), one per CRM node (a scrape of its /metrics, a probe of its
// /healthz and its process), all shipping to the demo's collector. They are the examples a user
// copies for a real deployment, so they spell out what a real one needs.
#pragma once

#include <string>

namespace crmscope::launcher {

struct ProxyAgentSite {
  std::string collector_write_url;  // http://127.0.0.1:PORT/api/v1/write
  std::string access_log;           // nginx's access log
  std::string stub_status_url;
  int interval_s = 1;
};

struct NodeAgentSite {
  std::string collector_write_url;
  std::string node_name;  // node1
  int node_port = 0;
  std::string pid_file;  // the node's pid, for its process metrics
  int interval_s = 1;
};

std::string RenderProxyAgentConfig(const ProxyAgentSite& site);
std::string RenderNodeAgentConfig(const NodeAgentSite& site);

}  // namespace crmscope::launcher
