#include "agent/sources/haproxy/haproxy_source.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <set>
#include <unordered_map>
#include <vector>

#include "agent/sources/haproxy/stats_csv.h"
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

// The object a CSV line describes; listeners (type 3) are left out, as promex leaves them out
// unless asked.
enum Kind : uint8_t { kFrontend = 0, kBackend = 1, kServer = 2, kKinds = 3 };
constexpr std::array<std::string_view, kKinds> kKindNames = {"frontend", "backend", "server"};
constexpr uint8_t F = 1 << kFrontend, B = 1 << kBackend, S = 1 << kServer;

// One CSV column as one promex family per kind that has it. HAProxy writes times in
// milliseconds; promex, following Prometheus's base units, in seconds.
struct FieldMetric {
  std::string_view suffix;  // after "haproxy_<kind>_"
  std::string_view column;
  double scale;
  MetricKind kind;
  uint8_t kinds;
  std::string_view help;
};
constexpr MetricKind G = MetricKind::kGauge, C = MetricKind::kCounter;
constexpr FieldMetric kFieldMetrics[] = {
    {"current_queue", "qcur", 1, G, B | S, "Number of current queued connections"},
    {"max_queue", "qmax", 1, G, B | S,
     "Highest value of queued connections encountered since process started"},
    {"current_sessions", "scur", 1, G, F | B | S,
     "Number of current sessions on the frontend, backend or server"},
    {"max_sessions", "smax", 1, G, F | B | S,
     "Highest value of current sessions encountered since process started"},
    {"limit_sessions", "slim", 1, G, F | B | S,
     "Frontend/listener/server's maxconn, backend's fullconn"},
    {"sessions_total", "stot", 1, C, F | B | S, "Total number of sessions since process started"},
    {"bytes_in_total", "bin", 1, C, F | B | S,
     "Total number of request bytes since process started"},
    {"bytes_out_total", "bout", 1, C, F | B | S,
     "Total number of response bytes since process started"},
    {"requests_denied_total", "dreq", 1, C, F | B,
     "Total number of denied requests since process started"},
    {"responses_denied_total", "dresp", 1, C, F | B | S,
     "Total number of denied responses since process started"},
    {"request_errors_total", "ereq", 1, C, F,
     "Total number of invalid requests since process started"},
    {"connection_errors_total", "econ", 1, C, B | S,
     "Total number of failed connections to server since the worker process started"},
    {"response_errors_total", "eresp", 1, C, B | S,
     "Total number of invalid responses since the worker process started"},
    {"retry_warnings_total", "wretr", 1, C, B | S,
     "Total number of server connection retries since the worker process started"},
    {"redispatch_warnings_total", "wredis", 1, C, B | S,
     "Total number of server redispatches due to connection failures since the worker process "
     "started"},
    {"weight", "weight", 1, G, B | S,
     "Server's effective weight, or sum of active servers' effective weights for a backend"},
    {"uweight", "uweight", 1, G, B | S,
     "Server's user weight, or sum of active servers' user weights for a backend"},
    {"active_servers", "act", 1, G, B, "Total number of active UP servers with a non-zero weight"},
    {"backup_servers", "bck", 1, G, B, "Total number of backup UP servers with a non-zero weight"},
    {"check_failures_total", "chkfail", 1, C, S,
     "Total number of failed individual health checks per server/backend, since the worker "
     "process started"},
    {"check_up_down_total", "chkdown", 1, C, B | S,
     "Total number of failed checks causing UP to DOWN server transitions, per server/backend, "
     "since the worker process started"},
    {"check_last_change_seconds", "lastchg", 1, G, B | S,
     "How long ago the last server state changed, in seconds"},
    {"downtime_seconds_total", "downtime", 1, C, B | S,
     "Total time spent in DOWN state, for server or backend"},
    {"queue_limit", "qlimit", 1, G, S,
     "Limit on the number of connections in queue, for servers only (maxqueue argument)"},
    {"current_throttle", "throttle", 1, G, S,
     "Throttling ratio applied to a server's maxconn and weight during the slowstart period (0 "
     "to 100%)"},
    {"loadbalanced_total", "lbtot", 1, C, B | S,
     "Total number of requests routed by load balancing since the worker process started "
     "(ignores queue pop and stickiness)"},
    {"limit_session_rate", "rate_lim", 1, G, F,
     "Limit on the number of sessions accepted in a second (frontend only, 'rate-limit sessions' "
     "setting)"},
    {"max_session_rate", "rate_max", 1, G, F | B | S,
     "Highest value of sessions per second observed since the worker process started"},
    {"http_requests_rate_max", "req_rate_max", 1, G, F,
     "Highest value of http requests observed since the worker process started"},
    {"http_requests_total", "req_tot", 1, C, F | B,
     "Total number of HTTP requests processed by this object since the worker process started"},
    {"client_aborts_total", "cli_abrt", 1, C, B | S,
     "Total number of requests or connections aborted by the client since the worker process "
     "started"},
    {"server_aborts_total", "srv_abrt", 1, C, B | S,
     "Total number of requests or connections aborted by the server since the worker process "
     "started"},
    {"last_session_seconds", "lastsess", 1, G, B | S,
     "How long ago some traffic was seen on this object on this worker process, in seconds"},
    {"queue_time_average_seconds", "qtime", 0.001, G, B | S,
     "Avg. queue time for last 1024 successful connections."},
    {"connect_time_average_seconds", "ctime", 0.001, G, B | S,
     "Avg. connect time for last 1024 successful connections."},
    {"response_time_average_seconds", "rtime", 0.001, G, B | S,
     "Avg. response time for last 1024 successful connections."},
    {"total_time_average_seconds", "ttime", 0.001, G, B | S,
     "Avg. total time for last 1024 successful connections."},
    {"max_queue_time_seconds", "qtime_max", 0.001, G, B | S,
     "Maximum observed time spent in the queue"},
    {"max_connect_time_seconds", "ctime_max", 0.001, G, B | S,
     "Maximum observed time spent waiting for a connection to complete"},
    {"max_response_time_seconds", "rtime_max", 0.001, G, B | S,
     "Maximum observed time spent waiting for a server response"},
    {"max_total_time_seconds", "ttime_max", 0.001, G, B | S,
     "Maximum observed total request+response time (request+queue+connect+response+processing)"},
    {"connections_rate_max", "conn_rate_max", 1, G, F,
     "Highest value of connections per second observed since the worker process started"},
    {"connections_total", "conn_tot", 1, C, F,
     "Total number of new connections accepted on this frontend since the worker process "
     "started"},
    {"intercepted_requests_total", "intercepted", 1, C, F,
     "Total number of HTTP requests intercepted on the frontend (redirects/stats/services) since "
     "the worker process started"},
    {"denied_connections_total", "dcon", 1, C, F,
     "Total number of incoming connections blocked on a listener/frontend by a tcp-request "
     "connection rule since the worker process started"},
    {"denied_sessions_total", "dses", 1, C, F,
     "Total number of incoming sessions blocked on a listener/frontend by a tcp-request "
     "connection rule since the worker process started"},
    {"failed_header_rewriting_total", "wrew", 1, C, F | B | S,
     "Total number of failed HTTP header rewrites since the worker process started"},
    {"connection_attempts_total", "connect", 1, C, B | S,
     "Total number of outgoing connection attempts on this backend/server since the worker "
     "process started"},
    {"connection_reuses_total", "reuse", 1, C, B | S,
     "Total number of reused connection on this backend/server since the worker process started"},
    {"internal_errors_total", "eint", 1, C, F | B | S,
     "Total number of internal errors since process started"},
};
constexpr size_t kFieldCount = std::size(kFieldMetrics);

