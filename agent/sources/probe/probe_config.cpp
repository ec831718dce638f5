#include <re2/re2.h>

#include <charconv>
#include <set>

#include "agent/sources/probe/http_probe.h"
#include "agent/sources/source_config/config_yaml.h"
#include "common/time.h"

namespace crmscope::agent {

namespace {

using config_yaml::ConfigError;
using config_yaml::ConstantLabels;
using config_yaml::Fail;
using config_yaml::PositiveDuration;
using config_yaml::Scalar;

bool Bool(const YAML::Node& value, std::string_view key) {
  std::string text = Scalar(value, key);
  if (text == "true") return true;
  if (text == "false") return false;
  Fail(value, std::string(key) + " must be true or false");
}

// blackbox_exporter takes a list; a single pattern is accepted too.
std::vector<std::string> Regexps(const YAML::Node& value, std::string_view key) {
  std::vector<std::string> out;
  auto add = [&](const YAML::Node& node) {
    std::string pattern = Scalar(node, key);
    RE2 re(pattern, RE2::Quiet);
    if (!re.ok()) Fail(node, std::string(key) + ": invalid regexp: " + re.error());
    out.push_back(std::move(pattern));
  };
  if (value.IsSequence()) {
    for (const YAML::Node& node : value) add(node);
  } else {
    add(value);
  }
  return out;
}

std::vector<int> StatusCodes(const YAML::Node& value) {
  if (!value.IsSequence()) Fail(value, "valid_status_codes must be a list of status codes");
  std::vector<int> out;
  for (const YAML::Node& node : value) {
    std::string text = Scalar(node, "a status code");
    int code = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), code);
    if (ec != std::errc() || end != text.data() + text.size() || code < 100 || code > 599) {
      Fail(node, "\"" + text + "\" is not an HTTP status code");
    }
    out.push_back(code);
  }
  return out;
}

int64_t ByteSize(const YAML::Node& value, std::string_view key) {
  std::string text = Scalar(value, key);
  int64_t bytes = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), bytes);
  std::string error;
  if ((ec != std::errc() || end != text.data() + text.size()) &&
      !ParseByteSize(text, &bytes, &error)) {
    Fail(value, std::string(key) + ": " + error);
  }
  if (bytes < 0) Fail(value, std::string(key) + " must not be negative");
  return bytes;
}

void ParseKey(const std::string& key, const YAML::Node& value, const YAML::Node& key_node,
              ProbeConfig* config) {
  if (key == "name") {
    config->name = Scalar(value, key);
    if (config->name.empty()) Fail(value, "name must not be empty");
  } else if (key == "url") {
    config->url = Scalar(value, key);
    if (!config->url.starts_with("http://") && !config->url.starts_with("https://")) {
      Fail(value, "url \"" + config->url + "\" must be http:// or https://");
    }
  } else if (key == "method") {
    config->method = Scalar(value, key);
    if (config->method.empty()) Fail(value, "method must not be empty");
  } else if (key == "headers") {
    if (!value.IsMap()) Fail(value, "headers must be a mapping of names to values");
    for (const auto& header : value) {
      config->headers.emplace_back(Scalar(header.first, "a header name"),
                                   Scalar(header.second, "a header value"));
    }
  } else if (key == "body") {
    config->body = Scalar(value, key);
  } else if (key == "valid_status_codes") {
    config->valid_status_codes = StatusCodes(value);
  } else if (key == "fail_if_body_matches_regexp") {
    config->fail_if_body_matches_regexp = Regexps(value, key);
  } else if (key == "fail_if_body_not_matches_regexp") {
    config->fail_if_body_not_matches_regexp = Regexps(value, key);
  } else if (key == "no_follow_redirects") {
    config->no_follow_redirects = Bool(value, key);
  } else if (key == "body_size_limit") {
    config->body_size_limit = ByteSize(value, key);
  } else if (key == "timeout") {
    config->timeout_ms = PositiveDuration(value, key);
  } else if (key == "interval") {
    config->interval_ms = PositiveDuration(value, key);
  } else if (key == "labels") {
    config->labels = ConstantLabels(value);
  } else {
    Fail(key_node, "unknown key \"" + key + "\" in probe");
  }
}

}  // namespace

bool ParseProbeConfig(const YAML::Node& item, ProbeConfig* out, std::string* error) {
  ProbeConfig config;
  try {
    if (!item.IsMap()) Fail(item, "a probe must be a mapping");
    std::set<std::string> seen;
    for (const auto& entry : item) {
      std::string key = Scalar(entry.first, "a key");
      if (!seen.insert(key).second) Fail(entry.first, "duplicate key \"" + key + "\"");
      ParseKey(key, entry.second, entry.first, &config);
    }
    if (config.url.empty()) Fail(item, "a probe needs a url");
  } catch (const ConfigError& e) {
    *error = e.message;
    return false;
  }
  *out = std::move(config);
  return true;
}

}  // namespace crmscope::agent
