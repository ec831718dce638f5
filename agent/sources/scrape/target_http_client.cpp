#include "agent/sources/scrape/target_http_client.h"

#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <mutex>

namespace crmscope::agent {

namespace {

struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct MultiDeleter {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
struct HeaderListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using HeaderList = std::unique_ptr<curl_slist, HeaderListDeleter>;

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HeaderList Append(HeaderList list, const std::string& header) {
  curl_slist* grown = curl_slist_append(list.get(), header.c_str());
  if (grown != nullptr) list.release();
  return HeaderList(grown);
}

// Go's strconv.FormatFloat(seconds, 'f', -1, 64) for a whole number of milliseconds.
std::string SecondsText(int64_t ms) {
  std::string text = std::to_string(ms / 1000);
  if (int64_t frac = ms % 1000; frac != 0) {
    char digits[8];
    std::snprintf(digits, sizeof digits, ".%03lld", static_cast<long long>(frac));
    std::string fraction(digits);
    while (fraction.back() == '0') fraction.pop_back();
    text += fraction;
  }
  return text;
}

}  // namespace

struct TargetHttpClient::Handles {
  std::unique_ptr<CURL, EasyDeleter> easy;
  HeaderList headers;
  int64_t timeout_ms = 0;
  char error_buffer[CURL_ERROR_SIZE] = {};
};

TargetHttpClient::TargetHttpClient(std::string url, int64_t timeout_ms)
    : url_(std::move(url)), handles_(std::make_unique<Handles>()) {
  InitCurlOnce();
  handles_->easy.reset(curl_easy_init());
  handles_->timeout_ms = timeout_ms;
  CURL* easy = handles_->easy.get();
  if (easy == nullptr) return;
  curl_easy_setopt(easy, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &TargetHttpClient::AppendBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, this);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, handles_->error_buffer);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "gzip");
  curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 10L);  // Go's http.Client stops after 10 too
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "crmscope-agent/0.1.0");
  SetBearerToken("");
}

TargetHttpClient::~TargetHttpClient() = default;

void TargetHttpClient::SetBearerToken(std::string_view token) {
  if (handles_->headers && token == bearer_token_) return;
  bearer_token_.assign(token);
  HeaderList headers;
  headers = Append(std::move(headers), "Accept: " + std::string(kScrapeAcceptHeader));
  headers = Append(std::move(headers),
                   "X-Prometheus-Scrape-Timeout-Seconds: " + SecondsText(handles_->timeout_ms));
  if (!bearer_token_.empty()) {
    headers = Append(std::move(headers), "Authorization: Bearer " + bearer_token_);
  }
  handles_->headers = std::move(headers);
  if (handles_->easy) curl_easy_setopt(handles_->easy.get(), CURLOPT_HTTPHEADER, handles_->headers.get());
}

size_t TargetHttpClient::AppendBody(char* data, size_t size, size_t count, void* self) {
  static_cast<TargetHttpClient*>(self)->body_.append(data, size * count);
  return size * count;
}

void TargetHttpClient::Start() {
  body_.clear();
  content_type_.clear();
  error_.clear();
  handles_->error_buffer[0] = '\0';
  finished_ = false;
}

void TargetHttpClient::Finish(int curl_code) {
  finished_ = true;
  CURL* easy = handles_->easy.get();
  auto code = static_cast<CURLcode>(curl_code);
  if (code != CURLE_OK) {
    error_ = handles_->error_buffer[0] != '\0' ? handles_->error_buffer : curl_easy_strerror(code);
    body_.clear();
    return;
  }
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    error_ = "server returned HTTP status " + std::to_string(status);
    return;
  }
  const char* type = nullptr;
  curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &type);
  if (type != nullptr) content_type_.assign(type);
}

struct ConcurrentFetcher::Multi {
  std::unique_ptr<CURLM, MultiDeleter> handle;
};

ConcurrentFetcher::ConcurrentFetcher() : multi_(std::make_unique<Multi>()) {
  InitCurlOnce();
  multi_->handle.reset(curl_multi_init());
}

ConcurrentFetcher::~ConcurrentFetcher() = default;

void ConcurrentFetcher::FetchAll(std::span<TargetHttpClient* const> clients, int64_t guard_ms,
                                 const std::function<void(size_t)>& done) {
  CURLM* multi = multi_->handle.get();
  size_t finished = 0;
  auto finish = [&](size_t i, int code) {
    TargetHttpClient* client = clients[i];
    if (client->handles_->easy && multi != nullptr) {
      curl_multi_remove_handle(multi, client->handles_->easy.get());
    }
    client->Finish(code);
    ++finished;
    done(i);
  };
  for (size_t i = 0; i < clients.size(); ++i) {
    clients[i]->Start();
    CURL* easy = clients[i]->handles_->easy.get();
    if (multi == nullptr || easy == nullptr || curl_multi_add_handle(multi, easy) != CURLM_OK) {
      finish(i, CURLE_FAILED_INIT);
    }
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(guard_ms);
  while (finished < clients.size()) {
    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      for (size_t i = 0; i < clients.size(); ++i) {
        if (clients[i]->handles_->easy.get() == msg->easy_handle && !clients[i]->finished_) {
          finish(i, msg->data.result);
          break;
        }
      }
    }
    if (finished == clients.size()) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      for (size_t i = 0; i < clients.size(); ++i) {
        if (!clients[i]->finished_) finish(i, CURLE_OPERATION_TIMEDOUT);
      }
      break;
    }
    curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }
}

}  // namespace crmscope::agent
