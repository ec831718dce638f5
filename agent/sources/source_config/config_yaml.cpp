#include "agent/sources/source_config/config_yaml.h"

#include "common/time.h"

namespace crmscope::agent::config_yaml {

void Fail(const YAML::Node& node, const std::string& problem) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) throw ConfigError{problem};
  throw ConfigError{std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) + ": " +
                    problem};
}

std::string Scalar(const YAML::Node& value, std::string_view key) {
  if (!value.IsScalar()) Fail(value, std::string(key) + " must be a single value");
  return value.Scalar();
}

int64_t PositiveDuration(const YAML::Node& value, std::string_view key) {
  int64_t ms = 0;
  std::string error;
  if (!ParseDuration(Scalar(value, key), &ms, &error)) Fail(value, std::string(key) + ": " + error);
  if (ms <= 0) Fail(value, std::string(key) + " must be greater than 0");
  return ms;
}

Labels ConstantLabels(const YAML::Node& map) {
  if (!map.IsMap()) Fail(map, "labels must be a mapping of label names to values");
  Labels labels;
  for (const auto& entry : map) {
    std::string name = Scalar(entry.first, "a label name");
    if (!IsValidLabelName(name) || name.starts_with("__")) {
      Fail(entry.first, "invalid label name \"" + name + "\"");
    }
    for (const Label& seen : labels) {
      if (seen.name == name) Fail(entry.first, "duplicate label \"" + name + "\"");
    }
    labels.push_back({std::move(name), Scalar(entry.second, "a label value")});
  }
  SortLabels(labels);
  return labels;
}

}  // namespace crmscope::agent::config_yaml
