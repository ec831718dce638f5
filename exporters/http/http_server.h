// A small HTTP/1.1 server over CivetWeb: one RAII object owns the mg_context, every request goes
// to one handler function, which answers with an HttpResponse. Routing, authentication and
// metrics are the caller's (api_server.h), so this file stays about sockets and bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct mg_connection;
struct mg_context;
struct mg_request_info;

namespace crmscope::http {

struct HttpResponse {
  int status = 200;
  std::string content_type;  // empty: no Content-Type header (204)
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  // A plain-text answer, as Go's http.Error writes it (the body ends in a newline).
  static HttpResponse Text(int status, std::string_view text);
};

// One request, valid during the handler call. Not thread-safe (one thread serves a request).
class HttpRequest {
 public:
  explicit HttpRequest(mg_connection* conn);

  std::string_view method() const;
  std::string_view path() const;          // URL-decoded, without the query string
  std::string_view query_string() const;  // raw, as sent
  // The first value of a header (names compare case-insensitively); "" when absent.
  std::string_view Header(std::string_view name) const;
  int64_t content_length() const;  // -1 when the client did not say (chunked)

  enum class BodyStatus { kOk, kTooLarge, kReadError };
  // Reads the whole body into *body, giving up as soon as it exceeds max_bytes.
  BodyStatus ReadBody(size_t max_bytes, std::string* body);
  // True once ReadBody answered "Expect: 100-continue" with an interim "100 Continue".
  bool continue_sent() const { return continue_sent_; }

 private:
  mg_connection* conn_;
  const mg_request_info* info_;
  bool continue_sent_ = false;
};

using HttpHandler = std::function<HttpResponse(HttpRequest& request)>;

class HttpServer {
 public:
  struct Options {
    std::string listen_address = "127.0.0.1:9300";  // host:port, ":port" for every interface
    int num_threads = 16;
    int request_timeout_ms = 30000;
  };

  // Binds and starts serving; returns nullptr with *error when the address cannot be used.
  // `handler` is called concurrently from up to num_threads threads.
  static std::unique_ptr<HttpServer> Start(const Options& options, HttpHandler handler,
                                           std::string* error);
  ~HttpServer();  // stops accepting and waits for the requests in flight
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }  // the bound port, also when asked for port 0

 private:
  HttpServer() = default;
  static int OnRequest(mg_connection* conn);
  static int OnLogMessage(const mg_connection* conn, const char* message);

  struct ContextDeleter {
    void operator()(mg_context* ctx) const;
  };
  HttpHandler handler_;
  std::unique_ptr<mg_context, ContextDeleter> context_;
  int port_ = 0;
  std::string loopback_host_;  // where to reach our own listener, to wake it when stopping
};

}  // namespace crmscope::http
