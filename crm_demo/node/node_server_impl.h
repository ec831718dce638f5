// NodeServer's insides, shared by node_server.cpp (startup, CivetWeb callbacks, responses) and
// node_dispatch.cpp (routes, faults, the admin API).
#pragma once

#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <string_view>

#include "crm_demo/node/cache/customer_cache.h"
#include "crm_demo/node/crm_api.h"
#include "crm_demo/node/crm_metrics.h"
#include "crm_demo/node/crm_queries.h"
#include "crm_demo/node/fault_injector.h"
#include "crm_demo/node/node_server.h"
#include "exporters/instrumentation/http_server_metrics.h"
#include "exporters/instrumentation/process_collector.h"
#include "exporters/instrumentation/route_table.h"
#include "exporters/instrumentation/text_exposition.h"

struct mg_connection;
struct mg_context;

namespace crmscope::crm {

// Indexes into the instrumented route table, in its order.
enum RouteId : int {
  kRouteGetCustomer,
  kRouteSearchCustomers,
  kRouteCustomerOrders,
  kRouteCreateOrder,
  kRouteListTickets,
  kRouteCreateTicket,
  kRouteUpdateTicket,
  kRouteHealth,
  kRouteMetrics,
};

// The admin API has a table of its own, outside the instrumented one: its requests would name
// the moment a fault began, and even its zero-count series would tell it exists.
enum AdminRouteId : int { kRouteListFaults, kRouteAddFault, kRouteClearFaults };

struct NodeReply {
  int status = 200;
  std::string body;
  std::string_view content_type = "application/json";
  std::string_view extra_header_name;  // WWW-Authenticate on a 401, Allow on a 405
  std::string extra_header_value;
};

class NodeServer::Impl {
 public:
  explicit Impl(const ServeOptions& options);
  ~Impl();

  bool Open(std::string* error);  // database, cache, metrics, faults
  bool Listen(std::string* error);
  void StopListening();

  int HandleRequest(mg_connection* conn);
  void WorkerThreadStarted();
  void WorkerThreadStopped();
  void ConnectionOpened();
  void ConnectionClosed();

  int port = 0;

 private:
  NodeReply Dispatch(mg_connection* conn, const instrumentation::RouteMatch& match,
                     RequestStages* stages);
  NodeReply CallApi(mg_connection* conn, const instrumentation::RouteMatch& match,
                    RequestStages* stages);
  NodeReply HandleAdmin(mg_connection* conn, const instrumentation::RouteMatch& match);
  void Send(mg_connection* conn, const NodeReply& reply, const RequestStages& stages);
  void Observe(const instrumentation::RouteMatch& match, int status, const RequestStages& stages,
               SteadyClock::time_point start);

  const ServeOptions options_;
  const instrumentation::RouteTable routes_;
  const instrumentation::RouteTable admin_routes_;
  std::unique_ptr<ConnectionPool> pool_;
  std::unique_ptr<CustomerCache> cache_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<instrumentation::HttpServerMetrics> http_metrics_;
  std::unique_ptr<CrmMetrics> crm_metrics_;
  std::unique_ptr<CrmApi> api_;
  std::shared_ptr<instrumentation::ProcessCollector> process_collector_;
  std::shared_ptr<CacheCollector> cache_collector_;
  instrumentation::MetricsEndpoint metrics_endpoint_;
  std::unique_ptr<FaultInjector> faults_;
  mg_context* context_ = nullptr;
};

}  // namespace crmscope::crm
