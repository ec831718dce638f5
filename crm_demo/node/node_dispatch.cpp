// Routing a matched request: the fault effects, the CRM API call, /metrics and the admin API.
#include <civetweb.h>
#include <time.h>

#include <thread>

#include "crm_demo/node/deterministic_random.h"
#include "common/log.h"
#include "crm_demo/node/node_server_impl.h"

namespace crmscope::crm {

namespace {

constexpr size_t kMaxBodyBytes = 64 * 1024;

// Fault dice: per thread, so rolling takes no lock.
double RandomUnit() {
  thread_local SplitMix64 rng(std::hash<std::thread::id>()(std::this_thread::get_id()) ^
                              static_cast<uint64_t>(SteadyClock::now().time_since_epoch().count()));
  return rng.Unit();
}

double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// Spins until this thread has used `ms` more CPU: a slow handler, not a sleeping one.
void BurnCpu(double ms) {
  double until = ThreadCpuMs() + ms;
  volatile uint64_t sink = 0;
  while (ThreadCpuMs() < until) {
    for (int i = 0; i < 1000; ++i) sink = sink + static_cast<uint64_t>(i);
  }
}

enum class BodyRead { kOk, kTooLarge, kFailed };

BodyRead ReadBody(mg_connection* conn, std::string* body) {
  char buf[16 * 1024];
  for (;;) {
    int n = mg_read(conn, buf, sizeof buf);
    if (n == 0) return BodyRead::kOk;
    if (n < 0) return BodyRead::kFailed;
    if (body->size() + static_cast<size_t>(n) > kMaxBodyBytes) return BodyRead::kTooLarge;
    body->append(buf, static_cast<size_t>(n));
  }
}

NodeReply JsonReply(int status, std::string body) {
  NodeReply reply;
  reply.status = status;
  reply.body = std::move(body);
  return reply;
}

NodeReply FromApi(ApiReply reply) { return JsonReply(reply.status, std::move(reply.body)); }

NodeReply Error(int status, std::string_view message) {
  return FromApi(JsonError(status, message));
}

// Compares without an early exit, so response time does not reveal how much of a guess matched.
bool TokenMatches(std::string_view given, std::string_view expected) {
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < given.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i] ^ expected[i % expected.size()]);
  }
  return diff == 0;
}

// 404, or 405 with the methods the path does take.
NodeReply Unrouted(const instrumentation::RouteTable& routes,
                   const instrumentation::RouteMatch& match) {
  if (!match.method_not_allowed) return Error(404, "no such route");
  NodeReply reply = Error(405, "method not allowed");
  reply.extra_header_name = "Allow";
  for (size_t r = 0; r < routes.routes().size(); ++r) {
    if (routes.template_of(r) != match.template_id) continue;
    if (!reply.extra_header_value.empty()) reply.extra_header_value += ", ";
    reply.extra_header_value += instrumentation::HttpMethodName(routes.routes()[r].method);
  }
  return reply;
}

}  // namespace

NodeReply NodeServer::Impl::Dispatch(mg_connection* conn, const instrumentation::RouteMatch& match,
                                     RequestStages* stages) {
  if (match.route < 0) return Unrouted(routes_, match);
  if (match.route == kRouteMetrics) {
    NodeReply reply = JsonReply(200, metrics_endpoint_.Serialize());
    reply.content_type = instrumentation::kTextExpositionContentType;
    return reply;
  }
  try {
    return CallApi(conn, match, stages);
  } catch (const DbError& e) {
    log::Error("database error", {{"err", e.what()}});
    // A lock that outlasted busy_timeout is overload, worth a retry elsewhere: 503.
    return Error(e.code() == SQLITE_BUSY ? 503 : 500, "database error");
  } catch (const std::exception& e) {
    log::Error("request failed", {{"err", e.what()}});
    return Error(500, "internal error");
  }
}

