#include "agent/sources/probe/http_probe.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <chrono>

#include "common/log.h"

namespace crmscope::agent {

namespace {

enum Metric {
  kSuccess,
  kDuration,
  kStatusCode,
  kContentLength,
  kBodyLength,
  kRedirects,
  kSsl,
  kHttpVersion,
  kFailedDueToRegex,
  kDnsLookup,
  kIpProtocol,
  kIpAddrHash,
  kLastModified,
  kMetricCount
};

struct Family {
  std::string_view name;
  std::string_view help;
};
// blackbox_exporter 0.23's families; all are gauges there.
constexpr std::array<Family, kMetricCount> kFamilies = {{
    {"probe_success", "Displays whether or not the probe was a success"},
    {"probe_duration_seconds", "Returns how long the probe took to complete in seconds"},
    {"probe_http_status_code", "Response HTTP status code"},
    {"probe_http_content_length", "Length of http content response"},
    {"probe_http_uncompressed_body_length", "Length of uncompressed response body"},
    {"probe_http_redirects", "The number of redirects"},
    {"probe_http_ssl", "Indicates if SSL was used for the final redirect"},
    {"probe_http_version", "Returns the version of HTTP of the probe response"},
    {"probe_failed_due_to_regex", "Indicates if probe failed due to regex"},
    {"probe_dns_lookup_time_seconds", "Returns the time taken for probe dns lookup in seconds"},
    {"probe_ip_protocol", "Specifies whether probe ip protocol is IP4 or IP6"},
    {"probe_ip_addr_hash",
     "Specifies the hash of IP address. It's useful to detect if the IP address changes."},
    {"probe_http_last_modified_timestamp_seconds",
     "Returns the Last-Modified HTTP response header in unixtime"},
}};
constexpr std::string_view kPhaseFamily = "probe_http_duration_seconds";
constexpr std::string_view kPhaseHelp =
    "Duration of http request by phase, summed over all redirects";
enum Phase { kResolve, kConnect, kTls, kProcessing, kTransfer, kPhaseCount };
constexpr std::array<std::string_view, kPhaseCount> kPhases = {"resolve", "connect", "tls",
                                                               "processing", "transfer"};

// Unset, the timeout is 5 s capped by the interval, as Prometheus caps scrape_timeout by
// scrape_interval: a collection never outlasts its period.
int64_t EffectiveTimeoutMs(int64_t timeout_ms, int64_t interval_ms) {
  if (timeout_ms > 0) return timeout_ms;
  return interval_ms > 0 ? std::min<int64_t>(5000, interval_ms) : 5000;
}

struct CurlEasyFree {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct CurlSlistFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

// Go's hash/fnv New32a over the address's bytes (4 for IPv4, 16 for IPv6), as blackbox_exporter
// hashes it.
double IpAddrHash(const unsigned char* bytes, size_t n) {
  uint32_t hash = 2166136261u;
  for (size_t i = 0; i < n; ++i) {
    hash ^= bytes[i];
    hash *= 16777619u;
  }
  return hash;
}

double Seconds(curl_off_t microseconds) { return static_cast<double>(microseconds) / 1e6; }

struct Outcome {
  std::array<double, kMetricCount> values{};
  std::array<bool, kMetricCount> present{};
  std::array<double, kPhaseCount> phases{};
  std::string failure;  // why probe_success is 0, for the log
  void Set(Metric m, double v) {
    values[m] = v;
    present[m] = true;
  }
};

class HttpProbeSource final : public Source {
 public:
  explicit HttpProbeSource(const ProbeConfig& config)
      : name_("probe:" + config.name + ":" + config.url), config_(config), curl_(curl_easy_init()) {
    Labels base = {{"instance", config.url}, {"job", config.name}};
    for (const Label& label : config.labels) {
      std::erase_if(base, [&](const Label& l) { return l.name == label.name; });
      base.push_back(label);
    }
    auto series = [&](std::string_view family, std::string_view phase) {
      Labels labels = base;
      labels.push_back({std::string(kMetricNameLabel), std::string(family)});
      if (!phase.empty()) labels.push_back({"phase", std::string(phase)});
      SortLabels(labels);
      return labels;
    };
    for (size_t i = 0; i < kMetricCount; ++i) series_[i] = series(kFamilies[i].name, "");
    for (size_t i = 0; i < kPhaseCount; ++i) phase_series_[i] = series(kPhaseFamily, kPhases[i]);
    for (const std::string& p : config.fail_if_body_matches_regexp) {
      fail_if_matches_.push_back(std::make_unique<RE2>(p, RE2::Quiet));
    }
    for (const std::string& p : config.fail_if_body_not_matches_regexp) {
      fail_if_not_matches_.push_back(std::make_unique<RE2>(p, RE2::Quiet));
    }
    for (const auto& [header, value] : config.headers) {
      headers_.reset(curl_slist_append(headers_.release(), (header + ": " + value).c_str()));
    }
    if (curl_) SetOptions();
  }

