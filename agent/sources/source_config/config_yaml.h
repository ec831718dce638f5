// The small YAML readers every agent source's config parser uses, so they word errors alike:
// "LINE:COL: problem" (1-based, from the node's mark). A parser throws ConfigError through
// Fail() while walking its item and turns it into its bool/error result at the top.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/labels.h"

namespace crmscope::agent::config_yaml {

struct ConfigError {
  std::string message;
};

[[noreturn]] void Fail(const YAML::Node& node, const std::string& problem);
// The node's text; a mapping or list where one value belongs is an error naming `key`.
std::string Scalar(const YAML::Node& value, std::string_view key);
// A Prometheus duration ("15s", "1m30s") greater than zero, in milliseconds.
int64_t PositiveDuration(const YAML::Node& value, std::string_view key);
// `labels: {name: value, ...}`: valid names not starting with "__", no duplicates; sorted.
Labels ConstantLabels(const YAML::Node& map);

}  // namespace crmscope::agent::config_yaml