// promex's state sets: one series per state, 1 for the current one.
constexpr std::array<std::string_view, 5> kServerStates = {"DOWN", "UP", "MAINT", "DRAIN", "NOLB"};
constexpr std::array<std::string_view, 2> kProxyStates = {"DOWN", "UP"};
constexpr std::string_view kStatusHelp = "Current status of the service, per state label value.";

constexpr std::array<std::string_view, 6> kResponseCodes = {"1xx", "2xx", "3xx",
                                                            "4xx", "5xx", "other"};
constexpr std::array<std::string_view, 6> kResponseColumns = {"hrsp_1xx", "hrsp_2xx", "hrsp_3xx",
                                                              "hrsp_4xx", "hrsp_5xx", "hrsp_other"};
constexpr std::string_view kResponsesHelp =
    "Total number of HTTP responses returned by this object since the worker process started, "
    "per status class";

// The index into the kind's state set, as promex derives it from the server's state and admin
// flags, here from the text HAProxy's stats write for them ("UP 1/3" is still UP, going down;
// "DOWN 1/2" still DOWN, going up; "no check" is a running server without checks).
size_t StateIndex(Kind kind, std::string_view status) {
  if (kind == kFrontend) return status == "STOP" ? 0 : 1;
  if (kind == kBackend) return status.starts_with("UP") ? 1 : 0;
  if (status.starts_with("MAINT")) return 2;
  if (status.starts_with("DRAIN")) return 3;
  if (status.starts_with("NOLB")) return 4;
  if (status.starts_with("UP") || status == "no check") return 1;
  return 0;
}

