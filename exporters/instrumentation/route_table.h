// Route templates: the bounded set of values an HTTP service may put in a `route` label.
//
// A label value must come from a small, fixed set, or every distinct customer id becomes its own
// time series (Prometheus's "cardinality explosion"). A RouteTable is built once from the
// service's route patterns ("/api/customers/{id}/orders") and maps each request to the index of
// the pattern it matched; a path matching no pattern maps to the template "other", so a raw path
// never reaches a label. The same match hands the handler its path parameters.
//
// Match() allocates nothing: parameters are views into the request's path. The table is
// immutable after construction and safe to use from any number of threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crmscope::instrumentation {

// The methods a `method` label may hold; anything else is "OTHER" (as the Go client's
// promhttp does with non-standard methods), again to keep the label bounded.
enum class HttpMethod : uint8_t { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };
inline constexpr size_t kNumHttpMethods = 8;

HttpMethod ParseHttpMethod(std::string_view method);
std::string_view HttpMethodName(HttpMethod method);  // "GET", ..., "OTHER"

// One route: a method and a pattern whose segments are literals or "{name}" parameters, each
// parameter standing for exactly one non-empty path segment.
struct RouteSpec {
  HttpMethod method;
  std::string pattern;  // "/api/customers/{id}"
};

struct RouteMatch {
  static constexpr size_t kMaxParams = 4;

  int route = -1;          // index into the table's routes; -1 when nothing matched
  size_t template_id = 0;  // the pattern (shared by its methods), or the table's other_template()
  HttpMethod method = HttpMethod::kOther;
  // The path matched a pattern, but no route serves that pattern with this method (HTTP 405).
  bool method_not_allowed = false;
  std::array<std::string_view, kMaxParams> params{};  // in pattern order
  size_t num_params = 0;
};

class RouteTable {
 public:
  // Throws std::invalid_argument for a malformed pattern (not starting with '/', an empty or
  // unterminated "{...}", more than kMaxParams parameters) or a duplicate (method, pattern).
  explicit RouteTable(std::vector<RouteSpec> routes);

  // First route (in table order) whose pattern and method match; literal-only patterns are not
  // preferred over parameter patterns, so list "/x/new" before "/x/{id}" when both exist.
  RouteMatch Match(std::string_view method, std::string_view path) const;

  const std::vector<RouteSpec>& routes() const { return routes_; }
  size_t template_of(size_t route) const { return route_template_[route]; }
  // Distinct patterns, plus one for "other" (the last id).
  size_t num_templates() const { return templates_.size() + 1; }
  size_t other_template() const { return templates_.size(); }
  std::string_view template_name(size_t template_id) const;  // the pattern, or "other"
  // The id of a pattern, or other_template() when the table has no such pattern.
  size_t FindTemplate(std::string_view pattern) const;

 private:
  struct Segment {
    std::string literal;  // empty for a parameter
    bool is_param = false;
  };
  struct Template {
    std::string pattern;
    std::vector<Segment> segments;
  };

  bool MatchTemplate(const Template& t, std::string_view path, RouteMatch* match) const;

  std::vector<RouteSpec> routes_;
  std::vector<size_t> route_template_;
  std::vector<Template> templates_;
};

}  // namespace crmscope::instrumentation
