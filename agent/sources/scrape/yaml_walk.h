// Reading a module's YAML config the way Prometheus's strict unmarshalling does: an unknown or
// repeated key is an error, and every error names its place as "LINE:COL: message" (1-based),
// so the core only has to put the file name in front. Private to the scrape module.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crmscope::agent::yaml_walk {

// Thrown while walking, caught by the module's Parse function and turned into its error string.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

ConfigError ErrorAt(const YAML::Node& node, std::string_view message);

using KeyHandler = std::function<void(const YAML::Node& value)>;

// Calls the handler of each key of `map`; refuses keys without one, and repeated keys (yaml-cpp
// keeps the last silently, which would hide a typo).
void ForEachKey(const YAML::Node& map, std::string_view section,
                const std::vector<std::pair<std::string_view, KeyHandler>>& handlers);

std::string Scalar(const YAML::Node& node, std::string_view key);
bool Bool(const YAML::Node& node, std::string_view key);
uint64_t Unsigned(const YAML::Node& node, std::string_view key);
// A Prometheus duration ("15s", "1m30s"); must be positive.
int64_t DurationMs(const YAML::Node& node, std::string_view key);
std::vector<std::string> StringList(const YAML::Node& node, std::string_view key);

}  // namespace crmscope::agent::yaml_walk
