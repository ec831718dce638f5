#include "agent/sources/scrape/yaml_walk.h"

#include <charconv>
#include <set>

#include "common/time.h"

namespace crmscope::agent::yaml_walk {

ConfigError ErrorAt(const YAML::Node& node, std::string_view message) {
  std::string text;
  YAML::Mark mark = node.Mark();
  if (!mark.is_null()) {
    text = std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) + ": ";
  }
  text.append(message);
  return ConfigError(text);
}

void ForEachKey(const YAML::Node& map, std::string_view section,
                const std::vector<std::pair<std::string_view, KeyHandler>>& handlers) {
  if (!map.IsMap()) throw ErrorAt(map, std::string(section) + " must be a mapping");
  std::set<std::string, std::less<>> seen;
  for (const auto& entry : map) {
    const YAML::Node& key = entry.first;
    std::string name = key.IsScalar() ? key.Scalar() : std::string();
    if (!seen.insert(name).second) throw ErrorAt(key, "duplicate key \"" + name + "\"");
    bool known = false;
    for (const auto& [handled, handler] : handlers) {
      if (name == handled) {
        handler(entry.second);
        known = true;
        break;
      }
    }
    if (!known) {
      throw ErrorAt(key, "unknown key \"" + name + "\" in " + std::string(section));
    }
  }
}

std::string Scalar(const YAML::Node& node, std::string_view key) {
  if (!node.IsScalar()) throw ErrorAt(node, std::string(key) + " must be a single value");
  return node.Scalar();
}

bool Bool(const YAML::Node& node, std::string_view key) {
  std::string text = Scalar(node, key);
  if (text == "true") return true;
  if (text == "false") return false;
  throw ErrorAt(node, std::string(key) + ": \"" + text + "\" is not true or false");
}

uint64_t Unsigned(const YAML::Node& node, std::string_view key) {
  std::string text = Scalar(node, key);
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw ErrorAt(node, std::string(key) + ": \"" + text + "\" is not a non-negative integer");
  }
  return value;
}

int64_t DurationMs(const YAML::Node& node, std::string_view key) {
  std::string text = Scalar(node, key);
  int64_t ms = 0;
  std::string error;
  if (!ParseDuration(text, &ms, &error)) throw ErrorAt(node, std::string(key) + ": " + error);
  if (ms <= 0) throw ErrorAt(node, std::string(key) + " must be greater than 0");
  return ms;
}

std::vector<std::string> StringList(const YAML::Node& node, std::string_view key) {
  if (!node.IsSequence()) throw ErrorAt(node, std::string(key) + " must be a list");
  std::vector<std::string> out;
  for (const auto& item : node) out.push_back(Scalar(item, key));
  return out;
}

}  // namespace crmscope::agent::yaml_walk
