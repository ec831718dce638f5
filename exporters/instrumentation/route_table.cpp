#include "exporters/instrumentation/route_table.h"

#include <stdexcept>

namespace crmscope::instrumentation {

namespace {

constexpr std::array<std::string_view, kNumHttpMethods> kMethodNames = {
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"};

// Splits off the next segment of a path positioned just after a '/'.
std::string_view NextSegment(std::string_view* rest) {
  size_t slash = rest->find('/');
  std::string_view segment = rest->substr(0, slash);
  *rest = slash == std::string_view::npos ? std::string_view() : rest->substr(slash);
  return segment;
}

}  // namespace

HttpMethod ParseHttpMethod(std::string_view method) {
  for (size_t i = 0; i + 1 < kNumHttpMethods; ++i) {
    if (method == kMethodNames[i]) return static_cast<HttpMethod>(i);
  }
  return HttpMethod::kOther;
}

std::string_view HttpMethodName(HttpMethod method) {
  return kMethodNames[static_cast<size_t>(method)];
}

RouteTable::RouteTable(std::vector<RouteSpec> routes) : routes_(std::move(routes)) {
  for (size_t r = 0; r < routes_.size(); ++r) {
    const RouteSpec& spec = routes_[r];
    for (size_t earlier = 0; earlier < r; ++earlier) {
      if (routes_[earlier].method == spec.method && routes_[earlier].pattern == spec.pattern) {
        throw std::invalid_argument("duplicate route: " + spec.pattern);
      }
    }
    size_t id = FindTemplate(spec.pattern);
    if (id == other_template()) {
      if (spec.pattern.empty() || spec.pattern[0] != '/') {
        throw std::invalid_argument("route pattern must start with '/': " + spec.pattern);
      }
      Template t{spec.pattern, {}};
      std::string_view rest(spec.pattern);
      size_t params = 0;
      while (!rest.empty()) {
        rest.remove_prefix(1);
        std::string_view segment = NextSegment(&rest);
        bool opens = !segment.empty() && segment.front() == '{';
        if (opens && (segment.size() < 3 || segment.back() != '}')) {
          throw std::invalid_argument("malformed parameter in route pattern: " + spec.pattern);
        }
        if (opens && ++params > RouteMatch::kMaxParams) {
          throw std::invalid_argument("too many parameters in route pattern: " + spec.pattern);
        }
        t.segments.push_back(Segment{opens ? std::string() : std::string(segment), opens});
      }
      templates_.push_back(std::move(t));
      id = templates_.size() - 1;
    }
    route_template_.push_back(id);
  }
}

std::string_view RouteTable::template_name(size_t template_id) const {
  return template_id < templates_.size() ? std::string_view(templates_[template_id].pattern)
                                         : std::string_view("other");
}

size_t RouteTable::FindTemplate(std::string_view pattern) const {
  for (size_t i = 0; i < templates_.size(); ++i) {
    if (templates_[i].pattern == pattern) return i;
  }
  return other_template();
}

bool RouteTable::MatchTemplate(const Template& t, std::string_view path, RouteMatch* match) const {
  match->num_params = 0;
  std::string_view rest = path;
  for (const Segment& segment : t.segments) {
    if (rest.empty() || rest.front() != '/') return false;
    rest.remove_prefix(1);
    std::string_view actual = NextSegment(&rest);
    if (segment.is_param) {
      if (actual.empty()) return false;
      match->params[match->num_params++] = actual;
    } else if (actual != segment.literal) {
      return false;
    }
  }
  return rest.empty();
}

RouteMatch RouteTable::Match(std::string_view method, std::string_view path) const {
  RouteMatch match;
  match.method = ParseHttpMethod(method);
  match.template_id = other_template();
  RouteMatch candidate;
  for (size_t id = 0; id < templates_.size(); ++id) {
    if (!MatchTemplate(templates_[id], path, &candidate)) continue;
    for (size_t r = 0; r < routes_.size(); ++r) {
      if (route_template_[r] == id && routes_[r].method == match.method) {
        candidate.route = static_cast<int>(r);
        candidate.template_id = id;
        candidate.method = match.method;
        return candidate;
      }
    }
    // Remember the first pattern the path fits, for a 405 labelled with that pattern.
    if (!match.method_not_allowed) {
      match.method_not_allowed = true;
      match.template_id = id;
    }
  }
  return match;
}

}  // namespace crmscope::instrumentation
