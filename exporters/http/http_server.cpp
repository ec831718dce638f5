#include "exporters/http/http_server.h"

#include <civetweb.h>
#include <netdb.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>

#include "common/ascii_case.h"
#include "common/log.h"
#include "exporters/http/gzip_body.h"

namespace crmscope::http {

namespace {

void InitCivetWebOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mg_init_library(0); });
}

// Prometheus's ":9300" means every interface; CivetWeb spells that as a bare port.
std::string CivetWebPorts(const std::string& listen_address) {
  if (!listen_address.empty() && listen_address[0] == ':') return listen_address.substr(1);
  return listen_address;
}

// The host to connect to for reaching our own listener: loopback where we listen everywhere.
std::string LoopbackHostFor(const std::string& listen_address) {
  size_t colon = listen_address.rfind(':');
  std::string host = colon == std::string::npos ? "" : listen_address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "0.0.0.0") return "127.0.0.1";
  if (host == "::") return "::1";
  return host;
}

// Opens and closes one connection to host:port; failures do not matter.
void Knock(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return;
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, &freeaddrinfo);
  int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  connect(fd, found->ai_addr, found->ai_addrlen);
  close(fd);
}

bool IsBodylessStatus(int status) { return status == 204 || status == 304 || status < 200; }

// After an interim "100 Continue" CivetWeb refuses its header functions (it counts the interim
// answer as the response having started), so the head is written by hand, and the connection
// closed after it: CivetWeb's keep-alive bookkeeping does not know this response.
void SendHeadByHand(mg_connection* conn, const HttpResponse& response, bool has_body) {
  std::string head = "HTTP/1.1 " + std::to_string(response.status) + " " +
                     mg_get_response_code_text(conn, response.status) + "\r\n";
  if (!response.content_type.empty()) head += "Content-Type: " + response.content_type + "\r\n";
  for (const auto& [name, value] : response.headers) head += name + ": " + value + "\r\n";
  if (has_body) head += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  head += "Connection: close\r\n\r\n";
  mg_disable_connection_keep_alive(conn);
  mg_write(conn, head.data(), head.size());
}

void SendResponse(mg_connection* conn, const HttpRequest& request, const HttpResponse& response) {
  bool has_body = !IsBodylessStatus(response.status);
  if (request.continue_sent()) {
    SendHeadByHand(conn, response, has_body);
  } else {
    mg_response_header_start(conn, response.status);
    if (!response.content_type.empty()) {
      mg_response_header_add(conn, "Content-Type", response.content_type.c_str(), -1);
    }
    for (const auto& [name, value] : response.headers) {
      mg_response_header_add(conn, name.c_str(), value.c_str(), -1);
    }
    if (has_body) {
      std::string length = std::to_string(response.body.size());
      mg_response_header_add(conn, "Content-Length", length.c_str(), -1);
    }
    mg_response_header_send(conn);
  }
  if (has_body && request.method() != "HEAD" && !response.body.empty()) {
    mg_write(conn, response.body.data(), response.body.size());
  }
}

// As Prometheus's API: a body goes gzip'ed to a client that accepts it, unless its handler
// already encoded it (Content-Encoding set).
void CompressIfAccepted(const HttpRequest& request, HttpResponse& response) {
  if (response.body.empty() || IsBodylessStatus(response.status)) return;
  for (const auto& [name, value] : response.headers) {
    if (EqualsIgnoreCase(name, "Content-Encoding")) return;
  }
  if (!AcceptsGzip(request.Header("Accept-Encoding"))) return;
  response.body = GzipBody(response.body);
  response.headers.emplace_back("Content-Encoding", "gzip");
}

}  // namespace

HttpResponse HttpResponse::Text(int status, std::string_view text) {
  HttpResponse response;
  response.status = status;
  response.content_type = "text/plain; charset=utf-8";
  response.body = std::string(text) + "\n";
  return response;
}

HttpRequest::HttpRequest(mg_connection* conn) : conn_(conn), info_(mg_get_request_info(conn)) {}

std::string_view HttpRequest::method() const {
  return info_->request_method ? info_->request_method : "";
}

std::string_view HttpRequest::path() const { return info_->local_uri ? info_->local_uri : ""; }

std::string_view HttpRequest::query_string() const {
  return info_->query_string ? info_->query_string : "";
}

std::string_view HttpRequest::Header(std::string_view name) const {
  for (int i = 0; i < info_->num_headers; ++i) {
    const char* header = info_->http_headers[i].name;
    if (header && name.size() == std::char_traits<char>::length(header) &&
        strncasecmp(header, name.data(), name.size()) == 0) {
      return info_->http_headers[i].value ? info_->http_headers[i].value : "";
    }
  }
  return {};
}

int64_t HttpRequest::content_length() const { return info_->content_length; }

