#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "agent/sources/scrape/scrape_source.h"
#include "agent/sources/scrape/yaml_walk.h"

namespace crmscope::agent {

namespace {

using namespace yaml_walk;

std::string Quoted(std::string_view s) {
  std::string out = "\"";
  out.append(s);
  out.push_back('"');
  return out;
}

ScrapeStaticConfig ParseStaticConfig(const YAML::Node& node) {
  ScrapeStaticConfig group;
  ForEachKey(node, "static_configs item", {
      {"targets", [&](const YAML::Node& v) {
         group.targets = StringList(v, "targets");
         for (size_t i = 0; i < group.targets.size(); ++i) {
           const std::string& target = group.targets[i];
           // As Prometheus: a target is an address; the path and scheme come from the config.
           if (target.empty() || target.find('/') != std::string::npos) {
             throw ErrorAt(v[i], Quoted(target) + " is not a valid hostname");
           }
         }
       }},
      {"labels", [&](const YAML::Node& v) {
         if (!v.IsMap()) throw ErrorAt(v, "labels must be a mapping");
         for (const auto& entry : v) {
           std::string name = Scalar(entry.first, "label name");
           if (!IsValidLabelName(name)) {
             throw ErrorAt(entry.first, Quoted(name) + " is not a valid label name");
           }
           // Such labels steer target relabelling in Prometheus, which this source lacks.
           if (name.starts_with("__")) {
             throw ErrorAt(entry.first, "label names starting with \"__\" are reserved");
           }
           std::string value = entry.second.IsNull() ? "" : Scalar(entry.second, name);
           if (!IsValidUtf8(value)) throw ErrorAt(entry.second, "invalid UTF-8 in label value");
           group.labels.push_back({std::move(name), std::move(value)});
         }
         SortLabels(group.labels);
       }},
  });
  return group;
}

void ParseParams(const YAML::Node& node, ScrapeConfig* out) {
  if (!node.IsMap()) throw ErrorAt(node, "params must be a mapping of lists");
  for (const auto& entry : node) {
    std::string name = Scalar(entry.first, "params key");
    out->params.emplace_back(std::move(name), StringList(entry.second, "params values"));
  }
}

void Check(const YAML::Node& item, ScrapeConfig* c, const YAML::Node& timeout_node) {
  if (c->job_name.empty()) throw ErrorAt(item, "job_name is empty");
  if (c->interval_ms > 0 && c->timeout_ms > c->interval_ms) {
    throw ErrorAt(timeout_node, "scrape timeout greater than scrape interval for scrape config "
                                "with job name " + Quoted(c->job_name));
  }
  if (!c->bearer_token.empty() && !c->bearer_token_file.empty()) {
    throw ErrorAt(item, "at most one of bearer_token & bearer_token_file must be configured");
  }
}

}  // namespace

bool ParseScrapeConfig(const YAML::Node& item, ScrapeConfig* out, std::string* error) {
  ScrapeConfig c;
  YAML::Node timeout_node = item;
  try {
    ForEachKey(item, "scrape config", {
        {"job_name", [&](const YAML::Node& v) { c.job_name = Scalar(v, "job_name"); }},
        {"scrape_interval",
         [&](const YAML::Node& v) { c.interval_ms = DurationMs(v, "scrape_interval"); }},
        {"scrape_timeout", [&](const YAML::Node& v) {
           c.timeout_ms = DurationMs(v, "scrape_timeout");
           timeout_node.reset(v);  // rebinds; `=` would overwrite the item itself
         }},
        {"metrics_path", [&](const YAML::Node& v) {
           c.metrics_path = Scalar(v, "metrics_path");
           if (!c.metrics_path.starts_with('/')) throw ErrorAt(v, "metrics_path must start with /");
         }},
        {"scheme", [&](const YAML::Node& v) {
           c.scheme = Scalar(v, "scheme");
           if (c.scheme != "http" && c.scheme != "https") {
             throw ErrorAt(v, "scheme must be \"http\" or \"https\", not " + Quoted(c.scheme));
           }
         }},
        {"params", [&](const YAML::Node& v) { ParseParams(v, &c); }},
        {"honor_labels", [&](const YAML::Node& v) { c.honor_labels = Bool(v, "honor_labels"); }},
        {"honor_timestamps",
         [&](const YAML::Node& v) { c.honor_timestamps = Bool(v, "honor_timestamps"); }},
        {"static_configs", [&](const YAML::Node& v) {
           if (!v.IsSequence()) throw ErrorAt(v, "static_configs must be a list");
           for (const YAML::Node& group : v) c.static_configs.push_back(ParseStaticConfig(group));
         }},
        {"metric_relabel_configs", [&](const YAML::Node& v) {
           std::string problem;
           if (!ParseRelabelConfigs(v, &c.metric_relabel_configs, &problem)) {
             throw ConfigError(problem);
           }
         }},
        {"bearer_token", [&](const YAML::Node& v) { c.bearer_token = Scalar(v, "bearer_token"); }},
        {"bearer_token_file",
         [&](const YAML::Node& v) { c.bearer_token_file = Scalar(v, "bearer_token_file"); }},
    });
    Check(item, &c, timeout_node);
  } catch (const ConfigError& e) {
    *error = e.what();
    return false;
  }
  *out = std::move(c);
  return true;
}

int64_t EffectiveScrapeTimeoutMs(const ScrapeConfig& config) {
  if (config.timeout_ms > 0) return config.timeout_ms;
  constexpr int64_t kDefaultTimeoutMs = 10'000;
  return config.interval_ms > 0 ? std::min(kDefaultTimeoutMs, config.interval_ms)
                                : kDefaultTimeoutMs;
}

}  // namespace crmscope::agent
