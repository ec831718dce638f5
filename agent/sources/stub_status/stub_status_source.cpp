#include "agent/sources/stub_status/stub_status_source.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <set>

#include "agent/sources/source_config/config_yaml.h"
#include "common/log.h"
#include "common/time.h"

namespace crmscope::agent {

namespace {

using config_yaml::ConfigError;
using config_yaml::ConstantLabels;
using config_yaml::Fail;
using config_yaml::PositiveDuration;
using config_yaml::Scalar;

struct CurlUrlFree {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
struct CurlStringFree {
  void operator()(char* text) const { curl_free(text); }
};
struct CurlEasyFree {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};

// "host:port" of an http(s) URL, the way Prometheus names a target in `instance`.
bool InstanceOfUrl(const std::string& url, std::string* instance, std::string* error) {
  std::unique_ptr<CURLU, CurlUrlFree> parsed(curl_url());
  if (!parsed || curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    *error = "url \"" + url + "\" is not a valid URL";
    return false;
  }
  char* raw = nullptr;
  curl_url_get(parsed.get(), CURLUPART_SCHEME, &raw, 0);
  std::unique_ptr<char, CurlStringFree> scheme(raw);
  if (!scheme ||
      (std::string_view(scheme.get()) != "http" && std::string_view(scheme.get()) != "https")) {
    *error = "url \"" + url + "\" must be http:// or https://";
    return false;
  }
  raw = nullptr;
  curl_url_get(parsed.get(), CURLUPART_HOST, &raw, 0);
  std::unique_ptr<char, CurlStringFree> host(raw);
  raw = nullptr;
  curl_url_get(parsed.get(), CURLUPART_PORT, &raw, CURLU_DEFAULT_PORT);
  std::unique_ptr<char, CurlStringFree> port(raw);
  if (!host || !port) {
    *error = "url \"" + url + "\" has no host";
    return false;
  }
  *instance = std::string(host.get()) + ":" + port.get();
  return true;
}

// The number after `label` at or after *pos; *pos moves past it.
bool NumberAfter(std::string_view page, std::string_view label, size_t* pos, double* out) {
  size_t at = page.find(label, *pos);
  if (at == std::string_view::npos) return false;
  size_t p = at + label.size();
  while (p < page.size() && (page[p] == ' ' || page[p] == '\n' || page[p] == '\r')) ++p;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(page.data() + p, page.data() + page.size(), value);
  if (ec != std::errc()) return false;
  *out = static_cast<double>(value);
  *pos = static_cast<size_t>(end - page.data());
  return true;
}

// Unset, the timeout is 5 s capped by the interval, as Prometheus caps scrape_timeout by
// scrape_interval: a collection never outlasts its period.
int64_t EffectiveTimeoutMs(int64_t timeout_ms, int64_t interval_ms) {
  if (timeout_ms > 0) return timeout_ms;
  return interval_ms > 0 ? std::min<int64_t>(5000, interval_ms) : 5000;
}

// nginx-prometheus-exporter's families, in its order.
struct Family {
  std::string_view name;
  MetricKind kind;
  std::string_view help;
  double StubStatus::*field;
};
constexpr std::array<Family, 7> kFamilies = {{
    {"nginx_connections_accepted", MetricKind::kCounter, "Accepted client connections",
     &StubStatus::accepted},
    {"nginx_connections_active", MetricKind::kGauge, "Active client connections",
     &StubStatus::active},
    {"nginx_connections_handled", MetricKind::kCounter, "Handled client connections",
     &StubStatus::handled},
    {"nginx_connections_reading", MetricKind::kGauge,
     "Connections where NGINX is reading the request header", &StubStatus::reading},
    {"nginx_connections_waiting", MetricKind::kGauge, "Idle client connections",
     &StubStatus::waiting},
    {"nginx_connections_writing", MetricKind::kGauge,
     "Connections where NGINX is writing the response back to the client", &StubStatus::writing},
    {"nginx_http_requests_total", MetricKind::kCounter, "Total http requests",
     &StubStatus::requests},
}};
constexpr std::string_view kUpName = "nginx_up";
constexpr std::string_view kUpHelp = "Status of the last metric scrape";

// A stub_status page is a few hundred bytes; anything bigger is not one.
constexpr size_t kMaxPageBytes = 64 * 1024;

size_t AppendBody(char* data, size_t size, size_t n, void* out) {
  auto* body = static_cast<std::string*>(out);
  if (body->size() + size * n > kMaxPageBytes) return 0;  // aborts the transfer
  body->append(data, size * n);
  return size * n;
}

class StubStatusSource final : public Source {
 public:
  explicit StubStatusSource(const StubStatusConfig& config)
      : name_("stub_status:" + config.url),
        url_(config.url),
        timeout_ms_(EffectiveTimeoutMs(config.timeout_ms, config.interval_ms)),
        curl_(curl_easy_init()) {
    Labels base = {{"job", config.job}};
    std::string instance, error;
    if (InstanceOfUrl(config.url, &instance, &error)) base.push_back({"instance", instance});
    for (const Label& label : config.labels) {
      std::erase_if(base, [&](const Label& l) { return l.name == label.name; });
      base.push_back(label);
    }
    auto series = [&](std::string_view family) {
      Labels labels = base;
      labels.push_back({std::string(kMetricNameLabel), std::string(family)});
      SortLabels(labels);
      return labels;
    };
    up_ = series(kUpName);
    for (size_t i = 0; i < kFamilies.size(); ++i) series_[i] = series(kFamilies[i].name);
  }

