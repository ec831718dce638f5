#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <set>

#include "agent/sources/host/host_source.h"
#include "agent/sources/source_config/config_yaml.h"
#include "common/time.h"

namespace crmscope::agent {

namespace {

using config_yaml::ConfigError;
using config_yaml::ConstantLabels;
using config_yaml::Fail;
using config_yaml::PositiveDuration;
using config_yaml::Scalar;

std::string Regexp(const YAML::Node& value, std::string_view key) {
  std::string pattern = Scalar(value, key);
  RE2 re(pattern, RE2::Quiet);
  if (!re.ok()) Fail(value, std::string(key) + ": invalid regexp: " + re.error());
  return pattern;
}

// Unknown keys and duplicates are errors; `handle` gets each known key's value.
template <class Handle>
void ForEachKey(const YAML::Node& map, std::string_view what,
                std::initializer_list<std::string_view> known, Handle&& handle) {
  if (!map.IsMap()) Fail(map, std::string(what) + " must be a mapping");
  std::set<std::string> seen;
  for (const auto& entry : map) {
    std::string key = Scalar(entry.first, "a key");
    if (!seen.insert(key).second) Fail(entry.first, "duplicate key \"" + key + "\"");
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      Fail(entry.first, "unknown key \"" + key + "\" in " + std::string(what));
    }
    handle(key, entry.second);
  }
}

constexpr std::array<std::string_view, 7> kCollectors = {
    "cpu", "stat", "loadavg", "meminfo", "diskstats", "netdev", "filesystem"};

std::vector<std::string> Collectors(const YAML::Node& value) {
  if (!value.IsSequence()) Fail(value, "collectors must be a list");
  std::vector<std::string> out;
  for (const YAML::Node& node : value) {
    std::string name = Scalar(node, "a collector");
    if (std::find(kCollectors.begin(), kCollectors.end(), name) == kCollectors.end()) {
      Fail(node, "unknown collector \"" + name +
                     "\" (known: cpu, stat, loadavg, meminfo, diskstats, netdev, filesystem)");
    }
    out.push_back(std::move(name));
  }
  return out;
}

ProcessMatch Process(const YAML::Node& node) {
  ProcessMatch match;
  ForEachKey(node, "a process", {"name", "pidfile", "comm"},
             [&](const std::string& key, const YAML::Node& value) {
               std::string text = Scalar(value, key);
               if (text.empty()) Fail(value, key + " must not be empty");
               (key == "name" ? match.name : key == "pidfile" ? match.pidfile : match.comm) = text;
             });
  if (match.name.empty()) Fail(node, "a process needs a name");
  if (!match.pidfile.empty() && !match.comm.empty()) {
    Fail(node, "a process has either a pidfile or a comm, not both");
  }
  return match;
}

}  // namespace

bool ParseHostConfig(const YAML::Node& item, HostConfig* out, std::string* error) {
  HostConfig config;
  try {
    if (item.IsNull()) {
      *out = config;
      return true;
    }
    ForEachKey(
        item, "host",
        {"collectors", "disk_device_exclude", "network_device_exclude", "mount_points_exclude",
         "fs_types_exclude", "processes", "interval", "job", "labels", "proc_path"},
        [&](const std::string& key, const YAML::Node& value) {
          if (key == "collectors")
            config.collectors = Collectors(value);
          else if (key == "disk_device_exclude")
            config.disk_device_exclude = Regexp(value, key);
          else if (key == "network_device_exclude")
            config.network_device_exclude = Regexp(value, key);
          else if (key == "mount_points_exclude")
            config.mount_points_exclude = Regexp(value, key);
          else if (key == "fs_types_exclude")
            config.fs_types_exclude = Regexp(value, key);
          else if (key == "interval")
            config.interval_ms = PositiveDuration(value, key);
          else if (key == "job")
            config.job = Scalar(value, key);
          else if (key == "labels")
            config.labels = ConstantLabels(value);
          else if (key == "proc_path")
            config.proc_path = Scalar(value, key);
          else if (key == "processes") {
            if (!value.IsSequence()) Fail(value, "processes must be a list");
            std::set<std::string> names;
            for (const YAML::Node& node : value) {
              config.processes.push_back(Process(node));
              if (!names.insert(config.processes.back().name).second) {
                Fail(node, "process \"" + config.processes.back().name + "\" listed twice");
              }
            }
          }
        });
  } catch (const ConfigError& e) {
    *error = e.message;
    return false;
  }
  *out = std::move(config);
  return true;
}

}  // namespace crmscope::agent
