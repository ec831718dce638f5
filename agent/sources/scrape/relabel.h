// Relabelling with Prometheus's semantics (relabel_config, used for metric_relabel_configs): an
// ordered list of rules, each reading the values of `source_labels` joined by `separator` and
// then keeping, dropping or rewriting the label set.
//
// As Prometheus does:
//  - defaults: separator ";", regex "(.*)", replacement "$1", action replace;
//  - the regex is RE2 and fully anchored ("^(?:" + regex + ")$"): "crm" never matches "crm-node";
//  - replacement and a replace's target_label expand $1, ${1}, $name and ${name} as Go's
//    regexp.Expand does ($1x names the group "1x", which expands to nothing; $$ is a "$");
//  - replace does nothing when the regex does not match, skips a target that expands to an
//    invalid label name, and removes the target label when the replacement expands to "";
//  - hashmod sets the target to (the last 8 bytes of md5(value), big-endian) mod modulus;
//  - a label with an empty value is the same as an absent one, and never kept.
// Beyond Prometheus 2.42: lowercase and uppercase map ASCII letters only, and a labelmap result
// that is not a valid label name is skipped rather than set.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/labels.h"

namespace YAML {
class Node;
}

namespace crmscope::agent {

enum class RelabelAction {
  kReplace,
  kKeep,
  kDrop,
  kKeepEqual,
  kDropEqual,
  kHashMod,
  kLabelMap,
  kLabelDrop,
  kLabelKeep,
  kLowercase,
  kUppercase,
};

std::string_view RelabelActionName(RelabelAction action);  // "replace", "hashmod", ...

struct RelabelConfig {
  std::vector<std::string> source_labels;
  std::string separator = ";";
  std::string regex = "(.*)";  // as written, without the anchors
  uint64_t modulus = 0;
  std::string target_label;
  std::string replacement = "$1";
  RelabelAction action = RelabelAction::kReplace;
};

// The checks Prometheus makes when it loads a config, with its wording; "" when valid.
// The regex itself is checked by Relabeler::Make.
std::string ValidateRelabelConfig(const RelabelConfig& config);

// Reads a YAML list of relabel configs, with Prometheus's key names and defaults, validated and
// with each regex compiled once to check it. Errors are "LINE:COL: message".
bool ParseRelabelConfigs(const YAML::Node& list, std::vector<RelabelConfig>* out,
                         std::string* error);

// A compiled list of rules. Immutable, so one can be shared by threads.
class Relabeler {
 public:
  // nullptr and *error (naming the rule's position) if a config is invalid.
  static std::unique_ptr<const Relabeler> Make(const std::vector<RelabelConfig>& configs,
                                               std::string* error);
  Relabeler();  // no rules: Process keeps every series as it is
  ~Relabeler();

  // Applies the rules in order to `labels` (sorted by name, and kept so). Returns false when a
  // rule drops the series; `labels` is then unspecified.
  bool Process(Labels& labels) const;
  size_t size() const;

 private:
  struct Rule;
  bool Apply(const Rule& rule, Labels& labels) const;
  std::vector<Rule> rules_;
};

}  // namespace crmscope::agent
