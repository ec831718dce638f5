// A label matcher selects series by one label: `name="v"`, `!=`, `=~` and `!~`. Regular
// expressions are RE2's and fully anchored, as in Prometheus: `job=~"crm"` matches "crm" only,
// never "crm-node". An absent label matches as the empty string.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace re2 { class RE2; }

namespace crmscope {

class LabelMatcher {
 public:
  enum class Type { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

  // Builds a matcher. For the regex kinds an invalid pattern yields nullptr and sets *error to
  // RE2's message, worded as Prometheus words it ("error parsing regexp: ...").
  static std::shared_ptr<const LabelMatcher> Make(Type type, std::string name, std::string value,
                                                  std::string* error);

  Type type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }
  bool Matches(std::string_view label_value) const;
  bool MatchesEmpty() const { return matches_empty_; }
  // For regex matchers whose pattern is a plain alternation of literals ("a|b|c"), the literals;
  // lets an index look them up one by one instead of testing every value.
  const std::vector<std::string>& SetMatches() const { return set_matches_; }
  std::string ToString() const;  // name="value", with the operator and escaping of PromQL

  LabelMatcher(Type type, std::string name, std::string value);
  ~LabelMatcher();

 private:
  Type type_;
  std::string name_;
  std::string value_;
  std::unique_ptr<re2::RE2> re_;
  bool matches_empty_ = false;
  std::vector<std::string> set_matches_;
};

using MatcherPtr = std::shared_ptr<const LabelMatcher>;
using Matchers = std::vector<MatcherPtr>;

}  // namespace crmscope