bool ParseNumber(std::string_view text, double* value) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && end == text.data() + text.size();
}

// The series of one frontend, backend or server, built once when it first appears.
struct RowSeries {
  std::vector<Labels> fields;  // parallel to kFieldMetrics; empty where the kind lacks one
  std::vector<Labels> states;
  std::array<Labels, kResponseCodes.size()> responses;
  uint64_t generation = 0;
};

class HaproxySource final : public Source {
 public:
  HaproxySource(const HaproxyConfig& config, std::string instance,
                std::unique_ptr<StatsFetcher> fetcher)
      : name_("haproxy:" + instance), fetcher_(std::move(fetcher)) {
    base_ = {{"instance", std::move(instance)}, {"job", config.job}};
    for (const Label& label : config.labels) {
      std::erase_if(base_, [&](const Label& l) { return l.name == label.name; });
      base_.push_back(label);
    }
    up_ = Series("haproxy_up", {});
    for (size_t k = 0; k < kKinds; ++k) {
      std::string prefix = "haproxy_" + std::string(kKindNames[k]) + "_";
      for (const FieldMetric& m : kFieldMetrics) {
        families_[k].push_back(m.kinds & (1 << k) ? prefix + std::string(m.suffix) : "");
      }
      status_family_[k] = prefix + "status";
      responses_family_[k] = prefix + "http_responses_total";
    }
  }

  std::string_view name() const override { return name_; }

  void Collect(TimestampMs, SampleSink& sink) override {
    std::string error;
    bool ok = fetcher_->Fetch(&csv_, &error) && reader_.Reset(csv_, &error);
    sink.Describe("haproxy_up", MetricKind::kGauge, "Was the last scrape of HAProxy successful.",
                  "");
    sink.Add(up_, ok ? 1 : 0);
    if (ok != was_up_) {
      if (ok) {
        log::Info("HAProxy stats are back", {{"source", name_}});
      } else {
        log::Warn("HAProxy stats unavailable", {{"source", name_}, {"err", error}});
      }
      was_up_ = ok;
    }
    if (!ok) return;
    if (reader_.header() != header_) ResolveColumns();
    DescribeFamilies(sink);
    ++generation_;
    while (reader_.NextRow()) AddRow(sink);
    std::erase_if(rows_, [&](const auto& row) { return row.second.generation != generation_; });
  }

 private:
  Labels Series(std::string_view family, std::initializer_list<LabelView> extra) const {
    Labels labels = base_;
    labels.push_back({std::string(kMetricNameLabel), std::string(family)});
    for (const LabelView& l : extra) labels.push_back({std::string(l.name), std::string(l.value)});
    SortLabels(labels);
    return labels;
  }

  void ResolveColumns() {
    header_ = reader_.header();
    for (size_t i = 0; i < kFieldCount; ++i) columns_[i] = reader_.Column(kFieldMetrics[i].column);
    for (size_t i = 0; i < kResponseColumns.size(); ++i) {
      response_columns_[i] = reader_.Column(kResponseColumns[i]);
    }
    type_column_ = reader_.Column("type");
    status_column_ = reader_.Column("status");
  }

