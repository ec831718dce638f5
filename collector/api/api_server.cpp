#include "collector/api/api_server.h"

#include <chrono>
#include <functional>

#include "collector/api/api_params.h"
#include "collector/api/buildinfo_handler.h"
#include "collector/api/exemplars_handler.h"
#include "collector/api/federate_handler.h"
#include "collector/api/metadata_handler.h"
#include "collector/api/query_handlers.h"
#include "collector/api/series_handlers.h"
#include "common/time.h"

namespace crmscope::api {

namespace {

constexpr std::string_view kLabelValuesPrefix = "/api/v1/label/";
constexpr std::string_view kLabelValuesSuffix = "/values";

// A route: its pattern (the `handler` label of the metrics, as Prometheus names its routes),
// the methods it answers and whether it needs the storage.
struct RouteSpec {
  std::string_view pattern;
  std::vector<std::string_view> methods;
  bool needs_storage;
};

const std::vector<RouteSpec>& Routes() {
  static const std::vector<RouteSpec> routes = {
      {"/api/v1/write", {"POST"}, true},         {"/api/v1/series", {"GET", "POST"}, true},
      {"/api/v1/labels", {"GET", "POST"}, true}, {"/api/v1/label/:name/values", {"GET"}, true},
      {"/api/v1/metadata", {"GET"}, true},       {"/api/v1/query", {"GET", "POST"}, true},
      {"/api/v1/query_range", {"GET", "POST"}, true},
      {"/api/v1/query_exemplars", {"GET", "POST"}, true},
      // Prometheus answers its whole API 503 until ready, build info included.
      {"/api/v1/status/buildinfo", {"GET"}, true}, {"/federate", {"GET"}, true},
      {"/metrics", {"GET"}, false},
      {"/-/healthy", {"GET", "HEAD"}, false},    {"/-/ready", {"GET", "HEAD"}, true},
  };
  return routes;
}

// Matches a path to a route; for label values also extracts the name.
const RouteSpec* FindRoute(std::string_view path, std::string_view* label_name) {
  if (path.size() > kLabelValuesPrefix.size() + kLabelValuesSuffix.size() &&
      path.substr(0, kLabelValuesPrefix.size()) == kLabelValuesPrefix &&
      path.substr(path.size() - kLabelValuesSuffix.size()) == kLabelValuesSuffix) {
    std::string_view name =
        path.substr(kLabelValuesPrefix.size(),
                    path.size() - kLabelValuesPrefix.size() - kLabelValuesSuffix.size());
    if (name.find('/') == std::string_view::npos) {
      *label_name = name;
      path = "/api/v1/label/:name/values";
    }
  }
  for (const RouteSpec& route : Routes()) {
    if (route.pattern == path) return &route;
  }
  return nullptr;
}

HttpResponse MethodNotAllowed(const RouteSpec& route) {
  HttpResponse response = HttpResponse::Text(405, "Method Not Allowed");
  std::string allow;
  for (std::string_view method : route.methods) {
    allow += allow.empty() ? "" : ", ";
    allow += method;
  }
  response.headers.emplace_back("Allow", allow);
  return response;
}

}  // namespace

ApiServer::ApiServer(ApiOptions options)
    : options_(std::move(options)),
      metrics_(options_.registry),
      write_handler_(options_.limits, options_.bearer_tokens, &metrics_, options_.ingest_listener) {}

std::unique_ptr<ApiServer> ApiServer::Start(ApiOptions options, std::string* error) {
  std::unique_ptr<ApiServer> server(new ApiServer(std::move(options)));
  server->http_ = HttpServer::Start(
      server->options_.http, [s = server.get()](HttpRequest& r) { return s->Route(r); }, error);
  if (!server->http_) return nullptr;
  return server;
}

ApiServer::~ApiServer() { http_.reset(); }

void ApiServer::SetStorage(storage::Storage* storage) {
  engine_ = std::make_unique<promql::Engine>(*storage, options_.engine);
  storage_.store(storage);
}

HttpResponse ApiServer::Route(HttpRequest& request) {
  auto started = std::chrono::steady_clock::now();
  std::string_view label_name;
  const RouteSpec* route = FindRoute(request.path(), &label_name);
  if (!route) return HttpResponse::Text(404, "404 page not found");

  HttpResponse response;
  storage::Storage* storage = storage_.load();
  std::string_view pattern = route->pattern;
  bool method_ok = false;
  for (std::string_view m : route->methods) method_ok = method_ok || request.method() == m;
  if (!method_ok) {
    response = MethodNotAllowed(*route);
  } else if (route->needs_storage && !storage) {
    response = HttpResponse::Text(503, "Service Unavailable");
  } else if (pattern == "/api/v1/write") {
    response = write_handler_.Handle(request, *storage);
  } else if (pattern == "/metrics") {
    response = metrics_.Serve(storage);
  } else if (pattern == "/-/healthy") {
    response = HttpResponse::Text(200, "Healthy");
  } else if (pattern == "/-/ready") {
    response = HttpResponse::Text(200, "Ready");
  } else if (pattern == "/api/v1/status/buildinfo") {
    response = HandleBuildInfo(CRMSCOPE_VERSION);
  } else {
    FormValues form = FormValues::FromRequest(request);
    if (pattern == "/api/v1/query")
      response = HandleQuery(form, *engine_, NowMs());
    else if (pattern == "/api/v1/query_range")
      response = HandleQueryRange(form, *engine_);
    else if (pattern == "/api/v1/series")
      response = HandleSeries(form, *storage);
    else if (pattern == "/api/v1/labels")
      response = HandleLabelNames(form, *storage);
    else if (pattern == "/api/v1/metadata")
      response = HandleMetadata(form, *storage);
    else if (pattern == "/api/v1/query_exemplars")
      response = HandleQueryExemplars(form);
    else if (pattern == "/federate")
      response = HandleFederate(form, *storage, NowMs(), options_.engine.lookback_delta_ms);
    else
      response = HandleLabelValues(label_name, form, *storage);
  }
  std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
  metrics_.ObserveRequest(pattern, response.status, elapsed.count());
  return response;
}

}  // namespace crmscope::api