HttpRequest::BodyStatus HttpRequest::ReadBody(size_t max_bytes, std::string* body) {
  constexpr size_t kReadChunk = 64 * 1024;
  body->clear();
  if (info_->content_length > 0) {
    if (static_cast<uint64_t>(info_->content_length) > max_bytes) return BodyStatus::kTooLarge;
    body->reserve(static_cast<size_t>(info_->content_length) + kReadChunk);
  }
  // CivetWeb answers "Expect: 100-continue" only for its own file handlers; without the interim
  // answer, libcurl waits 1 s before sending a body over 1 MB (measured: 1.01 s per request).
  if (!continue_sent_ && EqualsIgnoreCase(Header("Expect"), "100-continue") &&
      std::string_view(info_->http_version ? info_->http_version : "") == "1.1") {
    mg_printf(conn_, "HTTP/1.1 100 Continue\r\n\r\n");
    continue_sent_ = true;
  }
  // Read straight into the string: CivetWeb's worker threads have 100 KB stacks (Debian builds
  // it with USE_STACK_SIZE=102400), no room for a buffer on the stack.
  size_t size = 0;
  for (;;) {
    if (body->size() < size + kReadChunk) body->resize(size + kReadChunk);
    int n = mg_read(conn_, body->data() + size, kReadChunk);
    if (n <= 0) {
      body->resize(size);
      return n == 0 ? BodyStatus::kOk : BodyStatus::kReadError;
    }
    size += static_cast<size_t>(n);
    // A chunked body announces no length: the limit is enforced while reading.
    if (size > max_bytes) {
      body->clear();
      return BodyStatus::kTooLarge;
    }
  }
}

void HttpServer::ContextDeleter::operator()(mg_context* ctx) const { mg_stop(ctx); }

std::unique_ptr<HttpServer> HttpServer::Start(const Options& options, HttpHandler handler,
                                              std::string* error) {
  InitCivetWebOnce();
  std::unique_ptr<HttpServer> server(new HttpServer());
  server->handler_ = std::move(handler);

  std::string ports = CivetWebPorts(options.listen_address);
  std::string threads = std::to_string(options.num_threads);
  std::string timeout = std::to_string(options.request_timeout_ms);
  const char* config[] = {"listening_ports", ports.c_str(), "num_threads", threads.c_str(),
                          "request_timeout_ms", timeout.c_str(),
                          // Remote-write senders keep their connection between batches.
                          "enable_keep_alive", "yes",
                          // Head and body go out in separate writes; with Nagle the second waited
                          // for the client's delayed ACK: 48 ms per remote-write request, 3.4 ms
                          // without.
                          "tcp_nodelay", "1", nullptr};
  mg_callbacks callbacks{};
  callbacks.begin_request = &HttpServer::OnRequest;
  callbacks.log_message = &HttpServer::OnLogMessage;

  char error_text[256] = "";
  mg_error_data error_data{};
  error_data.text = error_text;
  error_data.text_buffer_size = sizeof error_text;
  mg_init_data init{};
  init.callbacks = &callbacks;
  init.user_data = server.get();
  init.configuration_options = config;
  server->context_.reset(mg_start2(&init, &error_data));
  if (!server->context_) {
    *error = "cannot listen on " + options.listen_address + ": " +
             (error_text[0] ? error_text : "unknown error");
    return nullptr;
  }
  mg_server_port bound[4]{};
  int n = mg_get_server_ports(server->context_.get(), 4, bound);
  if (n < 1) {
    *error = "cannot determine the port bound for " + options.listen_address;
    return nullptr;
  }
  server->port_ = bound[0].port;
  server->loopback_host_ = LoopbackHostFor(options.listen_address);
  return server;
}

HttpServer::~HttpServer() {
  // CivetWeb's accept loop polls in 2 s quanta and looks at its stop flag only between them:
  // mg_stop took 2.0 s after a request had been served. A connection to the listener wakes the
  // loop at once; knock until mg_stop returns, since the flag may not be set at the first knock.
  std::atomic<bool> stopped{false};
  std::thread knocker([this, &stopped] {
    for (int i = 0; i < 200 && !stopped.load(); ++i) {
      Knock(loopback_host_, port_);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  context_.reset();
  stopped.store(true);
  knocker.join();
}

int HttpServer::OnRequest(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  auto* server = static_cast<HttpServer*>(info->user_data);
  HttpRequest request(conn);
  HttpResponse response;
  try {
    response = server->handler_(request);
  } catch (const std::exception& e) {
    log::Error("request handler failed", {{"path", request.path()}, {"err", e.what()}});
    response = HttpResponse::Text(500, "internal error");
  }
  CompressIfAccepted(request, response);
  SendResponse(conn, request, response);
  return response.status;
}

int HttpServer::OnLogMessage(const mg_connection*, const char* message) {
  log::Warn("http server", {{"err", message ? message : ""}});
  return 1;
}

}  // namespace crmscope::http
