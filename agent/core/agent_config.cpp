#include "agent/core/agent_config.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "agent/sources/haproxy/haproxy_source.h"
#include "agent/sources/host/host_source.h"
#include "agent/sources/nginx_log/nginx_log_source.h"
#include "agent/sources/probe/http_probe.h"
#include "agent/sources/scrape/scrape_source.h"
#include "agent/sources/stub_status/stub_status_source.h"
#include "common/time.h"

namespace crmscope::agent {

namespace {

std::string At(const YAML::Node& node) {
  return std::to_string(node.Mark().line + 1) + ":" + std::to_string(node.Mark().column + 1);
}

// One source module's entry: parses one item of its section and makes the source.
using MakeFromYaml =
    std::function<bool(const YAML::Node& item, AgentConfig* config, std::string* error)>;

// Adapts a module's Parse<Module>Config / Make<Module>Source pair.
template <typename Config, typename Parse, typename Make>
MakeFromYaml Module(Parse parse, Make make) {
  return [parse, make](const YAML::Node& item, AgentConfig* config, std::string* error) {
    Config parsed;
    if (!parse(item, &parsed, error)) return false;
    // The source sees its effective interval (a scrape's default timeout is capped by it); global
    // is parsed before any section, whatever the key order.
    if (parsed.interval_ms <= 0) parsed.interval_ms = config->interval_ms;
    auto source = make(parsed);
    if (source == nullptr) {
      *error = At(item) + ": the source could not be created";
      return false;
    }
    config->sources.push_back({std::move(source), parsed.interval_ms});
    return true;
  };
}

bool MakeNginxLog(const YAML::Node& item, AgentConfig* config, std::string* error) {
  NginxLogConfig parsed;
  if (!ParseNginxLogConfig(item, &parsed, error)) return false;
  if (parsed.interval_ms <= 0) parsed.interval_ms = config->interval_ms;
  std::unique_ptr<NginxLogSource> source = MakeNginxLogSource(parsed);
  if (source == nullptr) {
    *error = At(item) + ": the log source could not be created";
    return false;
  }
  config->log_sources.push_back(source.get());
  config->sources.push_back({std::move(source), parsed.interval_ms});
  return true;
}

struct SectionSpec {
  std::string_view key;
  bool is_list;  // a list of sources, or one mapping
  MakeFromYaml make;
};

const std::vector<SectionSpec>& Sections() {
  static const std::vector<SectionSpec> sections = {
      {"nginx_log", true, MakeNginxLog},
      {"stub_status", true,
       Module<StubStatusConfig>(ParseStubStatusConfig,
                                [](const StubStatusConfig& c) { return MakeStubStatusSource(c); })},
      {"haproxy", true,
       Module<HaproxyConfig>(ParseHaproxyConfig,
                             [](const HaproxyConfig& c) { return MakeHaproxySource(c); })},
      {"scrape", true,
       Module<ScrapeConfig>(ParseScrapeConfig, [](const ScrapeConfig& c) {
         return std::unique_ptr<Source>(MakeScrapeSource(c));
       })},
      {"probes", true,
       Module<ProbeConfig>(ParseProbeConfig,
                           [](const ProbeConfig& c) { return MakeProbeSource(c); })},
      {"host", false,
       Module<HostConfig>(ParseHostConfig, [](const HostConfig& c) { return MakeHostSource(c); })},
  };
  return sections;
}

bool ParseGlobal(const YAML::Node& global, AgentConfig* config, std::string* error) {
  if (!global.IsMap()) {
    *error = At(global) + ": global must be a mapping";
    return false;
  }
  for (const auto& entry : global) {
    std::string key = entry.first.as<std::string>();
    const YAML::Node& value = entry.second;
    if (key == "interval") {
      std::string why;
      if (!ParseDuration(value.as<std::string>(), &config->interval_ms, &why) ||
          config->interval_ms <= 0) {
        *error = At(value) + ": global.interval: " + (why.empty() ? "must be positive" : why);
        return false;
      }
    } else if (key == "external_labels") {
      if (!value.IsMap()) {
        *error = At(value) + ": external_labels must be a mapping of label names to values";
        return false;
      }
      for (const auto& label : value) {
        std::string name = label.first.as<std::string>();
        if (!IsValidLabelName(name) || name.starts_with("__")) {
          *error = At(label.first) + ": invalid external label name \"" + name + "\"";
          return false;
        }
        config->external_labels.push_back({name, label.second.as<std::string>()});
      }
      SortLabels(config->external_labels);
    } else if (key == "expose_series") {
      config->expose_series = value.as<bool>();
    } else {
      *error = At(entry.first) + ": unknown key \"" + key + "\" in global";
      return false;
    }
  }
  return true;
}

bool ParseSources(const YAML::Node& sources, AgentConfig* config, std::string* error) {
  if (!sources.IsMap()) {
    *error = At(sources) + ": sources must be a mapping of source kinds";
    return false;
  }
  for (const auto& entry : sources) {
    std::string key = entry.first.as<std::string>();
    const SectionSpec* spec = nullptr;
    for (const SectionSpec& s : Sections()) {
      if (s.key == key) spec = &s;
    }
    if (spec == nullptr) {
      *error = At(entry.first) + ": unknown source kind \"" + key + "\"";
      return false;
    }
    const YAML::Node& section = entry.second;
    if (spec->is_list != section.IsSequence()) {
      *error = At(section) + ": sources." + key + " must be " +
               (spec->is_list ? "a list" : "a mapping");
      return false;
    }
    if (!spec->is_list) {
      if (!spec->make(section, config, error)) return false;
      continue;
    }
    for (const YAML::Node& item : section) {
      if (!spec->make(item, config, error)) return false;
    }
  }
  return true;
}

bool ParseRemoteWrite(const YAML::Node& list, const std::string& base_dir, AgentConfig* config,
                      std::string* error) {
  if (!list.IsSequence()) {
    *error = At(list) + ": remote_write must be a list";
    return false;
  }
  for (const YAML::Node& item : list) {
    remote_write::QueueSenderConfig sender;
    if (!remote_write::ParseQueueSenderConfig(item, &sender, error, base_dir)) return false;
    for (const auto& other : config->remote_write) {
      if (other.name == sender.name) {
        *error = At(item) + ": duplicate remote_write name \"" + sender.name + "\"";
        return false;
      }
    }
    config->remote_write.push_back(std::move(sender));
  }
  return true;
}

}  // namespace

bool ParseAgentConfig(const std::string& text, const std::string& name, AgentConfig* config,
                      std::string* error) {
  std::string why;
  try {
    YAML::Node root = YAML::Load(text);
    bool ok = true;
    if (root.IsNull()) {
      // An empty file: no sources, nothing shipped; the agent still serves its own /metrics.
    } else if (!root.IsMap()) {
      why = At(root) + ": the configuration must be a mapping";
      ok = false;
    } else {
      std::string base_dir = std::filesystem::path(name).parent_path().string();
      // global first: sources and queues take its interval and labels whatever the key order.
      if (root["global"]) ok = ParseGlobal(root["global"], config, &why);
      for (const auto& entry : root) {
        if (!ok) break;
        std::string key = entry.first.as<std::string>();
        if (key == "global") continue;
        if (key == "sources") {
          ok = ParseSources(entry.second, config, &why);
        } else if (key == "remote_write") {
          ok = ParseRemoteWrite(entry.second, base_dir, config, &why);
        } else {
          why = At(entry.first) + ": unknown key \"" + key + "\"";
          ok = false;
        }
      }
    }
    if (!ok) {
      *error = name + ":" + why;
      return false;
    }
  } catch (const YAML::Exception& e) {
    *error = name + ":" + std::to_string(e.mark.line + 1) + ":" +
             std::to_string(e.mark.column + 1) + ": " + e.msg;
    return false;
  }
  for (ScheduledSource& s : config->sources) {
    if (s.interval_ms <= 0) s.interval_ms = config->interval_ms;
  }
  for (auto& sender : config->remote_write) {
    for (const Label& label : config->external_labels) sender.external_labels.push_back(label);
    SortLabels(sender.external_labels);
  }
  return true;
}

bool LoadAgentConfig(const std::string& path, AgentConfig* config, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = path + ": cannot read the configuration file";
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return ParseAgentConfig(text.str(), path, config, error);
}

}  // namespace crmscope::agent