  void DescribeFamilies(SampleSink& sink) const {
    for (size_t k = 0; k < kKinds; ++k) {
      for (size_t i = 0; i < kFieldCount; ++i) {
        if (families_[k][i].empty()) continue;
        sink.Describe(families_[k][i], kFieldMetrics[i].kind, kFieldMetrics[i].help, "");
      }
      sink.Describe(status_family_[k], MetricKind::kGauge, kStatusHelp, "");
      sink.Describe(responses_family_[k], MetricKind::kCounter, kResponsesHelp, "");
    }
  }

  bool RowKind(std::string_view svname, Kind* kind) const {
    std::string_view type = reader_.Field(type_column_);
    if (type_column_ < 0) type = svname == "FRONTEND" ? "0" : svname == "BACKEND" ? "1" : "2";
    if (type == "0")
      *kind = kFrontend;
    else if (type == "1")
      *kind = kBackend;
    else if (type == "2")
      *kind = kServer;
    else
      return false;
    return true;
  }

  RowSeries& SeriesOf(Kind kind, std::string_view proxy, std::string_view server) {
    key_.assign(1, static_cast<char>('0' + kind));
    key_.append(proxy).push_back('\n');
    key_.append(server);
    auto [it, inserted] = rows_.try_emplace(key_);
    RowSeries& row = it->second;
    if (!inserted) return row;
    LabelView px{"proxy", proxy}, sv{"server", server};
    auto series = [&](std::string_view family, std::string_view name, std::string_view value) {
      if (kind == kServer) {
        return name.empty() ? Series(family, {px, sv}) : Series(family, {px, sv, {name, value}});
      }
      return name.empty() ? Series(family, {px}) : Series(family, {px, {name, value}});
    };
    row.fields.resize(kFieldCount);
    for (size_t i = 0; i < kFieldCount; ++i) {
      if (!families_[kind][i].empty()) row.fields[i] = series(families_[kind][i], "", "");
    }
    if (kind == kServer) {
      for (std::string_view s : kServerStates)
        row.states.push_back(series(status_family_[kind], "state", s));
    } else {
      for (std::string_view s : kProxyStates)
        row.states.push_back(series(status_family_[kind], "state", s));
    }
    for (size_t i = 0; i < kResponseCodes.size(); ++i) {
      row.responses[i] = series(responses_family_[kind], "code", kResponseCodes[i]);
    }
    return row;
  }

  void AddRow(SampleSink& sink) {
    std::string_view proxy = reader_.Field(0), server = reader_.Field(1);
    Kind kind;
    if (proxy.empty() || !RowKind(server, &kind)) return;
    RowSeries& row = SeriesOf(kind, proxy, kind == kServer ? server : std::string_view());
    row.generation = generation_;
    double value = 0;
    for (size_t i = 0; i < kFieldCount; ++i) {
      if (row.fields[i].empty() || !ParseNumber(reader_.Field(columns_[i]), &value)) continue;
      sink.Add(row.fields[i], value * kFieldMetrics[i].scale);
    }
    std::string_view status = reader_.Field(status_column_);
    if (!status.empty()) {
      size_t current = StateIndex(kind, status);
      for (size_t s = 0; s < row.states.size(); ++s) sink.Add(row.states[s], s == current ? 1 : 0);
    }
    for (size_t i = 0; i < kResponseCodes.size(); ++i) {
      if (ParseNumber(reader_.Field(response_columns_[i]), &value))
        sink.Add(row.responses[i], value);
    }
  }

  std::string name_;
  std::unique_ptr<StatsFetcher> fetcher_;
  Labels base_;
  Labels up_;
  std::array<std::vector<std::string>, kKinds> families_;  // "" where a kind lacks the field
  std::array<std::string, kKinds> status_family_, responses_family_;
  std::string csv_;  // reused between collections
  StatsCsv reader_;
  std::string header_;  // the header the column indexes below were resolved for
  std::array<int, kFieldCount> columns_{};
  std::array<int, kResponseColumns.size()> response_columns_{};
  int type_column_ = -1, status_column_ = -1;
  std::unordered_map<std::string, RowSeries> rows_;
  std::string key_;
  uint64_t generation_ = 0;
  bool was_up_ = true;
};

// --- Config ---------------------------------------------------------------------------------

