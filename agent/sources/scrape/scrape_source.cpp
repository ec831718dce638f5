#include "agent/sources/scrape/scrape_source.h"

#include <curl/curl.h>

#include <array>
#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>

#include "agent/sources/scrape/label_edit.h"
#include "agent/sources/scrape/target_http_client.h"
#include "agent/sources/scrape/target_series_cache.h"
#include "common/log.h"

namespace crmscope::agent {

namespace {

// The series Prometheus writes for every target, with its metadata.
struct ReportSeries {
  std::string_view name;
  std::string_view help;
  std::string_view unit;
};
enum ReportIndex { kUp, kDuration, kScraped, kPostRelabel, kSeriesAdded, kReportCount };
constexpr std::array<ReportSeries, kReportCount> kReportSeries = {{
    {"up", "Health of the scrape target. 1 means the target is healthy, 0 if the scrape failed.",
     "targets"},
    {"scrape_duration_seconds", "Duration of the last scrape in seconds.", "seconds"},
    {"scrape_samples_scraped", "Number of samples last scraped.", "samples"},
    {"scrape_samples_post_metric_relabeling",
     "Number of samples remaining after metric relabeling was applied.", "samples"},
    {"scrape_series_added", "Number of series in the last scrape.", "series"},
}};

// Prometheus 2.42 gives a target without a port the scheme's default one.
std::string AddressWithPort(const std::string& address, const std::string& scheme) {
  std::string port = scheme == "https" ? ":443" : ":80";
  if (address.starts_with('[')) {
    return address.ends_with(']') ? address + port : address;
  }
  size_t colons = std::count(address.begin(), address.end(), ':');
  return colons == 0 ? address + port : address;  // several colons: a bare IPv6, left alone
}

std::string QueryString(const ScrapeConfig& config) {
  std::string query;
  for (const auto& [name, values] : config.params) {
    for (const std::string& value : values) {
      char* key = curl_easy_escape(nullptr, name.c_str(), static_cast<int>(name.size()));
      char* val = curl_easy_escape(nullptr, value.c_str(), static_cast<int>(value.size()));
      query += query.empty() ? "?" : "&";
      if (key != nullptr && val != nullptr) query += std::string(key) + "=" + val;
      curl_free(key);
      curl_free(val);
    }
  }
  return query;
}

bool ReadTokenFile(const std::string& path, std::string* token, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "unable to read bearer token file " + path;
    return false;
  }
  std::stringstream content;
  content << in.rdbuf();
  *token = content.str();
  // As Prometheus: the surrounding whitespace (the newline `echo` leaves) is no part of it.
  size_t first = token->find_first_not_of(" \t\r\n");
  size_t last = token->find_last_not_of(" \t\r\n");
  *token = first == std::string::npos ? "" : token->substr(first, last - first + 1);
  return true;
}

struct Target {
  Target(std::string url, int64_t timeout_ms, SampleLabeling labeling)
      : http(std::move(url), timeout_ms), cache(std::move(labeling)) {}
  TargetHttpClient http;
  TargetSeriesCache cache;
  std::array<Labels, kReportCount> report_labels;
  ScrapeTargetHealth health;  // guarded by ScrapeSourceImpl::health_mu_
};

class ScrapeSourceImpl final : public ScrapeSource {
 public:
  ScrapeSourceImpl(const ScrapeConfig& config, std::unique_ptr<const Relabeler> relabeler);
  std::string_view name() const override { return name_; }
  void Collect(TimestampMs now, SampleSink& sink) override;
  std::vector<ScrapeTargetHealth> TargetHealth() const override;

 private:
  void AddTarget(const std::string& address, const Labels& group_labels);
  void FinishTarget(Target& target, const std::string& failure, TimestampMs now,
                    std::chrono::steady_clock::time_point start, SampleSink& sink);

