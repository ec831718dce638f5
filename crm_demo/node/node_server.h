// crm-node's HTTP service: CivetWeb worker threads, each request routed by template to the CRM
// API, the fault injector's effects applied first, and the instrumentation around it all.
//
// Per request: route match (no allocation), fault effects (one atomic load when none is
// active), the handler, a response with Server-Timing ("cache;dur=0.012, db;dur=1.532", in ms)
// and X-Crm-Node (which node answered, for checking a balancer), then the HTTP and stage
// metrics. With metrics off, no clock is read and no metric touched; /metrics still answers with
// the scrape-time families (process_*, crm_cache_*).
//
// Admin requests (/admin/faults) are left out of every metric, so nothing in /metrics tells
// that a fault was injected.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace crmscope::crm {

struct ServeOptions {
  std::string db_path;
  std::string listen_address = "127.0.0.1:0";  // host:port; port 0 picks a free one
  std::string node_name = "node1";
  std::string cache_spec = "lru";  // lru | lfu | off | redis://host:port
  size_t cache_capacity = 10000;
  std::chrono::milliseconds cache_ttl{60000};
  int threads = 16;
  std::string admin_token;  // empty: the fault API answers 403
  bool metrics = true;
  // CivetWeb keeps a worker thread on an idle keep-alive connection until this runs out, so it
  // bounds how long idle clients can hold workers. A proxy's upstream keepalive_timeout should be
  // shorter, so the proxy, not the node, closes idle connections (no request sent into a
  // connection the node has just closed).
  int keep_alive_timeout_ms = 5000;
};

class NodeServer {
 public:
  // Opens the database (which must have been seeded), the cache and the listener. nullptr with
  // *error when any of them fails.
  static std::unique_ptr<NodeServer> Start(const ServeOptions& options, std::string* error);
  // Stops serving, waits for requests in flight, then ends active faults (recreating a dropped
  // index, releasing the lock).
  ~NodeServer();
  NodeServer(const NodeServer&) = delete;
  NodeServer& operator=(const NodeServer&) = delete;

  int port() const;

  class Impl;
  explicit NodeServer(std::unique_ptr<Impl> impl);  // use Start()

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace crmscope::crm
