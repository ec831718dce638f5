// Blocking HTTP/1.1 requests on loopback for the launcher's probes, scrapes and fault requests:
// one libcurl easy handle reused (so its connections are kept alive), every call bounded by a
// timeout. Not thread-safe: one client per thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>

namespace crmscope::launcher {

struct HttpResult {
  long status = 0;  // 0 when no response arrived
  std::string body;
  std::string error;  // transport failure (refused, timed out); empty when a response arrived
  bool ok() const { return error.empty() && status >= 200 && status < 300; }
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResult Get(const std::string& url, std::chrono::milliseconds timeout);
  // POST with a JSON body and an optional bearer token.
  HttpResult PostJson(const std::string& url, const std::string& body,
                      const std::string& bearer_token, std::chrono::milliseconds timeout);

 private:
  struct CurlHandle;
  HttpResult Perform(std::chrono::milliseconds timeout);
  std::unique_ptr<CurlHandle> curl_;
};

}  // namespace crmscope::launcher