struct CurlUrlFree {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
struct CurlStringFree {
  void operator()(char* text) const { curl_free(text); }
};

// "host:port" of an http(s) URL, the way Prometheus names a target in `instance`.
bool InstanceOfUrl(const std::string& url, std::string* instance, std::string* error) {
  std::unique_ptr<CURLU, CurlUrlFree> parsed(curl_url());
  if (!parsed || curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    *error = "url \"" + url + "\" is not a valid URL";
    return false;
  }
  auto part = [&](CURLUPart which, unsigned flags) {
    char* raw = nullptr;
    curl_url_get(parsed.get(), which, &raw, flags);
    return std::unique_ptr<char, CurlStringFree>(raw);
  };
  auto scheme = part(CURLUPART_SCHEME, 0);
  if (!scheme ||
      (std::string_view(scheme.get()) != "http" && std::string_view(scheme.get()) != "https")) {
    *error = "url \"" + url + "\" must be http:// or https://";
    return false;
  }
  auto host = part(CURLUPART_HOST, 0);
  auto port = part(CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (!host || !port) {
    *error = "url \"" + url + "\" has no host";
    return false;
  }
  *instance = std::string(host.get()) + ":" + port.get();
  return true;
}

// Unset, the timeout is 5 s capped by the interval, as Prometheus caps scrape_timeout by
// scrape_interval: a collection never outlasts its period.
int64_t EffectiveTimeoutMs(int64_t timeout_ms, int64_t interval_ms) {
  if (timeout_ms > 0) return timeout_ms;
  return interval_ms > 0 ? std::min<int64_t>(5000, interval_ms) : 5000;
}

// The stats page writes CSV only when asked with ";csv" (haproxy_exporter's URLs carry it).
std::string CsvUrl(const std::string& url) {
  return url.find(";csv") == std::string::npos ? url + ";csv" : url;
}

std::string InstanceOf(const HaproxyConfig& config) {
  if (!config.socket.empty()) return config.socket;
  std::string instance, error;
  return InstanceOfUrl(config.url, &instance, &error) ? instance : config.url;
}

}  // namespace

bool ParseHaproxyConfig(const YAML::Node& item, HaproxyConfig* out, std::string* error) {
  HaproxyConfig config;
  try {
    if (!item.IsMap()) Fail(item, "a haproxy source must be a mapping");
    std::set<std::string> seen;
    for (const auto& entry : item) {
      std::string key = Scalar(entry.first, "a key");
      const YAML::Node& value = entry.second;
      if (!seen.insert(key).second) Fail(entry.first, "duplicate key \"" + key + "\"");
      if (key == "url") {
        config.url = Scalar(value, key);
        std::string instance, problem;
        if (!InstanceOfUrl(config.url, &instance, &problem)) Fail(value, problem);
      } else if (key == "socket") {
        config.socket = Scalar(value, key);
        if (config.socket.empty()) Fail(value, "socket must not be empty");
      } else if (key == "timeout") {
        config.timeout_ms = PositiveDuration(value, key);
      } else if (key == "interval") {
        config.interval_ms = PositiveDuration(value, key);
      } else if (key == "job") {
        config.job = Scalar(value, key);
      } else if (key == "labels") {
        config.labels = ConstantLabels(value);
      } else {
        Fail(entry.first, "unknown key \"" + key + "\" in haproxy");
      }
    }
    if (config.url.empty() == config.socket.empty()) {
      Fail(item, "haproxy needs exactly one of url and socket");
    }
  } catch (const ConfigError& e) {
    *error = e.message;
    return false;
  }
  *out = std::move(config);
  return true;
}

std::unique_ptr<Source> MakeHaproxySource(const HaproxyConfig& config,
                                          std::unique_ptr<StatsFetcher> fetcher) {
  return std::make_unique<HaproxySource>(config, InstanceOf(config), std::move(fetcher));
}

std::unique_ptr<Source> MakeHaproxySource(const HaproxyConfig& config) {
  int64_t timeout_ms = EffectiveTimeoutMs(config.timeout_ms, config.interval_ms);
  std::unique_ptr<StatsFetcher> fetcher = config.socket.empty()
                                              ? MakeHttpStatsFetcher(CsvUrl(config.url), timeout_ms)
                                              : MakeSocketStatsFetcher(config.socket, timeout_ms);
  return MakeHaproxySource(config, std::move(fetcher));
}

}  // namespace crmscope::agent
