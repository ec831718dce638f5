#include "crm_demo/node/node_server.h"

#include <civetweb.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <thread>

#include "common/log.h"
#include "crm_demo/node/node_server_impl.h"
#include "crm_demo/node/response_head.h"
#include "crm_demo/node/schema.h"

namespace crmscope::crm {

namespace {

using instrumentation::HttpMethod;

std::vector<instrumentation::RouteSpec> CrmRoutes() {
  // Order is RouteId's.
  return {
      {HttpMethod::kGet, "/api/customers/{id}"},
      {HttpMethod::kGet, "/api/customers"},
      {HttpMethod::kGet, "/api/customers/{id}/orders"},
      {HttpMethod::kPost, "/api/orders"},
      {HttpMethod::kGet, "/api/tickets"},
      {HttpMethod::kPost, "/api/tickets"},
      {HttpMethod::kPatch, "/api/tickets/{id}"},
      {HttpMethod::kGet, "/healthz"},
      {HttpMethod::kGet, "/metrics"},
  };
}

// Writes `ns` as milliseconds with three decimals ("1.532"), rounded to the microsecond as
// printf's %.3f would. By hand because snprintf's floating-point path cost about 3,500
// instructions a request, most of the node's instrumentation overhead (bench/stack/run.sh).
char* AppendMillis(char* out, int64_t ns) {
  int64_t us = (std::max<int64_t>(ns, 0) + 500) / 1000;
  out = std::to_chars(out, out + 20, us / 1000).ptr;
  int64_t frac = us % 1000;
  *out++ = '.';
  *out++ = static_cast<char>('0' + frac / 100);
  *out++ = static_cast<char>('0' + frac / 10 % 10);
  *out++ = static_cast<char>('0' + frac % 10);
  return out;
}

// "cache;dur=0.012, db;dur=1.532" into `out` (at least 64 bytes), NUL-terminated.
void FormatServerTiming(char* out, int64_t cache_ns, int64_t db_ns) {
  constexpr std::string_view kCache = "cache;dur=", kDb = ", db;dur=";
  out = std::copy(kCache.begin(), kCache.end(), out);
  out = AppendMillis(out, cache_ns);
  out = std::copy(kDb.begin(), kDb.end(), out);
  *AppendMillis(out, db_ns) = '\0';
}

std::vector<instrumentation::RouteSpec> AdminRoutes() {
  // Order is AdminRouteId's.
  return {
      {HttpMethod::kGet, "/admin/faults"},
      {HttpMethod::kPost, "/admin/faults"},
      {HttpMethod::kDelete, "/admin/faults"},
  };
}

NodeServer::Impl* ImplOf(const mg_context* ctx) {
  return static_cast<NodeServer::Impl*>(mg_get_user_data(ctx));
}
NodeServer::Impl* ImplOf(const mg_connection* conn) { return ImplOf(mg_get_context(conn)); }

int OnBeginRequest(mg_connection* conn) { return ImplOf(conn)->HandleRequest(conn); }

// CivetWeb's thread_type 1 is a worker; 0 the master, 2 its timer.
void* OnInitThread(const mg_context* ctx, int thread_type) {
  if (thread_type == 1) ImplOf(ctx)->WorkerThreadStarted();
  return nullptr;
}
void OnExitThread(const mg_context* ctx, int thread_type, void*) {
  if (thread_type == 1) ImplOf(ctx)->WorkerThreadStopped();
}
int OnInitConnection(const mg_connection* conn, void**) {
  ImplOf(conn)->ConnectionOpened();
  return 0;
}
void OnConnectionClose(const mg_connection* conn) { ImplOf(conn)->ConnectionClosed(); }

int OnLogMessage(const mg_connection*, const char* message) {
  log::Warn("http server", {{"err", message ? message : ""}});
  return 1;
}

// Opens and closes one connection to our listener: CivetWeb's accept loop looks at its stop
// flag only between 2 s polls, and a connection wakes it at once.
void Knock(int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo("127.0.0.1", std::to_string(port).c_str(), &hints, &found) != 0) return;
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, &freeaddrinfo);
  int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  connect(fd, found->ai_addr, found->ai_addrlen);
  close(fd);
}

}  // namespace

NodeServer::Impl::Impl(const ServeOptions& options)
    : options_(options), routes_(CrmRoutes()), admin_routes_(AdminRoutes()) {}

NodeServer::Impl::~Impl() { StopListening(); }

bool NodeServer::Impl::Open(std::string* error) {
  {
    SqliteDb db = OpenCrmDatabase(options_.db_path, /*create=*/false, error);
    if (!db) return false;
    if (!HasCrmTables(db.get())) {
      *error = options_.db_path + " is not a CRM database; create it with crm-node seed";
      return false;
    }
  }
  pool_ = std::make_unique<ConnectionPool>(options_.db_path);
  if (options_.cache_spec != "off") {
    cache_ =
        MakeCustomerCache(options_.cache_spec, options_.cache_capacity, options_.cache_ttl, error);
    if (!cache_) return false;
  }
  registry_ = std::make_shared<prometheus::Registry>();
  if (options_.metrics) {
    http_metrics_ = std::make_unique<instrumentation::HttpServerMetrics>(*registry_, routes_);
    crm_metrics_ = std::make_unique<CrmMetrics>(*registry_);
  }
  api_ = std::make_unique<CrmApi>(pool_.get(), cache_.get(), crm_metrics_.get());
  process_collector_ = std::make_shared<instrumentation::ProcessCollector>();
  cache_collector_ = std::make_shared<CacheCollector>(cache_.get(), api_->bypassed_lookups());
  metrics_endpoint_.Register(registry_);
  metrics_endpoint_.Register(process_collector_);
  metrics_endpoint_.Register(cache_collector_);
  faults_ = std::make_unique<FaultInjector>(options_.db_path, cache_.get());
  return true;
}

