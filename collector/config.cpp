#include "collector/config.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>

#include "common/time.h"

namespace crmscope::collector {

namespace {

// Every complaint about the file names the place it was found, as "FILE:LINE:COL: problem".
class ConfigError {
 public:
  ConfigError(const std::string& filename, const YAML::Mark& mark, std::string problem) {
    std::ostringstream out;
    out << filename;
    if (!mark.is_null()) out << ':' << mark.line + 1 << ':' << mark.column + 1;
    out << ": " << problem;
    message_ = out.str();
  }
  // A message that already says where ("FILE:LINE:COL: problem").
  explicit ConfigError(std::string message) : message_(std::move(message)) {}
  const std::string& message() const { return message_; }

 private:
  std::string message_;
};

struct Context {
  const std::string& filename;
  ConfigError Fail(const YAML::Node& node, std::string problem) const {
    return ConfigError(filename, node.Mark(), std::move(problem));
  }
};

using KeyHandler = std::function<void(const YAML::Node& value)>;

// Walks a mapping, refusing keys nobody handles and keys given twice (yaml-cpp keeps the last
// silently, which would hide a typo'd duplicate).
void ForEachKey(const Context& ctx, const YAML::Node& map, std::string_view section,
                const std::vector<std::pair<std::string_view, KeyHandler>>& handlers) {
  if (map.IsNull()) return;
  if (!map.IsMap()) throw ctx.Fail(map, std::string(section) + " must be a mapping");
  std::set<std::string> seen;
  for (const auto& entry : map) {
    const YAML::Node& key = entry.first;
    std::string name = key.IsScalar() ? key.Scalar() : std::string();
    if (!seen.insert(name).second) throw ctx.Fail(key, "duplicate key \"" + name + "\"");
    bool known = false;
    for (const auto& [handled, handler] : handlers) {
      if (name == handled) {
        handler(entry.second);
        known = true;
        break;
      }
    }
    if (!known) {
      throw ctx.Fail(key, "unknown key \"" + name + "\" in " + std::string(section));
    }
  }
}

std::string ScalarOrFail(const Context& ctx, const YAML::Node& node, std::string_view what) {
  if (!node.IsScalar()) throw ctx.Fail(node, std::string(what) + " must be a single value");
  return node.Scalar();
}

size_t NonNegativeInt(const Context& ctx, const YAML::Node& node, std::string_view key) {
  std::string text = ScalarOrFail(ctx, node, key);
  size_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw ctx.Fail(node, std::string(key) + ": \"" + text + "\" is not a non-negative integer");
  }
  return value;
}

// Plain bytes ("33554432") or Prometheus's size units ("32MB").
int64_t PositiveByteSize(const Context& ctx, const YAML::Node& node, std::string_view key) {
  std::string text = ScalarOrFail(ctx, node, key);
  int64_t bytes = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), bytes);
  std::string error;
  if ((ec != std::errc() || end != text.data() + text.size()) &&
      !ParseByteSize(text, &bytes, &error)) {
    throw ctx.Fail(node, std::string(key) + ": " + error);
  }
  if (bytes <= 0) throw ctx.Fail(node, std::string(key) + " must be greater than 0");
  return bytes;
}

std::string ReadTokenFile(const Context& ctx, const YAML::Node& node) {
  std::filesystem::path path = ScalarOrFail(ctx, node, "bearer_token_file");
  if (path.is_relative()) path = std::filesystem::path(ctx.filename).parent_path() / path;
  std::ifstream in(path);
  if (!in) throw ctx.Fail(node, "cannot read bearer_token_file " + path.string());
  std::stringstream content;
  content << in.rdbuf();
  std::string token = content.str();
  // As Prometheus, surrounding whitespace (the trailing newline of `echo x > file`) is no part.
  size_t first = token.find_first_not_of(" \t\r\n");
  size_t last = token.find_last_not_of(" \t\r\n");
  token = first == std::string::npos ? "" : token.substr(first, last - first + 1);
  if (token.empty()) throw ctx.Fail(node, "bearer_token_file " + path.string() + " is empty");
  return token;
}