  std::string_view name() const override { return name_; }

  void Collect(TimestampMs, SampleSink& sink) override {
    Outcome outcome = Probe();
    for (size_t i = 0; i < kMetricCount; ++i) {
      if (!outcome.present[i]) continue;
      sink.Describe(kFamilies[i].name, MetricKind::kGauge, kFamilies[i].help, "");
      sink.Add(series_[i], outcome.values[i]);
    }
    sink.Describe(kPhaseFamily, MetricKind::kGauge, kPhaseHelp, "");
    for (size_t i = 0; i < kPhaseCount; ++i) sink.Add(phase_series_[i], outcome.phases[i]);
    bool success = outcome.values[kSuccess] == 1;
    if (success != last_success_) {
      if (success) {
        log::Info("Probe succeeded", {{"source", name_}});
      } else {
        log::Warn("Probe failed", {{"source", name_}, {"reason", outcome.failure}});
      }
      last_success_ = success;
    }
  }

 private:
  // Options that stay the same from probe to probe; libcurl keeps them on the handle.
  void SetOptions() {
    CURL* curl = curl_.get();
    curl_easy_setopt(curl, CURLOPT_URL, config_.url.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(
        curl, CURLOPT_TIMEOUT_MS,
        static_cast<long>(EffectiveTimeoutMs(config_.timeout_ms, config_.interval_ms)));
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "crmscope-agent");
    // Each probe measures what a new client meets: DNS lookup and connection included.
    curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(curl, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, config_.no_follow_redirects ? 0L : 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(curl, CURLOPT_FILETIME, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &HttpProbeSource::OnBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, this);
    if (headers_) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers_.get());
    if (config_.method == "HEAD") {
      curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (config_.method != "GET" || !config_.body.empty()) {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, config_.method.c_str());
    }
    if (!config_.body.empty()) {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, config_.body.c_str());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(config_.body.size()));
    }
  }

  static size_t OnBody(char* data, size_t size, size_t n, void* self_ptr) {
    auto* self = static_cast<HttpProbeSource*>(self_ptr);
    size_t bytes = size * n;
    self->body_bytes_ += bytes;
    if (self->config_.body_size_limit > 0 &&
        self->body_bytes_ > static_cast<uint64_t>(self->config_.body_size_limit)) {
      self->body_too_large_ = true;
      return 0;  // aborts the transfer
    }
    if (!self->fail_if_matches_.empty() || !self->fail_if_not_matches_.empty()) {
      self->body_.append(data, bytes);
    }
    return bytes;
  }

  Outcome Probe() {
    Outcome out;
    body_.clear();
    body_bytes_ = 0;
    body_too_large_ = false;
    auto start = std::chrono::steady_clock::now();
    CURLcode code = curl_ ? curl_easy_perform(curl_.get()) : CURLE_FAILED_INIT;
    out.Set(kDuration,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    out.Set(kSuccess, 0);
    out.Set(kFailedDueToRegex, 0);
    if (!curl_) {
      out.failure = "curl_easy_init failed";
      return out;
    }
    CURL* curl = curl_.get();
    long status = 0, redirects = 0, version = 0;
    curl_off_t content_length = -1, last_modified = -1;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(curl, CURLINFO_REDIRECT_COUNT, &redirects);
    curl_easy_getinfo(curl, CURLINFO_HTTP_VERSION, &version);
    curl_easy_getinfo(curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &content_length);
    curl_easy_getinfo(curl, CURLINFO_FILETIME_T, &last_modified);
    char* effective_url = nullptr;
    curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &effective_url);
    // Go leaves a response it never got at zero values (ContentLength 0, Proto "").
    out.Set(kStatusCode, status);
    out.Set(kContentLength, status == 0 ? 0 : static_cast<double>(content_length));
    out.Set(kBodyLength, static_cast<double>(body_bytes_));
    out.Set(kRedirects, redirects);
    out.Set(kSsl, status != 0 && effective_url &&
                      std::string_view(effective_url).starts_with("https://"));
    out.Set(kHttpVersion, version == CURL_HTTP_VERSION_1_0   ? 1.0
                          : version == CURL_HTTP_VERSION_1_1 ? 1.1
                          : version == CURL_HTTP_VERSION_2_0 ? 2.0
                          : version == CURL_HTTP_VERSION_3   ? 3.0
                                                             : 0.0);
    if (status != 0 && last_modified >= 0)
      out.Set(kLastModified, static_cast<double>(last_modified));
    SetAddress(&out);
    SetPhases(status != 0, &out);
    out.Set(kDnsLookup, out.phases[kResolve]);

    if (code != CURLE_OK && !(code == CURLE_WRITE_ERROR && body_too_large_)) {
      out.failure = curl_easy_strerror(code);
      return out;
    }
    if (body_too_large_) {
      out.failure = "body larger than body_size_limit";
      return out;
    }
    if (!StatusValid(status)) {
      out.failure = "status " + std::to_string(status) + " not valid";
      return out;
    }
    if (!BodyMatches(&out.failure)) {
      out.Set(kFailedDueToRegex, 1);
      return out;
    }
    out.Set(kSuccess, 1);
    return out;
  }

