#include "agent/sources/scrape/relabel.h"

#include <re2/re2.h>

#include <algorithm>
#include <optional>

#include "agent/sources/scrape/label_edit.h"
#include "agent/sources/scrape/md5.h"
#include "agent/sources/scrape/yaml_walk.h"
#include "common/label_matcher.h"

namespace crmscope::agent {

namespace {

constexpr RelabelAction kAllActions[] = {
    RelabelAction::kReplace,   RelabelAction::kKeep,      RelabelAction::kDrop,
    RelabelAction::kKeepEqual, RelabelAction::kDropEqual, RelabelAction::kHashMod,
    RelabelAction::kLabelMap,  RelabelAction::kLabelDrop, RelabelAction::kLabelKeep,
    RelabelAction::kLowercase, RelabelAction::kUppercase,
};

std::optional<RelabelAction> ActionNamed(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  for (RelabelAction action : kAllActions) {
    if (RelabelActionName(action) == lower) return action;
  }
  return std::nullopt;
}

// Prometheus's relabelTarget: letters, '_' and $-references, so that the expansion has a chance
// of being a label name.
bool IsValidTargetTemplate(std::string_view s) {
  static const re2::RE2 target(R"(^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$)");
  return re2::RE2::FullMatch(s, target);
}

std::string Quoted(std::string_view s) {
  std::string out = "\"";
  out.append(s);
  out.push_back('"');
  return out;
}

bool IsNameByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Go's regexp.Expand of `tmpl` with the match `groups` (group 0 the whole match).
void AppendExpanded(std::string& out, std::string_view tmpl, const re2::RE2& re,
                    const std::vector<re2::StringPiece>& groups) {
  while (!tmpl.empty()) {
    size_t dollar = tmpl.find('$');
    out.append(tmpl.substr(0, dollar));
    if (dollar == std::string_view::npos) return;
    tmpl.remove_prefix(dollar + 1);
    if (!tmpl.empty() && tmpl[0] == '$') {
      out.push_back('$');
      tmpl.remove_prefix(1);
      continue;
    }
    bool brace = !tmpl.empty() && tmpl[0] == '{';
    size_t start = brace ? 1 : 0;
    size_t end = start;
    while (end < tmpl.size() && IsNameByte(tmpl[end])) ++end;
    if (end == start || (brace && (end == tmpl.size() || tmpl[end] != '}'))) {
      out.push_back('$');  // malformed: the '$' stays as text
      continue;
    }
    std::string_view name = tmpl.substr(start, end - start);
    tmpl.remove_prefix(brace ? end + 1 : end);
    int index = -1;
    bool numeric = name.size() <= 8 && (name[0] != '0' || name.size() == 1) &&
                   std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (numeric) {
      index = std::stoi(std::string(name));
    } else {
      auto named = re.NamedCapturingGroups().find(std::string(name));
      if (named != re.NamedCapturingGroups().end()) index = named->second;
    }
    if (index >= 0 && static_cast<size_t>(index) < groups.size() &&
        groups[index].data() != nullptr) {
      out.append(groups[index].data(), groups[index].size());
    }
  }
}

std::string AsciiCase(std::string_view s, bool upper) {
  std::string out(s);
  for (char& c : out) {
    if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

std::string_view RelabelActionName(RelabelAction action) {
  switch (action) {
    case RelabelAction::kReplace: return "replace";
    case RelabelAction::kKeep: return "keep";
    case RelabelAction::kDrop: return "drop";
    case RelabelAction::kKeepEqual: return "keepequal";
    case RelabelAction::kDropEqual: return "dropequal";
    case RelabelAction::kHashMod: return "hashmod";
    case RelabelAction::kLabelMap: return "labelmap";
    case RelabelAction::kLabelDrop: return "labeldrop";
    case RelabelAction::kLabelKeep: return "labelkeep";
    case RelabelAction::kLowercase: return "lowercase";
    case RelabelAction::kUppercase: return "uppercase";
  }
  return "unknown";
}

std::string ValidateRelabelConfig(const RelabelConfig& c) {
  const RelabelConfig defaults;
  std::string action(RelabelActionName(c.action));
  using A = RelabelAction;
  auto is = [&](std::initializer_list<A> actions) {
    return std::find(actions.begin(), actions.end(), c.action) != actions.end();
  };
  for (const std::string& name : c.source_labels) {
    if (!IsValidLabelName(name)) return Quoted(name) + " is not a valid label name";
  }
  if (c.action == A::kHashMod && c.modulus == 0) {
    return "relabel configuration for hashmod requires non-zero modulus";
  }
  if (is({A::kReplace, A::kHashMod, A::kLowercase, A::kUppercase, A::kKeepEqual, A::kDropEqual}) &&
      c.target_label.empty()) {
    return "relabel configuration for " + action + " action requires 'target_label' value";
  }
  bool templated = c.target_label.find('$') != std::string::npos;
  bool target_ok = c.action == A::kReplace && templated ? IsValidTargetTemplate(c.target_label)
                                                        : IsValidLabelName(c.target_label);
  if (is({A::kReplace, A::kHashMod, A::kLowercase, A::kUppercase, A::kKeepEqual, A::kDropEqual}) &&
      !target_ok) {
    return Quoted(c.target_label) + " is invalid 'target_label' for " + action + " action";
  }
  if (is({A::kLowercase, A::kUppercase, A::kKeepEqual, A::kDropEqual}) &&
      c.replacement != defaults.replacement) {
    return "'replacement' can not be set for " + action + " action";
  }
  if (c.action == A::kLabelMap && !IsValidTargetTemplate(c.replacement)) {
    return Quoted(c.replacement) + " is invalid 'replacement' for " + action + " action";
  }
  if (is({A::kKeepEqual, A::kDropEqual}) &&
      (c.regex != defaults.regex || c.modulus != 0 || c.separator != defaults.separator)) {
    return action + " action requires only 'source_labels' and `target_label`, and no other fields";
  }
  if (is({A::kLabelDrop, A::kLabelKeep}) &&
      (!c.source_labels.empty() || !c.target_label.empty() || c.modulus != 0 ||
       c.separator != defaults.separator || c.replacement != defaults.replacement)) {
    return action + " action requires only 'regex', and no other fields";
  }
  return {};
}

struct Relabeler::Rule {
  RelabelConfig config;
  std::unique_ptr<re2::RE2> regex;  // anchored
};

Relabeler::Relabeler() = default;
Relabeler::~Relabeler() = default;
size_t Relabeler::size() const { return rules_.size(); }

std::unique_ptr<const Relabeler> Relabeler::Make(const std::vector<RelabelConfig>& configs,
                                                 std::string* error) {
  auto relabeler = std::make_unique<Relabeler>();
  for (size_t i = 0; i < configs.size(); ++i) {
    std::string problem = ValidateRelabelConfig(configs[i]);
    Rule rule{configs[i], nullptr};
    if (problem.empty()) {
      re2::RE2::Options options;
      options.set_log_errors(false);
      rule.regex = std::make_unique<re2::RE2>("^(?:" + configs[i].regex + ")$", options);
      if (!rule.regex->ok()) {
        // LabelMatcher words RE2's errors as Go's regexp/syntax does, as Prometheus reports them.
        LabelMatcher::Make(LabelMatcher::Type::kRegexMatch, "", configs[i].regex, &problem);
        if (problem.empty()) problem = rule.regex->error();
      }
    }
    if (!problem.empty()) {
      *error = "relabel rule " + std::to_string(i + 1) + ": " + problem;
      return nullptr;
    }
    relabeler->rules_.push_back(std::move(rule));
  }
  return relabeler;
}

bool Relabeler::Process(Labels& labels) const {
  std::erase_if(labels, [](const Label& l) { return l.value.empty(); });
  for (const Rule& rule : rules_) {
    if (!Apply(rule, labels)) return false;
  }
  return true;
}

bool Relabeler::Apply(const Rule& rule, Labels& labels) const {
  const RelabelConfig& c = rule.config;
  const re2::RE2& re = *rule.regex;
  std::string value;
  for (size_t i = 0; i < c.source_labels.size(); ++i) {
    if (i > 0) value.append(c.separator);
    value.append(GetLabel(labels, c.source_labels[i]));
  }
  switch (c.action) {
    case RelabelAction::kDrop: return !re2::RE2::FullMatch(value, re);
    case RelabelAction::kKeep: return re2::RE2::FullMatch(value, re);
    case RelabelAction::kDropEqual: return GetLabel(labels, c.target_label) != value;
    case RelabelAction::kKeepEqual: return GetLabel(labels, c.target_label) == value;
    case RelabelAction::kReplace: {
      std::vector<re2::StringPiece> groups(re.NumberOfCapturingGroups() + 1);
      if (!re.Match(value, 0, value.size(), re2::RE2::UNANCHORED, groups.data(),
                    static_cast<int>(groups.size()))) {
        break;
      }
      std::string target, result;
      AppendExpanded(target, c.target_label, re, groups);
      if (!IsValidLabelName(target)) break;
      AppendExpanded(result, c.replacement, re, groups);
      SetLabel(labels, target, result);
      break;
    }
    case RelabelAction::kLowercase:
    case RelabelAction::kUppercase:
      SetLabel(labels, c.target_label, AsciiCase(value, c.action == RelabelAction::kUppercase));
      break;
    case RelabelAction::kHashMod: {
      std::array<uint8_t, 16> digest = Md5(value);
      uint64_t tail = 0;
      for (int i = 8; i < 16; ++i) tail = tail << 8 | digest[i];
      SetLabel(labels, c.target_label, std::to_string(tail % c.modulus));
      break;
    }
    case RelabelAction::kLabelMap: {
      const Labels before = labels;
      std::vector<re2::StringPiece> groups(re.NumberOfCapturingGroups() + 1);
      for (const Label& l : before) {
        if (!re.Match(l.name, 0, l.name.size(), re2::RE2::UNANCHORED, groups.data(),
                      static_cast<int>(groups.size()))) {
          continue;
        }
        std::string name;
        AppendExpanded(name, c.replacement, re, groups);
        if (IsValidLabelName(name)) SetLabel(labels, name, l.value);
      }
      break;
    }
    case RelabelAction::kLabelDrop:
    case RelabelAction::kLabelKeep: {
      bool keep_matching = c.action == RelabelAction::kLabelKeep;
      std::erase_if(labels, [&](const Label& l) {
        return re2::RE2::FullMatch(l.name, re) != keep_matching;
      });
      break;
    }
  }
  return true;
}

bool ParseRelabelConfigs(const YAML::Node& list, std::vector<RelabelConfig>* out,
                         std::string* error) {
  using namespace yaml_walk;
  try {
    if (!list.IsSequence()) throw ErrorAt(list, "relabel configs must be a list");
    for (const YAML::Node& item : list) {
      RelabelConfig c;
      bool has_source_labels = false;
      YAML::Node regex_node = item;
      ForEachKey(item, "relabel config", {
          {"source_labels", [&](const YAML::Node& v) {
             c.source_labels = StringList(v, "source_labels");
             has_source_labels = true;
           }},
          {"separator", [&](const YAML::Node& v) { c.separator = Scalar(v, "separator"); }},
          {"regex", [&](const YAML::Node& v) {
             // As Prometheus: a null regex is the empty one, not the default.
             c.regex = v.IsNull() ? "" : Scalar(v, "regex");
             regex_node.reset(v);  // rebinds; `=` would overwrite the item itself
           }},
          {"modulus", [&](const YAML::Node& v) { c.modulus = Unsigned(v, "modulus"); }},
          {"target_label", [&](const YAML::Node& v) { c.target_label = Scalar(v, "target_label"); }},
          {"replacement", [&](const YAML::Node& v) { c.replacement = Scalar(v, "replacement"); }},
          {"action", [&](const YAML::Node& v) {
             std::string name = Scalar(v, "action");
             std::optional<RelabelAction> action = ActionNamed(name);
             if (!action) throw ErrorAt(v, "unknown relabel action " + Quoted(name));
             c.action = *action;
           }},
      });
      bool label_set_action =
          c.action == RelabelAction::kLabelDrop || c.action == RelabelAction::kLabelKeep;
      std::string problem = label_set_action && has_source_labels
                                ? std::string(RelabelActionName(c.action)) +
                                      " action requires only 'regex', and no other fields"
                                : ValidateRelabelConfig(c);
      if (!problem.empty()) throw ErrorAt(item, problem);
      std::string regex_error;
      if (!Relabeler::Make({c}, &regex_error)) {
        throw ErrorAt(regex_node, regex_error.substr(regex_error.find(": ") + 2));
      }
      out->push_back(std::move(c));
    }
  } catch (const ConfigError& e) {
    *error = e.what();
    return false;
  }
  return true;
}

}  // namespace crmscope::agent
