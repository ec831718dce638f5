// Route templating: a request path becomes a bounded `route` label, so ids never become labels.
//
// The query string is dropped first. Then the configured rules are tried in order: each is an
// RE2 expression anchored at both ends, and the first that matches the path gives the route,
// its template written with \1..\9 for the captured groups (RE2's rewrite syntax), e.g.
//   ^/api/v[0-9]+/(customers|tickets)/[^/]+$  =  /api/vN/\1/{id}
// When no rule matches, numeric path segments and UUIDs (8-4-4-4-12 hex digits) collapse to
// {id}: /api/customers/123/orders -> /api/customers/{id}/orders.
//
// The default templating is hand-written (a scan of the path, no regex); rules cost one RE2
// match per rule tried, so put the busiest first.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace crmscope::agent::nginx_log {

struct RouteRule {
  std::string regex;
  std::string route_template;
};

// "REGEX=TEMPLATE" as the command line takes it, split at the last '=': a regex may hold '='
// (matching a path parameter "key=value"), a route template has no use for one.
bool ParseRouteRuleFlag(std::string_view flag, RouteRule* rule, std::string* error);

class RouteTemplater {
 public:
  RouteTemplater();
  ~RouteTemplater();
  RouteTemplater(RouteTemplater&&) noexcept;
  RouteTemplater& operator=(RouteTemplater&&) noexcept;

  // False when a regex does not compile or a template names a group the regex lacks.
  bool AddRules(const std::vector<RouteRule>& rules, std::string* error);

  // Writes the route of `path` (a $uri or $request_uri value) into *route, reusing its capacity.
  void Template(std::string_view path, std::string* route) const;

 private:
  struct CompiledRule;
  std::vector<std::unique_ptr<CompiledRule>> rules_;
};

// The default templating alone (no rules): query dropped, numeric and UUID segments -> {id}.
void DefaultRouteTemplate(std::string_view path, std::string* route);

}  // namespace crmscope::agent::nginx_log