bool NodeServer::Impl::Listen(std::string* error) {
  static std::once_flag init_once;
  std::call_once(init_once, [] { mg_init_library(0); });
  std::string ports = options_.listen_address;
  if (!ports.empty() && ports[0] == ':') ports = ports.substr(1);  // ":8080": every interface
  std::string threads = std::to_string(options_.threads);
  std::string keep_alive = std::to_string(options_.keep_alive_timeout_ms);
  const char* config[] = {"listening_ports", ports.c_str(), "num_threads", threads.c_str(),
                          "enable_keep_alive", "yes", "keep_alive_timeout_ms", keep_alive.c_str(),
                          // Without it a small response waits for the client's delayed ACK.
                          "tcp_nodelay", "1", "request_timeout_ms", "30000", nullptr};
  mg_callbacks callbacks{};
  callbacks.begin_request = &OnBeginRequest;
  callbacks.log_message = &OnLogMessage;
  callbacks.init_thread = &OnInitThread;
  callbacks.exit_thread = &OnExitThread;
  callbacks.init_connection = &OnInitConnection;
  callbacks.connection_close = &OnConnectionClose;
  char error_text[256] = "";
  mg_error_data error_data{};
  error_data.text = error_text;
  error_data.text_buffer_size = sizeof error_text;
  mg_init_data init{};
  init.callbacks = &callbacks;
  init.user_data = this;
  init.configuration_options = config;
  context_ = mg_start2(&init, &error_data);
  if (context_ == nullptr) {
    *error = "cannot listen on " + options_.listen_address + ": " + error_text;
    return false;
  }
  mg_server_port bound[2]{};
  if (mg_get_server_ports(context_, 2, bound) < 1) {
    *error = "cannot tell which port was bound for " + options_.listen_address;
    return false;
  }
  port = bound[0].port;
  return true;
}

void NodeServer::Impl::StopListening() {
  if (context_ == nullptr) return;
  std::atomic<bool> stopped{false};
  std::thread knocker([this, &stopped] {
    for (int i = 0; i < 200 && !stopped.load(); ++i) {
      Knock(port);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  mg_stop(context_);
  stopped.store(true);
  knocker.join();
  context_ = nullptr;
}

void NodeServer::Impl::WorkerThreadStarted() {
  if (http_metrics_) http_metrics_->WorkerThreadStarted();
}
void NodeServer::Impl::WorkerThreadStopped() {
  if (http_metrics_) http_metrics_->WorkerThreadStopped();
}
void NodeServer::Impl::ConnectionOpened() {
  if (http_metrics_) http_metrics_->WorkerBusy();
}
void NodeServer::Impl::ConnectionClosed() {
  if (http_metrics_) http_metrics_->WorkerIdle();
}

int NodeServer::Impl::HandleRequest(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  std::string_view method = info->request_method ? info->request_method : "";
  std::string_view path = info->local_uri ? info->local_uri : "";
  if (path.substr(0, 7) == "/admin/") {
    NodeReply reply = HandleAdmin(conn, admin_routes_.Match(method, path));
    RequestStages untimed;
    untimed.timed = false;
    Send(conn, reply, untimed);
    return reply.status;
  }
  instrumentation::RouteMatch match = routes_.Match(method, path);
  bool observed = http_metrics_ != nullptr;
  SteadyClock::time_point start{};
  if (observed) {
    start = SteadyClock::now();
    http_metrics_->RequestStarted();
  }
  RequestStages stages;
  stages.timed = observed;
  NodeReply reply = Dispatch(conn, match, &stages);
  Send(conn, reply, stages);
  if (observed) Observe(match, reply.status, stages, start);
  return reply.status;
}

void NodeServer::Impl::Send(mg_connection* conn, const NodeReply& reply,
                            const RequestStages& stages) {
  char length[24], timing[96];
  *std::to_chars(length, length + sizeof length - 1, reply.body.size()).ptr = '\0';
  ResponseHead head(conn, reply.status);
  head.Add("Content-Type", reply.content_type);
  head.Add("Content-Length", length);
  head.Add("X-Crm-Node", options_.node_name);
  if (stages.timed) {
    FormatServerTiming(timing, stages.cache_ns, stages.db_ns);
    head.Add("Server-Timing", timing);
  }
  if (!reply.extra_header_name.empty()) {
    head.Add(reply.extra_header_name, reply.extra_header_value);
  }
  head.Send(reply.body);
}

void NodeServer::Impl::Observe(const instrumentation::RouteMatch& match, int status,
                               const RequestStages& stages, SteadyClock::time_point start) {
  int64_t total_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - start).count();
  http_metrics_->RequestFinished(match.template_id, match.method, status,
                                 static_cast<double>(total_ns) / 1e9);
  if (stages.cache_used) crm_metrics_->ObserveStage(Stage::kCache, stages.cache_ns / 1e9);
  if (stages.db_used) crm_metrics_->ObserveStage(Stage::kDb, stages.db_ns / 1e9);
  int64_t handler_ns = total_ns - stages.cache_ns - stages.db_ns;
  crm_metrics_->ObserveStage(Stage::kHandler,
                             static_cast<double>(std::max<int64_t>(handler_ns, 0)) / 1e9);
}

NodeServer::NodeServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
NodeServer::~NodeServer() = default;
int NodeServer::port() const { return impl_->port; }

std::unique_ptr<NodeServer> NodeServer::Start(const ServeOptions& options, std::string* error) {
  auto impl = std::make_unique<Impl>(options);
  if (!impl->Open(error) || !impl->Listen(error)) return nullptr;
  return std::make_unique<NodeServer>(std::move(impl));
}

}  // namespace crmscope::crm