  ScrapeConfig config_;
  std::string name_;
  int64_t timeout_ms_;
  std::unique_ptr<const Relabeler> relabeler_;
  std::vector<std::unique_ptr<Target>> targets_;
  ConcurrentFetcher fetcher_;
  std::vector<TargetHttpClient*> fetching_;
  std::vector<Target*> fetching_targets_;
  mutable std::mutex health_mu_;
};

ScrapeSourceImpl::ScrapeSourceImpl(const ScrapeConfig& config,
                                   std::unique_ptr<const Relabeler> relabeler)
    : config_(config),
      name_("scrape:" + config.job_name),
      timeout_ms_(EffectiveScrapeTimeoutMs(config)),
      relabeler_(std::move(relabeler)) {
  for (const ScrapeStaticConfig& group : config_.static_configs) {
    for (const std::string& address : group.targets) AddTarget(address, group.labels);
  }
}

void ScrapeSourceImpl::AddTarget(const std::string& address, const Labels& group_labels) {
  std::string host_port = AddressWithPort(address, config_.scheme);
  std::string url = config_.scheme + "://" + host_port + config_.metrics_path + QueryString(config_);
  // As Prometheus's PopulateLabels: a static label may override job and instance.
  Labels labels = group_labels;
  if (!HasLabel(labels, "job")) SetLabel(labels, "job", config_.job_name);
  if (!HasLabel(labels, "instance")) SetLabel(labels, "instance", host_port);
  SampleLabeling labeling{labels, config_.honor_labels, config_.honor_timestamps,
                          relabeler_.get()};
  auto target = std::make_unique<Target>(url, timeout_ms_, std::move(labeling));
  for (int i = 0; i < kReportCount; ++i) {
    target->report_labels[i] = labels;
    SetLabel(target->report_labels[i], kMetricNameLabel, kReportSeries[i].name);
  }
  target->health.instance = std::string(GetLabel(labels, "instance"));
  target->health.url = url;
  target->health.up = true;  // so that a first failure is logged
  targets_.push_back(std::move(target));
}

void ScrapeSourceImpl::Collect(TimestampMs now, SampleSink& sink) {
  for (const ReportSeries& r : kReportSeries) {
    sink.Describe(r.name, MetricKind::kGauge, r.help, r.unit);
  }
  auto start = std::chrono::steady_clock::now();
  std::string token = config_.bearer_token;
  std::string token_error;
  if (!config_.bearer_token_file.empty()) ReadTokenFile(config_.bearer_token_file, &token, &token_error);
  fetching_.clear();
  fetching_targets_.clear();
  for (const auto& target : targets_) {
    if (!token_error.empty()) {
      FinishTarget(*target, token_error, now, start, sink);
      continue;
    }
    target->http.SetBearerToken(token);
    fetching_.push_back(&target->http);
    fetching_targets_.push_back(target.get());
  }
  // The guard only matters should libcurl overrun a timeout it was given.
  fetcher_.FetchAll(fetching_, timeout_ms_ + 1000, [&](size_t i) {
    Target& target = *fetching_targets_[i];
    FinishTarget(target, target.http.error(), now, start, sink);
  });
}

void ScrapeSourceImpl::FinishTarget(Target& target, const std::string& failure, TimestampMs now,
                                    std::chrono::steady_clock::time_point start,
                                    SampleSink& sink) {
  std::string error = failure;
  AppendCounts counts;
  if (error.empty()) {
    counts = target.cache.Append(target.http.body(),
                                 ExpositionFormatFor(target.http.content_type()), now, sink, &error);
  } else {
    target.cache.AppendFailure(now, sink);
  }
  // As Prometheus, the duration covers the request and the append of what it brought.
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  bool up = error.empty();
  const double values[kReportCount] = {up ? 1.0 : 0.0, seconds, double(counts.scraped),
                                       double(counts.post_relabel), double(counts.series_added)};
  for (int i = 0; i < kReportCount; ++i) sink.Add(target.report_labels[i], values[i]);

  std::lock_guard<std::mutex> lock(health_mu_);
  ScrapeTargetHealth& health = target.health;
  // A change of state at warn/info, every failure at debug as Prometheus logs them: a target down
  // for hours must not fill the log, and errors carry timings that differ on every attempt.
  if (up && !health.up) {
    log::Info("Target is up",
              {{"component", "scrape"}, {"job", config_.job_name}, {"target", health.url}});
  } else if (!up) {
    log::Write(health.up ? log::Level::kWarn : log::Level::kDebug, "Scrape failed",
               {{"component", "scrape"}, {"job", config_.job_name}, {"target", health.url},
                {"err", error}});
  }
  health.up = up;
  health.last_error = std::move(error);
  health.last_duration_seconds = seconds;
  health.last_samples_scraped = counts.scraped;
}

std::vector<ScrapeTargetHealth> ScrapeSourceImpl::TargetHealth() const {
  std::lock_guard<std::mutex> lock(health_mu_);
  std::vector<ScrapeTargetHealth> out;
  for (const auto& target : targets_) out.push_back(target->health);
  return out;
}

}  // namespace

std::unique_ptr<ScrapeSource> MakeScrapeSource(const ScrapeConfig& config) {
  std::string error;
  std::unique_ptr<const Relabeler> relabeler =
      Relabeler::Make(config.metric_relabel_configs, &error);
  if (!relabeler || config.job_name.empty()) return nullptr;
  for (const ScrapeStaticConfig& group : config.static_configs) {
    for (const std::string& target : group.targets) {
      if (target.empty() || target.find('/') != std::string::npos) return nullptr;
    }
    for (const Label& l : group.labels) {
      if (!IsValidLabelName(l.name)) return nullptr;
    }
  }
  return std::make_unique<ScrapeSourceImpl>(config, std::move(relabeler));
}

}  // namespace crmscope::agent