void ParseReceiver(const Context& ctx, const YAML::Node& node, RemoteWriteReceiverConfig* out) {
  // Nodes are handles: copies stay valid after the walk.
  std::optional<YAML::Node> tokens_node, file_node;
  ForEachKey(ctx, node, "remote_write_receiver",
             {{"bearer_tokens", [&](const YAML::Node& v) { tokens_node = v; }},
              {"bearer_token_file", [&](const YAML::Node& v) { file_node = v; }}});
  if (tokens_node && file_node) {
    throw ctx.Fail(*file_node, "at most one of bearer_tokens and bearer_token_file may be set");
  }
  if (tokens_node && !tokens_node->IsNull()) {
    if (!tokens_node->IsSequence()) {
      throw ctx.Fail(*tokens_node, "bearer_tokens must be a list of strings");
    }
    for (const YAML::Node& token : *tokens_node) {
      std::string value = ScalarOrFail(ctx, token, "a bearer token");
      if (value.empty()) throw ctx.Fail(token, "a bearer token must not be empty");
      out->bearer_tokens.push_back(std::move(value));
    }
  }
  if (file_node) out->bearer_tokens.push_back(ReadTokenFile(ctx, *file_node));
}

void ParseLimits(const Context& ctx, const YAML::Node& node, Limits* out) {
  auto size_key = [&](std::string_view key, size_t* field) {
    return std::pair<std::string_view, KeyHandler>(
        key, [&ctx, key, field](const YAML::Node& v) { *field = NonNegativeInt(ctx, v, key); });
  };
  ForEachKey(ctx, node, "limits",
             {{"max_body_bytes",
               [&](const YAML::Node& v) {
                 out->max_body_bytes = PositiveByteSize(ctx, v, "max_body_bytes");
               }},
              size_key("max_series", &out->max_series),
              size_key("max_labels_per_series", &out->max_labels_per_series),
              size_key("max_label_name_length", &out->max_label_name_length),
              size_key("max_label_value_length", &out->max_label_value_length)});
}

// external_labels has free keys, so it is walked here rather than through ForEachKey's handlers.
void ParseExternalLabels(const Context& ctx, const YAML::Node& labels, Labels* out) {
  if (labels.IsNull()) return;
  if (!labels.IsMap()) throw ctx.Fail(labels, "external_labels must be a mapping");
  for (const auto& entry : labels) {
    std::string name = ScalarOrFail(ctx, entry.first, "a label name");
    if (!IsValidLabelName(name)) throw ctx.Fail(entry.first, "\"" + name + "\" is not a valid label name");
    if (!GetLabel(*out, name).empty()) throw ctx.Fail(entry.first, "duplicate label \"" + name + "\"");
    std::string value = ScalarOrFail(ctx, entry.second, "a label value");
    if (value.empty()) throw ctx.Fail(entry.second, "the value of \"" + name + "\" is empty");
    out->push_back({name, value});
  }
  SortLabels(*out);
}

void ParseRemoteWrite(const Context& ctx, const YAML::Node& node,
                      std::vector<remote_write::QueueSenderConfig>* out) {
  if (node.IsNull()) return;
  if (!node.IsSequence()) throw ctx.Fail(node, "remote_write must be a list");
  std::string base_dir = std::filesystem::path(ctx.filename).parent_path().string();
  for (const YAML::Node& item : node) {
    remote_write::QueueSenderConfig config;
    std::string error;
    if (!remote_write::ParseQueueSenderConfig(item, &config, &error, base_dir)) {
      throw ConfigError(ctx.filename + ":" + error);
    }
    for (const auto& other : *out) {
      if (other.name == config.name) {
        throw ctx.Fail(item, "duplicate remote_write name \"" + config.name + "\"");
      }
    }
    out->push_back(std::move(config));
  }
}

}  // namespace

