// The collector's HTTP surface: routes requests to the remote-write receiver, Prometheus's
// series/labels/metadata API, PromQL queries (through the engine it owns), query exemplars and
// build info, /federate, /metrics and the health endpoints, and counts and times each request by
// route.
//
// The server can start before the storage is open (recovery may take a while): /-/healthy
// answers at once, everything needing storage answers 503 until SetStorage() is called, as
// Prometheus does during WAL replay. Destroy the ApiServer before the Storage it was given.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "exporters/http/http_server.h"
#include "collector/api/metrics_handler.h"
#include "collector/api/write_handler.h"
#include "collector/promql/engine.h"

namespace prometheus {
class Registry;
}
namespace crmscope::storage {
class Storage;
}

namespace crmscope::api {

// The HTTP layer lives in exporters/http, shared with the agent.
using http::HttpHandler;
using http::HttpRequest;
using http::HttpResponse;
using http::HttpServer;

struct ApiOptions {
  HttpServer::Options http;
  WriteLimits limits;
  std::vector<std::string> bearer_tokens;  // for /api/v1/write; empty: no authentication
  IngestListener* ingest_listener = nullptr;  // told of every committed write; must outlive the server
  // The PromQL engine's limits (--query.*); its lookback delta also bounds /federate.
  promql::EngineOptions engine;
  // Where the API's metrics go and what /metrics serves; share it with the Storage's options.
  std::shared_ptr<prometheus::Registry> registry;
};

class ApiServer {
 public:
  static std::unique_ptr<ApiServer> Start(ApiOptions options, std::string* error);
  ~ApiServer();  // stops the HTTP server, waiting for requests in flight
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Ready from now on: builds the PromQL engine over `storage`, which must outlive this server.
  // Call once.
  void SetStorage(storage::Storage* storage);
  int port() const { return http_->port(); }

 private:
  explicit ApiServer(ApiOptions options);
  HttpResponse Route(HttpRequest& request);

  ApiOptions options_;
  ApiMetrics metrics_;
  WriteHandler write_handler_;
  std::unique_ptr<promql::Engine> engine_;  // set before storage_, which publishes it
  std::atomic<storage::Storage*> storage_{nullptr};
  std::unique_ptr<HttpServer> http_;  // last: stopped first, while the rest is still alive
};

}  // namespace crmscope::api
