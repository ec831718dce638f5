// The nginx.conf the demo runs nginx with: an unprivileged prefix install (pid, temp files and
// logs inside the run directory, listening on loopback), one upstream group of crm-nodes with
// the chosen balancing method, keep-alive connections to them, stub_status for 127.0.0.1 only,
// and the access log of access_log.h.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace crmscope::launcher {

// --lb: round_robin | weighted:3,2,1 | random | least_conn | ip_hash
struct LoadBalancing {
  enum class Method { kRoundRobin, kWeighted, kRandom, kLeastConn, kIpHash };
  Method method = Method::kRoundRobin;
  std::vector<int> weights;  // kWeighted: one per node, in node order
};

// `nodes` checks that weighted: names one weight per node.
bool ParseLoadBalancing(std::string_view text, int nodes, LoadBalancing* lb, std::string* error);
std::string LoadBalancingName(const LoadBalancing& lb);  // as --lb takes it

struct NginxSite {
  std::string prefix;           // absolute; nginx -p
  int listen_port = 0;          // on 127.0.0.1
  std::vector<int> node_ports;  // crm-nodes on 127.0.0.1, in node order
  LoadBalancing lb;
  std::string access_log;  // absolute paths
  std::string error_log;
  int worker_processes = 1;
  // Set when the launcher runs as root: nginx's workers would otherwise switch to "nobody" and
  // lose access to the run directory.
  std::string run_as_user, run_as_group;
};

std::string RenderNginxConfig(const NginxSite& site);

inline constexpr std::string_view kStubStatusPath = "/nginx_status";

}  // namespace crmscope::launcher
