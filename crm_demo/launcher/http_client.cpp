#include "crm_demo/launcher/http_client.h"

#include <curl/curl.h>

namespace crmscope::launcher {

struct HttpClient::CurlHandle {
  struct Deleter {
    void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
  };
  std::unique_ptr<CURL, Deleter> easy{curl_easy_init()};
  std::string body;
};

namespace {

size_t AppendBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

struct HeaderList {
  curl_slist* list = nullptr;
  ~HeaderList() { curl_slist_free_all(list); }
  void Add(const std::string& header) { list = curl_slist_append(list, header.c_str()); }
};

}  // namespace

HttpClient::HttpClient() : curl_(std::make_unique<CurlHandle>()) {}
HttpClient::~HttpClient() = default;

HttpResult HttpClient::Perform(std::chrono::milliseconds timeout) {
  CURL* curl = curl_->easy.get();
  curl_->body.clear();
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &curl_->body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  // Everything the launcher talks to is on loopback; a proxy from the environment would only
  // get in the way.
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  HttpResult result;
  CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    result.error = curl_easy_strerror(code);
    return result;
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  result.body = std::move(curl_->body);
  return result;
}

HttpResult HttpClient::Get(const std::string& url, std::chrono::milliseconds timeout) {
  CURL* curl = curl_->easy.get();
  if (curl == nullptr) return {0, "", "curl_easy_init failed"};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  return Perform(timeout);
}

HttpResult HttpClient::PostJson(const std::string& url, const std::string& body,
                                const std::string& bearer_token,
                                std::chrono::milliseconds timeout) {
  CURL* curl = curl_->easy.get();
  if (curl == nullptr) return {0, "", "curl_easy_init failed"};
  HeaderList headers;
  headers.Add("Content-Type: application/json");
  if (!bearer_token.empty()) headers.Add("Authorization: Bearer " + bearer_token);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.list);
  HttpResult result = Perform(timeout);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  return result;
}

}  // namespace crmscope::launcher