NodeReply NodeServer::Impl::CallApi(mg_connection* conn, const instrumentation::RouteMatch& match,
                                    RequestStages* stages) {
  FaultEffects effects = faults_->EffectsFor(match.template_id, RandomUnit);
  if (effects.delay_ms > 0) {
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(effects.delay_ms));
  }
  if (effects.cpu_burn_ms > 0) BurnCpu(effects.cpu_burn_ms);
  if (effects.error_rate > 0 && RandomUnit() < effects.error_rate) {
    return Error(500, "internal error");
  }
  const mg_request_info* info = mg_get_request_info(conn);
  std::string_view query = info->query_string ? info->query_string : "";
  std::string body;
  if (match.method == instrumentation::HttpMethod::kPost ||
      match.method == instrumentation::HttpMethod::kPatch) {
    BodyRead read = ReadBody(conn, &body);
    if (read == BodyRead::kTooLarge) return Error(413, "body larger than 64 KiB");
    if (read == BodyRead::kFailed) return Error(400, "cannot read the body");
  }
  ApiCall call{stages, effects.cache_off};
  std::string_view id = match.num_params > 0 ? match.params[0] : std::string_view();
  switch (match.route) {
    case kRouteGetCustomer:
      return FromApi(api_->GetCustomer(id, call));
    case kRouteSearchCustomers:
      return FromApi(api_->SearchCustomers(query, call));
    case kRouteCustomerOrders:
      return FromApi(api_->ListCustomerOrders(id, query, call));
    case kRouteCreateOrder:
      return FromApi(api_->CreateOrder(body, call));
    case kRouteListTickets:
      return FromApi(api_->ListTickets(query, call));
    case kRouteCreateTicket:
      return FromApi(api_->CreateTicket(body, call));
    case kRouteUpdateTicket:
      return FromApi(api_->UpdateTicket(id, body, call));
    case kRouteHealth:
      return FromApi(api_->Health(call));
    default:
      return Error(404, "no such route");
  }
}

NodeReply NodeServer::Impl::HandleAdmin(mg_connection* conn,
                                        const instrumentation::RouteMatch& match) {
  if (match.route < 0) return Unrouted(admin_routes_, match);
  if (options_.admin_token.empty()) {
    return Error(403, "fault injection is disabled: start crm-node with --admin-token");
  }
  const char* auth = mg_get_header(conn, "Authorization");
  std::string_view given = auth ? auth : "";
  if (given.substr(0, 7) != "Bearer " || !TokenMatches(given.substr(7), options_.admin_token)) {
    NodeReply reply = Error(401, "a valid bearer token is required");
    reply.extra_header_name = "WWW-Authenticate";
    reply.extra_header_value = "Bearer";
    return reply;
  }
  if (match.route == kRouteListFaults) return JsonReply(200, faults_->List().dump());
  if (match.route == kRouteClearFaults) {
    return JsonReply(200, nlohmann::json{{"cleared", faults_->Clear()}}.dump());
  }
  std::string body, error;
  if (ReadBody(conn, &body) != BodyRead::kOk) return Error(400, "cannot read the body");
  FaultSpec spec;
  if (!ParseFaultSpec(body, routes_, &spec, &error)) return Error(400, error);
  if (spec.type == FaultType::kCacheCapacity && !cache_) {
    return Error(409, "this node runs without a cache (--cache=off)");
  }
  // Redis bounds itself (maxmemory); a capacity set here would change nothing, so say so.
  if (spec.type == FaultType::kCacheCapacity && options_.cache_spec.rfind("redis://", 0) == 0) {
    return Error(409, "cache_capacity needs the in-process cache; this node uses Redis");
  }
  int64_t id = 0;
  if (!faults_->Add(spec, &id, &error)) return Error(500, "cannot start the fault: " + error);
  return JsonReply(201, nlohmann::json{{"id", id},
                                       {"type", FaultTypeName(spec.type)},
                                       {"params", spec.params},
                                       {"duration_s", spec.duration_s}}
                            .dump());
}

}  // namespace crmscope::crm
