#include "common/label_matcher.h"

#include <re2/re2.h>

namespace crmscope {

namespace {

// RE2's error codes worded as Go's regexp/syntax words them, since Prometheus reports Go's text.
std::string GoRegexpError(const re2::RE2& re) {
  const char* code = "invalid regexp";
  switch (re.error_code()) {
    case re2::RE2::ErrorMissingParen: code = "missing closing )"; break;
    case re2::RE2::ErrorUnexpectedParen: code = "unexpected )"; break;
    case re2::RE2::ErrorMissingBracket: code = "missing closing ]"; break;
    case re2::RE2::ErrorBadCharRange: code = "invalid character class range"; break;
    case re2::RE2::ErrorBadCharClass: code = "invalid character class"; break;
    case re2::RE2::ErrorRepeatArgument: code = "missing argument to repetition operator"; break;
    case re2::RE2::ErrorRepeatSize: code = "invalid repeat count"; break;
    case re2::RE2::ErrorRepeatOp: code = "invalid nested repetition operator"; break;
    case re2::RE2::ErrorBadEscape: code = "invalid escape sequence"; break;
    case re2::RE2::ErrorBadPerlOp: code = "invalid or unsupported Perl syntax"; break;
    case re2::RE2::ErrorBadUTF8: code = "invalid UTF-8"; break;
    case re2::RE2::ErrorBadNamedCapture: code = "invalid named capture"; break;
    case re2::RE2::ErrorTrailingBackslash: code = "trailing backslash at end of expression"; break;
    default: break;
  }
  return std::string("error parsing regexp: ") + code + ": `" + re.error_arg() + "`";
}

// "a|b|c" with no other regex syntax: equality against a few literals, which an index can look up.
std::vector<std::string> LiteralAlternatives(const std::string& pattern) {
  static constexpr std::string_view kMeta = "\\.+*?()[]{}^$";
  std::vector<std::string> out;
  if (pattern.find_first_of(kMeta) != std::string::npos) return out;
  size_t start = 0;
  while (true) {
    size_t bar = pattern.find('|', start);
    out.push_back(pattern.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
    if (bar == std::string::npos) break;
    start = bar + 1;
  }
  return out;
}

}  // namespace

LabelMatcher::LabelMatcher(Type type, std::string name, std::string value)
    : type_(type), name_(std::move(name)), value_(std::move(value)) {}

LabelMatcher::~LabelMatcher() = default;

std::shared_ptr<const LabelMatcher> LabelMatcher::Make(Type type, std::string name,
                                                        std::string value, std::string* error) {
  auto m = std::make_shared<LabelMatcher>(type, std::move(name), std::move(value));
  if (type == Type::kRegexMatch || type == Type::kRegexNoMatch) {
    re2::RE2::Options options;
    options.set_log_errors(false);
    // Anchored on both ends as Prometheus compiles "^(?:" + v + ")$".
    m->re_ = std::make_unique<re2::RE2>("^(?:" + m->value_ + ")$", options);
    if (!m->re_->ok()) {
      if (error) *error = GoRegexpError(*m->re_);
      return nullptr;
    }
    // Prometheus then compiles the pattern on its own: "x)|(y" is valid once wrapped, not alone.
    re2::RE2 raw(m->value_, options);
    if (!raw.ok()) {
      if (error) *error = GoRegexpError(raw);
      return nullptr;
    }
    m->set_matches_ = LiteralAlternatives(m->value_);
  }
  m->matches_empty_ = m->Matches("");
  return m;
}

bool LabelMatcher::Matches(std::string_view v) const {
  switch (type_) {
    case Type::kEqual: return v == value_;
    case Type::kNotEqual: return v != value_;
    case Type::kRegexMatch: return re2::RE2::FullMatch(v, *re_);
    case Type::kRegexNoMatch: return !re2::RE2::FullMatch(v, *re_);
  }
  return false;
}

std::string LabelMatcher::ToString() const {
  static constexpr const char* kOps[] = {"=", "!=", "=~", "!~"};
  std::string out = name_ + kOps[static_cast<int>(type_)] + "\"";
  for (char c : value_) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '\n') { out += "\\n"; continue; }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace crmscope
