// Route templates: every request maps to a bounded label value, never to its raw path.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "exporters/instrumentation/route_table.h"

using crmscope::instrumentation::HttpMethod;
using crmscope::instrumentation::RouteMatch;
using crmscope::instrumentation::RouteTable;

namespace {

RouteTable CrmRoutes() {
  return RouteTable({
      {HttpMethod::kGet, "/api/customers"},
      {HttpMethod::kGet, "/api/customers/{id}"},
      {HttpMethod::kGet, "/api/customers/{id}/orders"},
      {HttpMethod::kPost, "/api/orders"},
      {HttpMethod::kGet, "/api/tickets"},
      {HttpMethod::kPost, "/api/tickets"},
      {HttpMethod::kPatch, "/api/tickets/{id}"},
      {HttpMethod::kGet, "/metrics"},
  });
}

std::string TemplateOf(const RouteTable& table, const RouteMatch& match) {
  return std::string(table.template_name(match.template_id));
}

}  // namespace

TEST_CASE("a path with an id maps to its template and hands over the id") {
  RouteTable table = CrmRoutes();
  RouteMatch m = table.Match("GET", "/api/customers/12345");
  CHECK(m.route == 1);
  CHECK(TemplateOf(table, m) == "/api/customers/{id}");
  REQUIRE(m.num_params == 1);
  CHECK(m.params[0] == "12345");
  CHECK_FALSE(m.method_not_allowed);

  m = table.Match("GET", "/api/customers/77/orders");
  CHECK(m.route == 2);
  CHECK(TemplateOf(table, m) == "/api/customers/{id}/orders");
  CHECK(m.params[0] == "77");
}

TEST_CASE("two methods on one pattern share a template") {
  RouteTable table = CrmRoutes();
  RouteMatch get = table.Match("GET", "/api/tickets");
  RouteMatch post = table.Match("POST", "/api/tickets");
  CHECK(get.route == 4);
  CHECK(post.route == 5);
  CHECK(get.template_id == post.template_id);
  CHECK(post.method == HttpMethod::kPost);
  // 8 routes over 7 distinct patterns, plus "other".
  CHECK(table.num_templates() == 8);
}

TEST_CASE("unmatched paths are labelled other, never with the raw path") {
  RouteTable table = CrmRoutes();
  for (const char* path : {"/", "/api", "/api/customers/", "/api/customers//orders",
                           "/api/customers/1/orders/2", "/nope?x=1", "/api/customers/1/"}) {
    CAPTURE(path);
    RouteMatch m = table.Match("GET", path);
    CHECK(m.route == -1);
    CHECK_FALSE(m.method_not_allowed);
    CHECK(TemplateOf(table, m) == "other");
    CHECK(m.template_id == table.other_template());
  }
}

TEST_CASE("a known path with the wrong method is a 405 labelled with its template") {
  RouteTable table = CrmRoutes();
  RouteMatch m = table.Match("DELETE", "/api/customers/5");
  CHECK(m.route == -1);
  CHECK(m.method_not_allowed);
  CHECK(TemplateOf(table, m) == "/api/customers/{id}");
  CHECK(m.method == HttpMethod::kDelete);
}

TEST_CASE("non-standard methods collapse to OTHER") {
  CHECK(crmscope::instrumentation::ParseHttpMethod("BREW") == HttpMethod::kOther);
  CHECK(crmscope::instrumentation::ParseHttpMethod("get") == HttpMethod::kOther);
  CHECK(crmscope::instrumentation::HttpMethodName(HttpMethod::kPatch) == "PATCH");
  RouteTable table = CrmRoutes();
  RouteMatch m = table.Match("BREW", "/api/tickets");
  CHECK(m.method_not_allowed);
  CHECK(m.method == HttpMethod::kOther);
}

TEST_CASE("earlier routes win, so a literal listed first beats a parameter") {
  RouteTable table({{HttpMethod::kGet, "/x/new"},
                    {HttpMethod::kGet, "/x/{id}"},
                    {HttpMethod::kDelete, "/x/{id}"}});
  CHECK(table.Match("GET", "/x/new").route == 0);
  CHECK(table.Match("GET", "/x/9").route == 1);
  // The literal pattern has no DELETE; the parameter pattern does.
  RouteMatch m = table.Match("DELETE", "/x/new");
  CHECK(m.route == 2);
  CHECK(m.params[0] == "new");
}

TEST_CASE("several parameters come back in pattern order") {
  RouteTable table({{HttpMethod::kGet, "/a/{x}/b/{y}"}});
  RouteMatch m = table.Match("GET", "/a/1/b/two");
  REQUIRE(m.num_params == 2);
  CHECK(m.params[0] == "1");
  CHECK(m.params[1] == "two");
  CHECK(table.FindTemplate("/a/{x}/b/{y}") == 0);
  CHECK(table.FindTemplate("/a") == table.other_template());
}

TEST_CASE("malformed tables are refused") {
  using R = std::vector<crmscope::instrumentation::RouteSpec>;
  CHECK_THROWS_AS(RouteTable(R{{HttpMethod::kGet, "api"}}), std::invalid_argument);
  CHECK_THROWS_AS(RouteTable(R{{HttpMethod::kGet, "/a/{}"}}), std::invalid_argument);
  CHECK_THROWS_AS(RouteTable(R{{HttpMethod::kGet, "/a/{x"}}), std::invalid_argument);
  CHECK_THROWS_AS(RouteTable(R{{HttpMethod::kGet, "/{a}/{b}/{c}/{d}/{e}"}}), std::invalid_argument);
  CHECK_THROWS_AS(RouteTable(R{{HttpMethod::kGet, "/a"}, {HttpMethod::kGet, "/a"}}),
                  std::invalid_argument);
  CHECK_NOTHROW(RouteTable(R{{HttpMethod::kGet, "/a"}, {HttpMethod::kPost, "/a"}}));
}
