// ParseQueueSenderConfig: one remote_write item of a YAML config, with Prometheus's key names.
#include <yaml-cpp/yaml.h>

#include <strings.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>

#include "common/time.h"
#include "exporters/remote_write/queue_sender.h"

namespace crmscope::remote_write {

namespace {

struct ParseError {
  YAML::Mark mark;
  std::string message;
};

[[noreturn]] void Fail(const YAML::Node& node, std::string message) {
  throw ParseError{node.Mark(), std::move(message)};
}

using KeyHandler = std::function<void(const YAML::Node& value)>;

// Refuses unknown and repeated keys: yaml-cpp would keep the last of two silently.
void ForEachKey(const YAML::Node& map, std::string_view what,
                const std::vector<std::pair<std::string_view, KeyHandler>>& handlers) {
  if (!map.IsMap()) Fail(map, std::string(what) + " must be a mapping");
  std::set<std::string> seen;
  for (const auto& entry : map) {
    std::string key = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
    if (!seen.insert(key).second) Fail(entry.first, "duplicate key \"" + key + "\" in " + std::string(what));
    auto handler = std::find_if(handlers.begin(), handlers.end(),
                                [&](const auto& h) { return h.first == key; });
    if (handler == handlers.end()) Fail(entry.first, "unknown key \"" + key + "\" in " + std::string(what));
    handler->second(entry.second);
  }
}

std::string Scalar(const YAML::Node& node, std::string_view key) {
  if (!node.IsScalar()) Fail(node, std::string(key) + " must be a single value");
  return node.Scalar();
}

int PositiveInt(const YAML::Node& node, std::string_view key) {
  std::string text = Scalar(node, key);
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1) {
    Fail(node, std::string(key) + ": \"" + text + "\" is not a positive integer");
  }
  return value;
}

int64_t Duration(const YAML::Node& node, std::string_view key) {
  std::string text = Scalar(node, key), error;
  int64_t ms = 0;
  if (!ParseDuration(text, &ms, &error)) Fail(node, std::string(key) + ": " + error);
  if (ms <= 0) Fail(node, std::string(key) + " must be greater than 0");
  return ms;
}

bool Bool(const YAML::Node& node, std::string_view key) {
  std::string text = Scalar(node, key);
  if (text == "true") return true;
  if (text == "false") return false;
  Fail(node, std::string(key) + ": \"" + text + "\" is not true or false");
}

uint64_t ByteSize(const YAML::Node& node, std::string_view key) {
  std::string text = Scalar(node, key), error;
  int64_t bytes = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), bytes);
  if ((ec != std::errc() || end != text.data() + text.size()) &&
      !ParseByteSize(text, &bytes, &error)) {
    Fail(node, std::string(key) + ": " + error);
  }
  if (bytes <= 0) Fail(node, std::string(key) + " must be greater than 0");
  return static_cast<uint64_t>(bytes);
}

std::string TokenFromFile(const YAML::Node& node, std::string_view base_dir) {
  std::filesystem::path path = Scalar(node, "bearer_token_file");
  if (path.is_relative() && !base_dir.empty()) path = std::filesystem::path(base_dir) / path;
  std::ifstream in(path);
  if (!in) Fail(node, "cannot read bearer_token_file " + path.string());
  std::stringstream content;
  content << in.rdbuf();
  std::string token = content.str();
  // As Prometheus: the trailing newline of `echo token > file` is no part of the token.
  size_t first = token.find_first_not_of(" \t\r\n"), last = token.find_last_not_of(" \t\r\n");
  if (first == std::string::npos) Fail(node, "bearer_token_file " + path.string() + " is empty");
  return token.substr(first, last - first + 1);
}

// The name becomes a directory, so it is kept to characters that are safe in a path.
bool SafeName(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return false;
  return name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
         std::string_view::npos;
}

// The sender sets these itself; a configured one would break the protocol or the credentials.
bool ReservedHeader(std::string name) {
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name == "authorization" || name == "content-type" || name == "content-encoding" ||
         name == "content-length" || name == "user-agent" || name == "host" ||
         name == "x-prometheus-remote-write-version";
}

void ParseHeaders(const YAML::Node& node, std::vector<std::pair<std::string, std::string>>* out) {
  if (!node.IsMap()) Fail(node, "headers must be a mapping");
  out->clear();
  for (const auto& entry : node) {
    std::string name = Scalar(entry.first, "a header name");
    if (ReservedHeader(name)) Fail(entry.first, "header \"" + name + "\" is set by the sender");
    for (const auto& [seen, value] : *out) {
      if (strcasecmp(seen.c_str(), name.c_str()) == 0) Fail(entry.first, "duplicate header \"" + name + "\"");
    }
    out->emplace_back(name, Scalar(entry.second, "header \"" + name + "\""));
  }
}