bool ParseConfig(std::string_view yaml, const std::string& filename, Config* config,
                 std::string* error) {
  Context ctx{filename};
  Config parsed;
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    ForEachKey(
        ctx, root, "the top level",
        {{"remote_write_receiver",
          [&](const YAML::Node& v) { ParseReceiver(ctx, v, &parsed.remote_write_receiver); }},
         {"limits", [&](const YAML::Node& v) { ParseLimits(ctx, v, &parsed.limits); }},
         {"global",
          [&](const YAML::Node& v) {
            ForEachKey(ctx, v, "global",
                       {{"external_labels", [&](const YAML::Node& labels) {
                          ParseExternalLabels(ctx, labels, &parsed.external_labels);
                        }}});
          }},
         {"remote_write",
          [&](const YAML::Node& v) { ParseRemoteWrite(ctx, v, &parsed.remote_write); }}});
    for (auto& config : parsed.remote_write) config.external_labels = parsed.external_labels;
  } catch (const ConfigError& e) {
    *error = e.message();
    return false;
  } catch (const YAML::Exception& e) {
    *error = ConfigError(filename, e.mark, e.msg).message();
    return false;
  }
  *config = std::move(parsed);
  return true;
}

bool LoadConfigFile(const std::string& filename, Config* config, std::string* error) {
  std::ifstream in(filename);
  if (!in) {
    *error = filename + ": cannot open config file";
    return false;
  }
  std::stringstream content;
  content << in.rdbuf();
  return ParseConfig(content.str(), filename, config, error);
}

}  // namespace crmscope::collector

namespace crmscope::collector {

namespace {

using FlagSetter = std::function<bool(std::string_view value, Flags* flags, std::string* error)>;

struct FlagSpec {
  std::string_view name;         // without the leading "--"
  std::string_view placeholder;  // empty for a boolean flag, which takes no separate argument
  std::string_view default_text;
  std::string_view help;
  FlagSetter set;
};

FlagSetter StringFlag(std::string Flags::*field) {
  return [field](std::string_view v, Flags* f, std::string*) {
    f->*field = std::string(v);
    return true;
  };
}

FlagSetter DurationFlag(int64_t Flags::*field) {
  return [field](std::string_view v, Flags* f, std::string* e) {
    return ParseDuration(v, &(f->*field), e);
  };
}

// Plain bytes or Prometheus's units ("512MB").
FlagSetter ByteSizeFlag(int64_t Flags::*field) {
  return [field](std::string_view v, Flags* f, std::string* e) {
    int64_t bytes = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), bytes);
    if (ec == std::errc() && end == v.data() + v.size() && bytes >= 0) {
      f->*field = bytes;
      return true;
    }
    if (!ParseByteSize(v, &bytes, e)) return false;
    f->*field = bytes;
    return true;
  };
}

// An integer of at least `min`; errors as kingpin words strconv's.
FlagSetter IntFlag(int64_t Flags::*field, int64_t min) {
  return [field, min](std::string_view v, Flags* f, std::string* e) {
    int64_t value = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
    if (ec != std::errc() || end != v.data() + v.size()) {
      *e = "strconv.ParseInt: parsing \"" + std::string(v) + "\": " +
           (ec == std::errc::result_out_of_range ? "value out of range" : "invalid syntax");
      return false;
    }
    if (value < min) {
      *e = "must be at least " + std::to_string(min);
      return false;
    }
    f->*field = value;
    return true;
  };
}

