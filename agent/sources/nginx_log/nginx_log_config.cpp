// ParseNginxLogConfig: one `sources: nginx_log:` item of the agent's YAML config.
#include <yaml-cpp/yaml.h>

#include <cmath>

#include "agent/sources/nginx_log/log_format.h"
#include "agent/sources/nginx_log/nginx_log_source.h"
#include "common/time.h"

namespace crmscope::agent {

namespace {

constexpr size_t kMaxRoutesLimit = 100000;

std::string At(const YAML::Node& node) {
  YAML::Mark mark = node.Mark();
  return std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) + ": ";
}

bool ScalarString(const YAML::Node& node, std::string_view key, std::string* out,
                  std::string* error) {
  if (!node.IsScalar() || node.Scalar().empty()) {
    *error = At(node) + std::string(key) + " must be a non-empty string";
    return false;
  }
  *out = node.Scalar();
  return true;
}

bool ParseBuckets(const YAML::Node& node, std::string_view key, std::vector<double>* out,
                  std::string* error) {
  if (!node.IsSequence() || node.size() == 0) {
    *error = At(node) + std::string(key) + " must be a non-empty list of upper bounds in seconds";
    return false;
  }
  out->clear();
  for (const YAML::Node& bound : node) {
    double value = 0;
    if (!bound.IsScalar() || !YAML::convert<double>::decode(bound, value) ||
        !std::isfinite(value)) {
      *error = At(bound) + std::string(key) + ": \"" + (bound.IsScalar() ? bound.Scalar() : "") +
               "\" is not a finite number (+Inf is always added)";
      return false;
    }
    if (!out->empty() && value <= out->back()) {
      *error = At(bound) + std::string(key) + " must increase strictly";
      return false;
    }
    out->push_back(value);
  }
  return true;
}

bool ParseRouteRule(const YAML::Node& node, nginx_log::RouteRule* rule, std::string* error) {
  if (node.IsScalar()) {
    if (nginx_log::ParseRouteRuleFlag(node.Scalar(), rule, error)) return true;
    *error = At(node) + *error;
    return false;
  }
  if (!node.IsMap()) {
    *error = At(node) + "a route rule is {regex: ..., template: ...} or \"REGEX=TEMPLATE\"";
    return false;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    std::string key = it->first.Scalar();
    std::string* target = key == "regex"      ? &rule->regex
                          : key == "template" ? &rule->route_template
                                              : nullptr;
    if (target == nullptr) {
      *error = At(it->first) + "unknown route rule key \"" + key + "\"";
      return false;
    }
    if (!it->second.IsScalar()) {
      *error = At(it->second) + "route rule " + key + " must be a string";
      return false;
    }
    *target = it->second.Scalar();
  }
  if (rule->regex.empty()) {
    *error = At(node) + "route rule needs a regex";
    return false;
  }
  return true;
}

bool ParseKey(const YAML::Node& key_node, const YAML::Node& value, NginxLogConfig* config,
              std::string* error) {
  const std::string key = key_node.IsScalar() ? key_node.Scalar() : "";
  if (key == "path") return ScalarString(value, key, &config->path, error);
  if (key == "log_format") return ScalarString(value, key, &config->log_format, error);
  if (key == "request_buckets") return ParseBuckets(value, key, &config->request_buckets, error);
  if (key == "upstream_buckets") return ParseBuckets(value, key, &config->upstream_buckets, error);
  if (key == "route_rules") {
    if (!value.IsSequence()) {
      *error = At(value) + "route_rules must be a list";
      return false;
    }
    for (const YAML::Node& item : value) {
      nginx_log::RouteRule rule;
      if (!ParseRouteRule(item, &rule, error)) return false;
      config->route_rules.push_back(std::move(rule));
    }
    return true;
  }
  if (key == "max_routes") {
    int64_t n = 0;
    if (!value.IsScalar() || !YAML::convert<int64_t>::decode(value, n) || n < 1 ||
        static_cast<size_t>(n) > kMaxRoutesLimit) {
      *error =
          At(value) + "max_routes must be an integer from 1 to " + std::to_string(kMaxRoutesLimit);
      return false;
    }
    config->max_routes = static_cast<size_t>(n);
    return true;
  }
  if (key == "interval") {
    std::string parse_error;
    if (!value.IsScalar() || !ParseDuration(value.Scalar(), &config->interval_ms, &parse_error) ||
        config->interval_ms <= 0) {
      *error = At(value) +
               "interval: " + (parse_error.empty() ? "must be a positive duration" : parse_error);
      return false;
    }
    return true;
  }
  *error = At(key_node) + "unknown key \"" + key + "\" in an nginx_log source";
  return false;
}

}  // namespace

bool ParseNginxLogConfig(const YAML::Node& item, NginxLogConfig* out, std::string* error) {
  if (!item.IsMap()) {
    *error = At(item) + "an nginx_log source must be a map";
    return false;
  }
  NginxLogConfig config;
  YAML::Node format_node;
  for (auto it = item.begin(); it != item.end(); ++it) {
    if (!ParseKey(it->first, it->second, &config, error)) return false;
    if (it->first.Scalar() == "log_format") format_node = it->second;
  }
  if (config.path.empty() || config.log_format.empty()) {
    *error = At(item) + "an nginx_log source needs path and log_format";
    return false;
  }
  nginx_log::LogFormat format;
  std::string compile_error;
  if (!nginx_log::LogFormat::Compile(config.log_format, &format, &compile_error)) {
    *error = At(format_node) + "log_format: " + compile_error;
    return false;
  }
  nginx_log::RouteTemplater templater;
  if (!templater.AddRules(config.route_rules, &compile_error)) {
    *error = At(item["route_rules"]) + compile_error;
    return false;
  }
  *out = std::move(config);
  return true;
}

}  // namespace crmscope::agent
