#include "exporters/remote_write/write_client.h"

#include <curl/curl.h>
#include <strings.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <mutex>

namespace crmscope::remote_write {

namespace {

// Enough of an error answer to say why in a log line.
constexpr size_t kMaxKeptBody = 512;
// A Retry-After further out than this is taken as this: a misconfigured proxy must not park a
// queue for days.
constexpr int64_t kMaxRetryAfterMs = 3600 * 1000;

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct EasyDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct ListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

int64_t ParseRetryAfterMs(std::string_view value, int64_t now_unix_ms) {
  value = Trim(value);
  if (value.empty()) return -1;
  int64_t seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec == std::errc() && end == value.data() + value.size()) {
    return seconds < 0 ? -1 : std::min(seconds * 1000, kMaxRetryAfterMs);
  }
  std::string text(value);
  time_t at = curl_getdate(text.c_str(), nullptr);
  if (at < 0) return -1;
  int64_t delay = static_cast<int64_t>(at) * 1000 - now_unix_ms;
  return std::clamp<int64_t>(delay, 0, kMaxRetryAfterMs);
}

struct WriteClient::Handles {
  std::unique_ptr<CURL, EasyDeleter> curl;
  std::unique_ptr<curl_slist, ListDeleter> headers;
  const std::atomic<bool>* abort = nullptr;
  std::string body;         // the answer's first kMaxKeptBody bytes
  std::string retry_after;  // the answer's Retry-After header

  static size_t OnBody(char* data, size_t size, size_t n, void* self) {
    std::string& body = static_cast<Handles*>(self)->body;
    size_t bytes = size * n;
    if (body.size() < kMaxKeptBody) body.append(data, std::min(bytes, kMaxKeptBody - body.size()));
    return bytes;
  }
  static size_t OnHeader(char* data, size_t size, size_t n, void* self) {
    std::string_view line(data, size * n);
    constexpr std::string_view kName = "retry-after:";
    if (line.size() > kName.size() && strncasecmp(line.data(), kName.data(), kName.size()) == 0) {
      static_cast<Handles*>(self)->retry_after = std::string(Trim(line.substr(kName.size())));
    }
    return size * n;
  }
  static int OnProgress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    const std::atomic<bool>* abort = static_cast<Handles*>(self)->abort;
    return abort && abort->load(std::memory_order_relaxed) ? 1 : 0;
  }
};

WriteClient::WriteClient(const QueueSenderConfig& config, const std::atomic<bool>* abort)
    : handles_(std::make_unique<Handles>()), retry_on_http_429_(config.retry_on_http_429) {
  InitCurlOnce();
  Handles& h = *handles_;
  h.abort = abort;
  h.curl.reset(curl_easy_init());
  curl_slist* list = nullptr;
  auto add = [&list](const std::string& header) { list = curl_slist_append(list, header.c_str()); };
  add("Content-Type: " + std::string(kContentType));
  add("Content-Encoding: " + std::string(kContentEncoding));
  add(std::string(kVersionHeader) + ": " + std::string(kVersion));
  add("Expect:");  // no 100-continue round trip before big bodies
  if (!config.bearer_token.empty()) add("Authorization: Bearer " + config.bearer_token);
  for (const auto& [name, value] : config.headers) add(name + ": " + value);
  h.headers.reset(list);

  CURL* curl = h.curl.get();
  curl_easy_setopt(curl, CURLOPT_URL, config.url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h.headers.get());
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "crmscope/" CRMSCOPE_VERSION);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(config.timeout_ms));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config.timeout_ms));
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Handles::OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &h);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &Handles::OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &h);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &Handles::OnProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &h);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
}

WriteClient::~WriteClient() = default;

WriteOutcome WriteClient::Post(std::string_view body) {
  Handles& h = *handles_;
  WriteOutcome outcome;
  if (!h.curl) {
    outcome.error = "curl_easy_init failed";
    return outcome;
  }
  h.body.clear();
  h.retry_after.clear();
  CURL* curl = h.curl.get();
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    outcome.error = curl_easy_strerror(code);
    return outcome;  // network errors and timeouts: the endpoint may come back
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &outcome.status);
  if (outcome.status / 100 == 2) {
    outcome.verdict = WriteOutcome::Verdict::kSent;
    return outcome;
  }
  outcome.error = std::string(Trim(h.body));
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  outcome.retry_after_ms = ParseRetryAfterMs(h.retry_after, now_ms);
  bool recoverable = outcome.status / 100 == 5 || (outcome.status == 429 && retry_on_http_429_);
  outcome.verdict = recoverable ? WriteOutcome::Verdict::kRetry : WriteOutcome::Verdict::kDrop;
  return outcome;
}

}  // namespace crmscope::remote_write
