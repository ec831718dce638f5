#include "agent/sources/nginx_log/route_template.h"

#include <re2/re2.h>

#include <array>

namespace crmscope::agent::nginx_log {

namespace {

constexpr int kMaxGroups = 10;  // \0..\9

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool IsNumericSegment(std::string_view segment) {
  if (segment.empty()) return false;
  for (char c : segment) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool IsUuidSegment(std::string_view segment) {
  if (segment.size() != 36) return false;
  for (size_t i = 0; i < segment.size(); ++i) {
    bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? segment[i] != '-' : !IsHex(segment[i])) return false;
  }
  return true;
}

std::string_view WithoutQuery(std::string_view path) {
  size_t query = path.find('?');
  return query == std::string_view::npos ? path : path.substr(0, query);
}

}  // namespace

struct RouteTemplater::CompiledRule {
  explicit CompiledRule(const RouteRule& rule)
      : regex(rule.regex, QuietOptions()), route_template(rule.route_template) {}
  // A bad rule is reported through AddRules' error, not RE2's own log line on stderr.
  static re2::RE2::Options QuietOptions() {
    re2::RE2::Options options;
    options.set_log_errors(false);
    return options;
  }
  re2::RE2 regex;
  std::string route_template;
  int submatches = 1;
};

RouteTemplater::RouteTemplater() = default;
RouteTemplater::~RouteTemplater() = default;
RouteTemplater::RouteTemplater(RouteTemplater&&) noexcept = default;
RouteTemplater& RouteTemplater::operator=(RouteTemplater&&) noexcept = default;

bool ParseRouteRuleFlag(std::string_view flag, RouteRule* rule, std::string* error) {
  size_t equals = flag.rfind('=');
  if (equals == std::string_view::npos || equals == 0) {
    *error = "route rule \"" + std::string(flag) + "\" is not REGEX=TEMPLATE";
    return false;
  }
  rule->regex = std::string(flag.substr(0, equals));
  rule->route_template = std::string(flag.substr(equals + 1));
  return true;
}

bool RouteTemplater::AddRules(const std::vector<RouteRule>& rules, std::string* error) {
  for (const RouteRule& rule : rules) {
    auto compiled = std::make_unique<CompiledRule>(rule);
    if (!compiled->regex.ok()) {
      *error = "route rule regex \"" + rule.regex + "\": " + compiled->regex.error();
      return false;
    }
    std::string rewrite_error;
    if (!compiled->regex.CheckRewriteString(rule.route_template, &rewrite_error)) {
      *error = "route rule template \"" + rule.route_template + "\": " + rewrite_error;
      return false;
    }
    compiled->submatches = re2::RE2::MaxSubmatch(rule.route_template) + 1;
    rules_.push_back(std::move(compiled));
  }
  return true;
}

void RouteTemplater::Template(std::string_view path, std::string* route) const {
  path = WithoutQuery(path);
  std::array<re2::StringPiece, kMaxGroups> groups;
  for (const auto& rule : rules_) {
    if (rule->regex.Match(path, 0, path.size(), re2::RE2::ANCHOR_BOTH, groups.data(),
                          rule->submatches)) {
      route->clear();
      rule->regex.Rewrite(route, rule->route_template, groups.data(), rule->submatches);
      return;
    }
  }
  DefaultRouteTemplate(path, route);
}

void DefaultRouteTemplate(std::string_view path, std::string* route) {
  path = WithoutQuery(path);
  route->clear();
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    std::string_view segment = path.substr(start, slash - start);
    if (IsNumericSegment(segment) || IsUuidSegment(segment)) {
      route->append("{id}");
    } else {
      route->append(segment);
    }
    if (slash == std::string_view::npos) break;
    route->push_back('/');
    start = slash + 1;
  }
}

}  // namespace crmscope::agent::nginx_log