const std::vector<FlagSpec>& FlagSpecs() {
  static const std::vector<FlagSpec> specs = {
      {"web.listen-address", "<address>", "127.0.0.1:9300",
       "Address to listen on for the HTTP API, remote write and /metrics.",
       StringFlag(&Flags::listen_address)},
      {"storage.path", "<dir>", "data/", "Directory of the time-series database.",
       StringFlag(&Flags::storage_path)},
      {"config.file", "<file>", "", "YAML configuration file (authentication, limits).",
       StringFlag(&Flags::config_file)},
      {"storage.retention.time", "<duration>", "15d",
       "How long to keep samples; 0 keeps them forever.", DurationFlag(&Flags::retention_ms)},
      {"storage.retention.size", "<size>", "0",
       "Maximum database size (e.g. 10GB); 0 means no limit.",
       ByteSizeFlag(&Flags::retention_bytes)},
      {"storage.out-of-order-window", "<duration>", "0s",
       "How far behind a series' newest sample an older one is still accepted.",
       DurationFlag(&Flags::out_of_order_window_ms)},
      {"storage.fsync", "", "false",
       "Make every commit reach the disk before it is acknowledged (survives power loss).",
       [](std::string_view v, Flags* f, std::string* e) {
         if (v == "true")
           f->fsync = true;
         else if (v == "false")
           f->fsync = false;
         else {
           *e = "expected true or false";
           return false;
         }
         return true;
       }},
      {"web.max-body-bytes", "<size>", "32MB",
       "Largest compressed remote-write body accepted; overrides limits.max_body_bytes.",
       ByteSizeFlag(&Flags::max_body_bytes)},
      {"log.level", "<level>", "info", "Only log messages at or above: debug, info, warn, error.",
       [](std::string_view v, Flags* f, std::string* e) {
         if (v != "debug" && v != "info" && v != "warn" && v != "error") {
           *e = "enum value must be one of debug,info,warn,error, got '" + std::string(v) + "'";
           return false;
         }
         f->log_level = std::string(v);
         return true;
       }},
      {"query.timeout", "<duration>", "2m", "Maximum time a query may take before being aborted.",
       DurationFlag(&Flags::query_timeout_ms)},
      {"query.max-samples", "<int>", "50000000",
       "Maximum number of samples a single query can load into memory; a query needing more "
       "fails.",
       IntFlag(&Flags::query_max_samples, 0)},
      {"query.lookback-delta", "<duration>", "5m",
       "How far back a query and /federate look for a series' latest sample.",
       DurationFlag(&Flags::query_lookback_delta_ms)},
      {"query.max-concurrency", "<int>", "20",
       "Maximum number of queries executed concurrently; more wait for their turn.",
       IntFlag(&Flags::query_max_concurrency, 1)},
  };
  return specs;
}

const FlagSpec* FindFlag(std::string_view name) {
  for (const FlagSpec& spec : FlagSpecs()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

}  // namespace

bool ParseFlags(int argc, const char* const* argv, Flags* flags, FlagAction* action,
                std::string* error) {
  *action = FlagAction::kRun;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      *action = FlagAction::kHelp;
      return true;
    }
    if (arg == "--version") {
      *action = FlagAction::kVersion;
      return true;
    }
    if (arg.substr(0, 2) != "--" || arg.size() == 2) {
      *error = "unexpected " + std::string(arg);
      return false;
    }
    std::string_view body = arg.substr(2);
    std::optional<std::string_view> value;
    if (size_t eq = body.find('='); eq != std::string_view::npos) {
      value = body.substr(eq + 1);
      body = body.substr(0, eq);
    }
    const FlagSpec* spec = FindFlag(body);
    // Boolean flags also come negated, as kingpin spells them: --no-storage.fsync.
    if (!spec && body.substr(0, 3) == "no-" && !value) {
      const FlagSpec* negated = FindFlag(body.substr(3));
      if (negated && negated->placeholder.empty()) {
        negated->set("false", flags, error);
        continue;
      }
    }
    if (!spec) {
      *error = "unknown long flag '--" + std::string(body) + "'";
      return false;
    }
    if (!value) {
      if (spec->placeholder.empty()) {
        value = "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        *error = "expected argument for flag '--" + std::string(spec->name) + "'";
        return false;
      }
    }
    std::string problem;
    if (!spec->set(*value, flags, &problem)) {
      *error = "invalid value \"" + std::string(*value) + "\" for flag '--" +
               std::string(spec->name) + "': " + problem;
      return false;
    }
  }
  return true;
}

std::string FlagsUsage(std::string_view program) {
  std::ostringstream out;
  out << "usage: " << program << " [<flags>]\n\n"
      << "The crmscope collector: receives Prometheus remote write, stores the samples and\n"
      << "serves them through Prometheus's HTTP API.\n\nFlags:\n"
      << "  -h, --help     Show context-sensitive help.\n"
      << "      --version  Show application version.\n";
  for (const FlagSpec& spec : FlagSpecs()) {
    out << "      --" << (spec.placeholder.empty() ? "[no-]" : "") << spec.name;
    if (!spec.placeholder.empty()) {
      out << '='
          << (spec.default_text.empty() ? std::string(spec.placeholder)
                                        : "\"" + std::string(spec.default_text) + "\"");
    }
    out << "\n          " << spec.help << '\n';
  }
  return out.str();
}

}  // namespace crmscope::collector