void ParseQueueConfig(const YAML::Node& node, QueueSenderConfig* out) {
  ForEachKey(node, "queue_config",
             {{"capacity", [&](const YAML::Node& v) { out->capacity = PositiveInt(v, "capacity"); }},
              {"max_shards", [&](const YAML::Node& v) { out->max_shards = PositiveInt(v, "max_shards"); }},
              {"min_shards", [&](const YAML::Node& v) { out->min_shards = PositiveInt(v, "min_shards"); }},
              {"max_samples_per_send",
               [&](const YAML::Node& v) { out->max_samples_per_send = PositiveInt(v, "max_samples_per_send"); }},
              {"batch_send_deadline",
               [&](const YAML::Node& v) { out->batch_send_deadline_ms = Duration(v, "batch_send_deadline"); }},
              {"min_backoff", [&](const YAML::Node& v) { out->min_backoff_ms = Duration(v, "min_backoff"); }},
              {"max_backoff", [&](const YAML::Node& v) { out->max_backoff_ms = Duration(v, "max_backoff"); }},
              {"retry_on_http_429",
               [&](const YAML::Node& v) { out->retry_on_http_429 = Bool(v, "retry_on_http_429"); }}});
  if (out->min_shards > out->max_shards) Fail(node, "min_shards must not exceed max_shards");
  if (out->min_backoff_ms > out->max_backoff_ms) Fail(node, "min_backoff must not exceed max_backoff");
}

void ParseItem(const YAML::Node& item, QueueSenderConfig* out, std::string_view base_dir) {
  std::optional<YAML::Node> url_node, token, token_file;
  ForEachKey(
      item, "remote_write",
      {{"url",
        [&](const YAML::Node& v) {
          url_node = v;
          out->url = Scalar(v, "url");
        }},
       {"name",
        [&](const YAML::Node& v) {
          out->name = Scalar(v, "name");
          if (!SafeName(out->name)) Fail(v, "name may only hold letters, digits, '_', '.' and '-'");
        }},
       {"remote_timeout", [&](const YAML::Node& v) { out->timeout_ms = Duration(v, "remote_timeout"); }},
       {"bearer_token", [&](const YAML::Node& v) { token = v; }},
       {"bearer_token_file", [&](const YAML::Node& v) { token_file = v; }},
       {"headers", [&](const YAML::Node& v) { ParseHeaders(v, &out->headers); }},
       {"queue_config", [&](const YAML::Node& v) { ParseQueueConfig(v, out); }},
       {"queue", [&](const YAML::Node& v) {
          ForEachKey(v, "queue",
                     {{"path", [&](const YAML::Node& p) { out->queue_dir = Scalar(p, "path"); }},
                      {"max_bytes", [&](const YAML::Node& b) { out->max_bytes = ByteSize(b, "max_bytes"); }}});
        }}});
  if (out->url.rfind("http://", 0) != 0 && out->url.rfind("https://", 0) != 0) {
    Fail(url_node ? *url_node : item, out->url.empty() ? "url is required"
                                                            : "url must start with http:// or https://");
  }
  if (out->name.empty()) out->name = DefaultRemoteName(out->url);
  if (token && token_file) Fail(*token_file, "at most one of bearer_token and bearer_token_file may be set");
  if (token) out->bearer_token = Scalar(*token, "bearer_token");
  if (token_file) out->bearer_token = TokenFromFile(*token_file, base_dir);
  if (out->queue_dir.empty() == false && !base_dir.empty() &&
      std::filesystem::path(out->queue_dir).is_relative()) {
    out->queue_dir = (std::filesystem::path(base_dir) / out->queue_dir).string();
  }
}

}  // namespace

bool ParseQueueSenderConfig(const YAML::Node& item, QueueSenderConfig* out, std::string* error,
                            std::string_view base_dir) {
  QueueSenderConfig parsed = *out;
  try {
    ParseItem(item, &parsed, base_dir);
  } catch (const ParseError& e) {
    *error = std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) + ": " + e.message;
    return false;
  } catch (const YAML::Exception& e) {
    *error = std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) + ": " + e.msg;
    return false;
  }
  *out = std::move(parsed);
  return true;
}

}  // namespace crmscope::remote_write