  bool StatusValid(long status) const {
    if (config_.valid_status_codes.empty()) return status >= 200 && status < 300;
    for (int code : config_.valid_status_codes) {
      if (code == status) return true;
    }
    return false;
  }

  bool BodyMatches(std::string* failure) const {
    for (const auto& re : fail_if_matches_) {
      if (RE2::PartialMatch(body_, *re)) {
        *failure = "body matched regexp " + re->pattern();
        return false;
      }
    }
    for (const auto& re : fail_if_not_matches_) {
      if (!RE2::PartialMatch(body_, *re)) {
        *failure = "body did not match regexp " + re->pattern();
        return false;
      }
    }
    return true;
  }

  void SetAddress(Outcome* out) const {
    char* ip = nullptr;
    curl_easy_getinfo(curl_.get(), CURLINFO_PRIMARY_IP, &ip);
    unsigned char bytes[16];
    if (ip && inet_pton(AF_INET, ip, bytes) == 1) {
      out->Set(kIpProtocol, 4);
      out->Set(kIpAddrHash, IpAddrHash(bytes, 4));
    } else if (ip && inet_pton(AF_INET6, ip, bytes) == 1) {
      out->Set(kIpProtocol, 6);
      out->Set(kIpAddrHash, IpAddrHash(bytes, 16));
    } else {
      out->Set(kIpProtocol, 0);
    }
  }

  // libcurl's timings all count from the start; blackbox_exporter's phases are the gaps between
  // its trace's events: DNS done, connected (TLS done), first response byte, body read.
  void SetPhases(bool responded, Outcome* out) const {
    CURL* curl = curl_.get();
    curl_off_t resolved = 0, connected = 0, tls_done = 0, pretransfer = 0, first_byte = 0,
               total = 0;
    curl_easy_getinfo(curl, CURLINFO_NAMELOOKUP_TIME_T, &resolved);
    curl_easy_getinfo(curl, CURLINFO_CONNECT_TIME_T, &connected);
    curl_easy_getinfo(curl, CURLINFO_APPCONNECT_TIME_T, &tls_done);
    curl_easy_getinfo(curl, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
    curl_easy_getinfo(curl, CURLINFO_STARTTRANSFER_TIME_T, &first_byte);
    curl_easy_getinfo(curl, CURLINFO_TOTAL_TIME_T, &total);
    out->phases[kResolve] = Seconds(resolved);
    if (connected == 0) return;  // never connected
    out->phases[kConnect] = Seconds(connected - resolved);
    if (tls_done > 0) out->phases[kTls] = Seconds(tls_done - resolved);
    if (!responded || first_byte == 0) return;
    out->phases[kProcessing] = Seconds(first_byte - pretransfer);
    out->phases[kTransfer] = Seconds(total - first_byte);
  }

  std::string name_;
  ProbeConfig config_;
  std::unique_ptr<CURL, CurlEasyFree> curl_;
  std::unique_ptr<curl_slist, CurlSlistFree> headers_;
  std::vector<std::unique_ptr<RE2>> fail_if_matches_, fail_if_not_matches_;
  std::array<Labels, kMetricCount> series_;
  std::array<Labels, kPhaseCount> phase_series_;
  std::string body_;  // kept only when a regexp needs it; reused between probes
  uint64_t body_bytes_ = 0;
  bool body_too_large_ = false;
  bool last_success_ = true;
};

}  // namespace

std::unique_ptr<Source> MakeProbeSource(const ProbeConfig& config) {
  return std::make_unique<HttpProbeSource>(config);
}

}  // namespace crmscope::agent