  std::string_view name() const override { return name_; }

  void Collect(TimestampMs, SampleSink& sink) override {
    StubStatus status;
    std::string error;
    bool ok = Fetch(&error);
    if (ok && !ParseStubStatusPage(body_, &status)) {
      ok = false;
      error = "not a stub_status page";
    }
    sink.Describe(kUpName, MetricKind::kGauge, kUpHelp, "");
    sink.Add(up_, ok ? 1 : 0);
    // Logged when it changes, not every collection: a down nginx would fill the log each second.
    if (ok != was_up_) {
      if (ok) {
        log::Info("nginx stub_status is back", {{"source", name_}});
      } else {
        log::Warn("nginx stub_status unavailable", {{"source", name_}, {"err", error}});
      }
      was_up_ = ok;
    }
    if (!ok) return;
    for (size_t i = 0; i < kFamilies.size(); ++i) {
      sink.Describe(kFamilies[i].name, kFamilies[i].kind, kFamilies[i].help, "");
      sink.Add(series_[i], status.*kFamilies[i].field);
    }
  }

 private:
  // One handle for the source's life, so its connection to nginx is kept alive between fetches.
  bool Fetch(std::string* error) {
    if (!curl_) {
      *error = "curl_easy_init failed";
      return false;
    }
    body_.clear();
    CURL* curl = curl_.get();
    curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body_);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms_));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "crmscope-agent");
    CURLcode code = curl_easy_perform(curl);
    if (code != CURLE_OK) {
      *error = curl_easy_strerror(code);
      return false;
    }
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) *error = "HTTP status " + std::to_string(status);
    return status == 200;
  }

  std::string name_;
  std::string url_;
  int64_t timeout_ms_;
  std::unique_ptr<CURL, CurlEasyFree> curl_;
  std::string body_;
  Labels up_;
  std::array<Labels, kFamilies.size()> series_;
  bool was_up_ = true;
};

}  // namespace

bool ParseStubStatusPage(std::string_view page, StubStatus* out) {
  StubStatus s;
  size_t pos = 0;
  bool ok = NumberAfter(page, "Active connections:", &pos, &s.active) &&
            NumberAfter(page, "server accepts handled requests", &pos, &s.accepted) &&
            NumberAfter(page, "", &pos, &s.handled) && NumberAfter(page, "", &pos, &s.requests) &&
            NumberAfter(page, "Reading:", &pos, &s.reading) &&
            NumberAfter(page, "Writing:", &pos, &s.writing) &&
            NumberAfter(page, "Waiting:", &pos, &s.waiting);
  if (ok) *out = s;
  return ok;
}

bool ParseStubStatusConfig(const YAML::Node& item, StubStatusConfig* out, std::string* error) {
  StubStatusConfig config;
  try {
    if (!item.IsMap()) Fail(item, "a stub_status source must be a mapping");
    std::set<std::string> seen;
    for (const auto& entry : item) {
      std::string key = Scalar(entry.first, "a key");
      const YAML::Node& value = entry.second;
      if (!seen.insert(key).second) Fail(entry.first, "duplicate key \"" + key + "\"");
      if (key == "url") {
        config.url = Scalar(value, key);
        std::string instance, problem;
        if (!InstanceOfUrl(config.url, &instance, &problem)) Fail(value, problem);
      } else if (key == "timeout") {
        config.timeout_ms = PositiveDuration(value, key);
      } else if (key == "interval") {
        config.interval_ms = PositiveDuration(value, key);
      } else if (key == "job") {
        config.job = Scalar(value, key);
      } else if (key == "labels") {
        config.labels = ConstantLabels(value);
      } else {
        Fail(entry.first, "unknown key \"" + key + "\" in stub_status");
      }
    }
    if (config.url.empty()) Fail(item, "stub_status needs a url");
  } catch (const ConfigError& e) {
    *error = e.message;
    return false;
  }
  *out = std::move(config);
  return true;
}

std::unique_ptr<Source> MakeStubStatusSource(const StubStatusConfig& config) {
  return std::make_unique<StubStatusSource>(config);
}

}  // namespace crmscope::agent
