// The HTTP side of a scrape, as Prometheus's targetScraper does it: a GET with Prometheus's
// Accept header, gzip accepted, the scrape timeout announced in
// X-Prometheus-Scrape-Timeout-Seconds, redirects followed, no proxy from the environment
// (Prometheus 2.42 uses one only when configured), and anything but 200 an error.
//
// Each target keeps one libcurl easy handle, and all of a job's targets are fetched together
// through one multi handle whose connection cache keeps each target's connection alive between
// scrapes. Not thread-safe: one source collects in one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace crmscope::agent {

// What Prometheus 2.42 asks for: OpenMetrics first, then the text format.
inline constexpr std::string_view kScrapeAcceptHeader =
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

class TargetHttpClient {
 public:
  TargetHttpClient(std::string url, int64_t timeout_ms);
  ~TargetHttpClient();
  TargetHttpClient(const TargetHttpClient&) = delete;
  TargetHttpClient& operator=(const TargetHttpClient&) = delete;

  const std::string& url() const { return url_; }
  // The token sent as "Authorization: Bearer ..." from the next request on; "" for none.
  void SetBearerToken(std::string_view token);

  // The outcome of the last transfer. error() is "" after a 200 with a complete body.
  const std::string& error() const { return error_; }
  std::string_view body() const { return body_; }
  std::string_view content_type() const { return content_type_; }

 private:
  friend class ConcurrentFetcher;
  struct Handles;
  void Start();
  void Finish(int curl_code);
  static size_t AppendBody(char* data, size_t size, size_t count, void* self);

  std::string url_;
  std::unique_ptr<Handles> handles_;
  std::string bearer_token_;
  std::string body_;
  std::string content_type_;
  std::string error_;
  bool finished_ = false;
};

// Fetches several targets at once and hands each over as soon as it has finished.
class ConcurrentFetcher {
 public:
  ConcurrentFetcher();
  ~ConcurrentFetcher();
  ConcurrentFetcher(const ConcurrentFetcher&) = delete;
  ConcurrentFetcher& operator=(const ConcurrentFetcher&) = delete;

  // Starts every client's request, then calls `done(i)` in this thread as client i finishes
  // (its response or its error ready). Returns once all have; each is bounded by its timeout,
  // and the whole by `guard_ms` should libcurl ever overrun one.
  void FetchAll(std::span<TargetHttpClient* const> clients, int64_t guard_ms,
                const std::function<void(size_t)>& done);

 private:
  struct Multi;
  std::unique_ptr<Multi> multi_;
};

}  // namespace crmscope::agent
