// The PromQL parser against Prometheus 2.42: every expected string in the tables below is what
// a real Prometheus 2.42 answered for the same query (printed form from /api/v1/format_query,
// errors from the same endpoint), so a difference here is a difference from Prometheus.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collector/promql/functions.h"
#include "collector/promql/parser.h"

namespace crmscope::promql {
namespace {

struct Case {
  std::string_view query;
  std::string_view want;
};

// Valid queries and how Prometheus prints them back.
constexpr Case kValidCases[] = {
    {"1", "1"},
    {"-1", "-1"},
    {"+1", "1"},
    {"- - 1", "1"},
    {".5", "0.5"},
    {"5.", "5"},
    {"1e3", "1000"},
    {"1E-3", "0.001"},
    {"0x1f", "31"},
    {"010", "8"},
    {"08", "8"},
    {"1000000", "1e+06"},
    {"123456", "123456"},
    {"0.0001", "0.0001"},
    {"0.00001", "1e-05"},
    {"Inf", "+Inf"},
    {"-Inf", "-Inf"},
    {"NaN", "NaN"},
    {"\"double\"", "\"double\""},
    {"'single'", "\"single\""},
    {"`raw\\t`", "\"raw\\\\t\""},
    {"\"\\x41\\101\\u00e9\\U0001F600\\t\"", "\"AA\303\251\360\237\230\200\\t\""},
    {"\"\303\251\"", "\"\303\251\""},
    {"\"\\u200b\"", "\"\\u200b\""},
    {"foo", "foo"},
    {"foo:bar:baz", "foo:bar:baz"},
    {"sum", "sum"},
    {"by", "by"},
    {"offset", "offset"},
    {"start", "start"},
    {"and", "and"},
    {"foo # comment", "foo"},
    {"{a=\"b\"}", "{a=\"b\"}"},
    {"foo{a=\"b\", c!=\"d\", e=~\"f.*\", g!~\"h\"}", "foo{a=\"b\",c!=\"d\",e=~\"f.*\",g!~\"h\"}"},
    {"foo{a=\"b\",}", "foo{a=\"b\"}"},
    {"foo{a='b'}", "foo{a=\"b\"}"},
    {"{__name__=\"foo\"}", "{__name__=\"foo\"}"},
    {"{__name__=~\"foo|bar\", job=\"x\"}", "{__name__=~\"foo|bar\",job=\"x\"}"},
    {"foo{le=\"0.5\"}", "foo{le=\"0.5\"}"},
    {"foo offset 5m", "foo offset 5m"},
    {"foo offset -1h30m", "foo offset -1h30m"},
    {"foo @ 1609746000", "foo @ 1609746000.000"},
    {"foo @ -100.5", "foo @ -100.500"},
    {"foo @ 1.2345", "foo @ 1.235"},
    {"foo @ start()", "foo @ start()"},
    {"foo @ end() offset 1m", "foo @ end() offset 1m"},
    {"foo offset 1m @ 100", "foo @ 100.000 offset 1m"},
    {"foo[5m]", "foo[5m]"},
    {"foo[1h30m] offset 1d", "foo[1h30m] offset 1d"},
    {"foo[5m] @ 100 offset -2m", "foo[5m] @ 100.000 offset -2m"},
    {"foo[14d]", "foo[2w]"},
    {"foo[366d]", "foo[366d]"},
    {"foo[1000ms]", "foo[1s]"},
    {"foo[5m:1m]", "foo[5m:1m]"},
    {"foo[5m:]", "foo[5m:]"},
    {"rate(foo[5m])[1h:5m] offset 10m", "rate(foo[5m])[1h:5m] offset 10m"},
    {"foo[5m x]", "foo[5m:]"},
    {"sum(foo)", "sum(foo)"},
    {"SUM(foo)", "sum(foo)"},
    {"sum by (a, b) (foo)", "sum by (a, b) (foo)"},
    {"sum without (a) (foo)", "sum without (a) (foo)"},
    {"sum(foo) by (a)", "sum by (a) (foo)"},
    {"sum by () (foo)", "sum(foo)"},
    {"sum without () (foo)", "sum without () (foo)"},
    {"sum by (a,) (foo)", "sum by (a) (foo)"},
    {"sum by (bool, on, offset, start, atan2, SUM) (foo)", "sum by (bool, on, offset, start, atan2, SUM) (foo)"},
    {"topk(5, foo)", "topk(5, foo)"},
    {"bottomk by (x) (3, foo)", "bottomk by (x) (3, foo)"},
    {"quantile(0.9, foo)", "quantile(0.9, foo)"},
    {"count_values(\"v\", foo)", "count_values(\"v\", foo)"},
    {"group(foo)", "group(foo)"},
    {"stddev(foo)", "stddev(foo)"},
    {"avg(foo) without (instance)", "avg without (instance) (foo)"},
    {"rate(foo[5m])", "rate(foo[5m])"},
    {"irate(foo{a=\"b\"}[1m])", "irate(foo{a=\"b\"}[1m])"},
    {"round(foo)", "round(foo)"},
    {"round(foo, 5)", "round(foo, 5)"},
    {"label_join(foo, \"dst\", \",\", \"a\", \"b\", \"c\")", "label_join(foo, \"dst\", \",\", \"a\", \"b\", \"c\")"},
    {"label_replace(foo, \"dst\", \"$1\", \"src\", \"(.*)\")", "label_replace(foo, \"dst\", \"$1\", \"src\", \"(.*)\")"},
    {"histogram_quantile(0.9, sum by (le) (rate(foo[5m])))", "histogram_quantile(0.9, sum by (le) (rate(foo[5m])))"},
    {"time()", "time()"},
    {"pi()", "pi()"},
    {"vector(1)", "vector(1)"},
    {"scalar(foo)", "scalar(foo)"},
    {"day_of_week()", "day_of_week()"},
    {"days_in_month(foo)", "days_in_month(foo)"},
    {"quantile_over_time(0.5, foo[5m])", "quantile_over_time(0.5, foo[5m])"},
    {"holt_winters(foo[1h], 0.5, 0.5)", "holt_winters(foo[1h], 0.5, 0.5)"},
    {"absent_over_time(foo[5m:1m])", "absent_over_time(foo[5m:1m])"},
    {"foo + bar", "foo + bar"},
    {"foo - bar * baz", "foo - bar * baz"},
    {"(foo - bar) * baz", "(foo - bar) * baz"},
    {"foo / bar % baz", "foo / bar % baz"},
    {"foo ^ bar ^ baz", "foo ^ bar ^ baz"},
    {"-foo ^ 2", "-foo ^ 2"},
    {"-foo * 2", "-foo * 2"},
    {"foo atan2 bar", "foo atan2 bar"},
    {"foo == bool bar", "foo == bool bar"},
    {"1 == bool 1", "1 == bool 1"},
    {"foo > 1", "foo > 1"},
    {"foo and bar or baz", "foo and bar or baz"},
    {"foo unless bar", "foo unless bar"},
    {"foo + on(a) bar", "foo + on (a) bar"},
    {"foo + ignoring(a, b) bar", "foo + ignoring (a, b) bar"},
    {"foo * on(a) group_left(b) bar", "foo * on (a) group_left (b) bar"},
    {"foo * on(a) group_right bar", "foo * on (a) group_right () bar"},
    {"foo * ignoring(a) group_left bar", "foo * ignoring (a) group_left () bar"},
    {"foo * ignoring() group_left bar", "foo * bar"},
    {"foo / on() bar", "foo / on () bar"},
    {"foo and on(a) bar", "foo and on (a) bar"},
    {"foo or ignoring(a) bar", "foo or ignoring (a) bar"},
    {"1 + foo", "1 + foo"},
    {"foo + 1", "foo + 1"},
    {"1 + 2 * 3", "1 + 2 * 3"},
    {"(1 + 2) * 3", "(1 + 2) * 3"},
    {"-(1)", "-(1)"},
    {"-(foo)", "-(foo)"},
    {"+foo", "+foo"},
    {"foo offset 5m + bar @ 10", "foo offset 5m + bar @ 10.000"},
    {"sum(rate(foo[5m])) / sum(rate(bar[5m]))", "sum(rate(foo[5m])) / sum(rate(bar[5m]))"},
    {"max_over_time(deriv(rate(foo[1m])[5m:1m])[10m:])", "max_over_time(deriv(rate(foo[1m])[5m:1m])[10m:])"},
    {"foo\n+\nbar", "foo + bar"},
};

// Invalid queries and Prometheus's error for each.
constexpr Case kErrorCases[] = {
    {"", "1:1: parse error: no expression found in input"},
    {"   ", "1:1: parse error: no expression found in input"},
    {"# just a comment", "1:1: parse error: no expression found in input"},
    {"(foo", "1:5: parse error: unclosed left parenthesis"},
    {"sum(rate(foo[5m]", "1:17: parse error: unclosed left parenthesis"},
    {"foo[5m", "1:7: parse error: unclosed left bracket"},
    {"=~", "1:1: parse error: unexpected character after '=': '~'"},
    {"foo !~ bar", "1:5: parse error: unexpected character after '!': '~'"},
    {"foo)", "1:5: parse error: unexpected right parenthesis ')'"},
    {"foo[5m][", "1:9: parse error: missing unit character in duration"},
    {"foo]", "1:4: parse error: unexpected right bracket ']'"},
    {"foo[5m::1m]", "1:8: parse error: unexpected colon ':'"},
    {"foo[5m:x:]", "1:8: parse error: unexpected colon 'x'"},
    {"foo $ bar", "1:5: parse error: unexpected character: '$'"},
    {"foo{a=\"b\"", "1:10: parse error: unexpected end of input inside braces"},
    {"foo{a!b=\"c\"}", "1:6: parse error: unexpected character after '!' inside braces: 'b'"},
    {"foo{{", "1:5: parse error: unexpected left brace '{'"},
    {"foo{a:b=\"c\"}", "1:6: parse error: unexpected character inside braces: ':'"},
    {"foo{1=\"c\"}", "1:5: parse error: unexpected character inside braces: '1'"},
    {"\"abc", "1:1: parse error: unterminated quoted string"},
    {"`abc", "1:1: parse error: unterminated raw string"},
    {"\"\\q\"", "1:1: parse error: unknown escape sequence U+0071 'q'"},
    {"\"\\x4g\"", "1:1: parse error: illegal character U+0067 'g' in escape sequence"},
    {"\"\\u12\"", "1:1: parse error: illegal character U+0022 '\"' in escape sequence"},
    {"\"\\400\"", "1:1: parse error: escape sequence is an invalid Unicode code point"},
    {"\"\\uD800\"", "1:1: parse error: escape sequence is an invalid Unicode code point"},
    {"\"abc\\", "1:1: parse error: escape sequence not terminated"},
    {"1_000", "1:1: parse error: bad number or duration syntax: \"1\""},
    {"5mx", "1:1: parse error: bad number or duration syntax: \"5mx\""},
    {"foo[5]", "1:5: parse error: missing unit character in duration"},
    {"foo[]", "1:5: parse error: missing unit character in duration"},
    {"foo[x]", "1:5: parse error: bad duration syntax: \"\""},
    {"foo[1y1y]", "1:5: parse error: bad duration syntax: \"1y1\""},
    {"foo[-5m]", "1:5: parse error: missing unit character in duration"},
    {"foo bar", "1:5: parse error: unexpected identifier \"bar\""},
    {"foo{a=\"b\"}{c=\"d\"}", "1:11: parse error: unexpected \"{\""},
    {"foo = 1", "1:5: parse error: unexpected \"=\""},
    {"foo, bar", "1:4: parse error: unexpected \",\""},
    {"5m", "1:1: parse error: unexpected duration \"5m\""},
    {"foo @ @", "1:7: parse error: unexpected \"<Item 57385>\" <op:@> in @, expected timestamp"},
    {"foo atan2 bool", "1:15: parse error: unexpected end of input"},
    {"foo 12345678901234", "1:5: parse error: unexpected number \"1234567890\"..."},
    {"foo \"abcdefghijklmnop\"", "1:5: parse error: unexpected string \"\\\"abcdefghi\"..."},
    {"sum(foo bar)", "1:9: parse error: unexpected identifier \"bar\" in aggregation"},
    {"sum by (a) foo", "1:12: parse error: unexpected identifier \"foo\" in aggregation"},
    {"sum(rate(foo bar))", "1:14: parse error: unexpected identifier \"bar\" in aggregation"},
    {"rate(foo bar)", "1:10: parse error: unexpected identifier \"bar\""},
    {"(foo bar)", "1:6: parse error: unexpected identifier \"bar\""},
    {"sum by foo (bar)", "1:8: parse error: unexpected identifier \"foo\" in grouping opts, expected \"(\""},
    {"sum by (foo:bar) (x)", "1:9: parse error: unexpected metric identifier \"foo:bar\" in grouping opts, expected label"},
    {"sum by (without) (x)", "1:9: parse error: unexpected <without> in grouping opts, expected label"},
    {"sum by (nan) (x)", "1:9: parse error: unexpected number \"nan\" in grouping opts, expected label"},
    {"sum by (a b) (x)", "1:11: parse error: unexpected identifier \"b\" in grouping opts, expected \",\" or \")\""},
    {"sum by (a, 1) (x)", "1:12: parse error: unexpected number \"1\" in grouping opts, expected label"},
    {"foo + on bar", "1:10: parse error: unexpected identifier \"bar\" in grouping opts, expected \"(\""},
    {"foo + on(a) group_left ==", "1:24: parse error: unexpected <op:==> in grouping opts, expected \"(\""},
    {"foo * group_left bar", "1:7: parse error: unexpected <group_left>"},
    {"foo{a}", "1:6: parse error: unexpected \"}\" in label matching, expected label matching operator"},
    {"foo{a=}", "1:7: parse error: unexpected \"}\" in label matching, expected string"},
    {"foo{a=\"b\" c=\"d\"}", "1:11: parse error: unexpected identifier \"c\" in label matching, expected \",\" or \"}\""},
    {"foo{,}", "1:5: parse error: unexpected \",\" in label matching, expected identifier or \"}\""},
    {"foo{\"a\"=\"b\"}", "1:5: parse error: unexpected string \"\\\"a\\\"\" in label matching, expected identifier or \"}\""},
    {"foo offset", "1:11: parse error: unexpected end of input in offset, expected duration"},
    {"foo offset bar", "1:12: parse error: unexpected identifier \"bar\" in offset, expected duration"},
    {"foo offset -bar", "1:13: parse error: unexpected identifier \"bar\" in offset, expected duration"},
    {"foo @", "1:6: parse error: unexpected end of input in @, expected timestamp"},
    {"foo @ start 5", "1:13: parse error: unexpected number \"5\" in @, expected timestamp"},
    {"foo @ start(5)", "1:13: parse error: unexpected number \"5\" in @, expected timestamp"},
    {"foo @ sum()", "1:7: parse error: unexpected <aggr:sum> in @, expected timestamp"},
    {"foo[5m 1m]", "1:8: parse error: unexpected duration \"1m\" in subquery or range, expected \":\" or \"]\""},
    {"foo[5m:1]", "1:8: parse error: unexpected number \"1\" in subquery selector, expected duration or \"]\""},
    {"foo[5m:1m 5]", "1:11: parse error: unexpected number \"5\" in subquery selector, expected \"]\""},
    {"rate(foo, )", "1:9: parse error: trailing commas not allowed in function call args"},
    {"rate(foo, bool)", "1:9: parse error: trailing commas not allowed in function call args"},
    {"nofunc(foo)", "1:1: parse error: unknown function with name \"nofunc\""},
    {"sum()", "1:1: parse error: no arguments for aggregate expression provided"},
    {"sum(a, b)", "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 1, got 2"},
    {"topk(foo)", "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1"},
    {"count_values by (a) (foo)", "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1"},
    {"sum() )", "1:8: parse error: unexpected right parenthesis ')'"},
    {"foo offset 5m offset 1m", "1:1: parse error: offset may not be set multiple times"},
    {"foo[5m] offset 1m offset 1m", "1:1: parse error: offset may not be set multiple times"},
    {"sum(foo) offset 5m", "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"},
    {"(foo) offset 5m", "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"},
    {"1 offset 5m", "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"},
    {"-1 offset 5m", "1:2: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"},
    {"foo @ 1 @ 2", "1:1: parse error: @ <timestamp> may not be set multiple times"},
    {"foo @ start() @ end()", "1:1: parse error: @ <timestamp> may not be set multiple times"},
    {"rate(foo[5m]) @ 100", "1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery"},
    {"foo @ Inf", "1:1: parse error: timestamp out of bounds for @ modifier: +Inf"},
    {"foo @ NaN", "1:1: parse error: timestamp out of bounds for @ modifier: NaN"},
    {"foo @ 1e20", "1:1: parse error: timestamp out of bounds for @ modifier: 100000000000000000000.000000"},
    {"foo offset 1m [5m]", "1:15: parse error: no offset modifiers allowed before range"},
    {"foo @ 100 [5m]", "1:11: parse error: no @ modifiers allowed before range"},
    {"rate(foo[5m])[5m]", "1:14: parse error: ranges only allowed for vector selectors"},
    {"foo[5m][5m]", "1:8: parse error: ranges only allowed for vector selectors"},
    {"1[5m]", "1:2: parse error: ranges only allowed for vector selectors"},
    {"foo[0s]", "1:5: parse error: duration must be greater than 0"},
    {"foo[5m:0s]", "1:8: parse error: duration must be greater than 0"},
    {"foo offset 0s", "1:12: parse error: duration must be greater than 0"},
    {"foo[5hs]", "1:5: parse error: not a valid duration string: \"5hs\""},
    {"foo[5m5m]", "1:5: parse error: not a valid duration string: \"5m5m\""},
    {"foo[300000y]", "1:5: parse error: duration out of range"},
    {"1e400", "1:1: parse error: error parsing number: strconv.ParseFloat: parsing \"1e400\": value out of range"},
    {"0x", "1:1: parse error: error parsing number: strconv.ParseFloat: parsing \"0x\": invalid syntax"},
    {"0x1.8", "1:1: parse error: error parsing number: strconv.ParseFloat: parsing \"0x1.8\": invalid syntax"},
    {"foo{a=~\"(\"}", "1:5: parse error: error parsing regexp: missing closing ): `^(?:()$`"},
    {"-\"a\"", "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"string\""},
    {"-foo[5m]", "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"range vector\""},
    {"1[5m:1m]", "1:1: parse error: subquery is only allowed on instant vector, got scalar instead"},
    {"\"a\"[5m:]", "1:1: parse error: subquery is only allowed on instant vector, got string instead"},
    {"foo[5m][5m:]", "1:1: parse error: subquery is only allowed on instant vector, got matrix instead"},
    {"sum(foo[5m])", "1:5: parse error: expected type instant vector in aggregation expression, got range vector"},
    {"topk(\"a\", foo)", "1:6: parse error: expected type scalar in aggregation parameter, got string"},
    {"quantile(foo, foo)", "1:10: parse error: expected type scalar in aggregation parameter, got instant vector"},
    {"count_values(1, foo)", "1:14: parse error: expected type string in aggregation parameter, got scalar"},
    {"sum(\"a\")", "1:5: parse error: expected type instant vector in aggregation expression, got string"},
    {"1 + bool 2", "1:3: parse error: bool modifier can only be used on comparison operators"},
    {"foo and bool bar", "1:5: parse error: bool modifier can only be used on comparison operators"},
    {"1 == 1", "1:3: parse error: comparisons between scalars must use BOOL modifier"},
    {"1 < 2", "1:3: parse error: comparisons between scalars must use BOOL modifier"},
    {"foo * on(a) group_left(a) bar", "1:5: parse error: label \"a\" must not occur in ON and GROUP clause at once"},
    {"foo[5m] + 1", "1:1: parse error: binary expression must contain only scalar and instant vector types"},
    {"1 + foo[5m]", "1:5: parse error: binary expression must contain only scalar and instant vector types"},
    {"\"a\" + 1", "1:1: parse error: binary expression must contain only scalar and instant vector types"},
    {"foo[5m:] / bar", "1:1: parse error: binary expression must contain only scalar and instant vector types"},
    {"1 + on(a) foo", "1:1: parse error: vector matching only allowed between instant vectors"},
    {"1 and foo", "1:1: parse error: set operator \"and\" not allowed in binary scalar expression"},
    {"foo or 1", "1:1: parse error: set operator \"or\" not allowed in binary scalar expression"},
    {"foo and on(a) group_left bar", "1:1: parse error: no grouping allowed for \"and\" operation"},
    {"foo unless ignoring(a) group_right(b) bar", "1:1: parse error: no grouping allowed for \"unless\" operation"},
    {"rate()", "1:1: parse error: expected 1 argument(s) in call to \"rate\", got 0"},
    {"rate(foo[5m], 1)", "1:1: parse error: expected 1 argument(s) in call to \"rate\", got 2"},
    {"round()", "1:1: parse error: expected at least 1 argument(s) in call to \"round\", got 0"},
    {"round(foo, 1, 2)", "1:1: parse error: expected at most 2 argument(s) in call to \"round\", got 3"},
    {"label_join(foo)", "1:1: parse error: expected at least 3 argument(s) in call to \"label_join\", got 1"},
    {"day_of_week(foo, bar)", "1:1: parse error: expected at most 1 argument(s) in call to \"day_of_week\", got 2"},
    {"rate(foo)", "1:6: parse error: expected type range vector in call to function \"rate\", got instant vector"},
    {"rate(1)", "1:6: parse error: expected type range vector in call to function \"rate\", got scalar"},
    {"abs(foo[5m])", "1:5: parse error: expected type instant vector in call to function \"abs\", got range vector"},
    {"abs(\"a\")", "1:5: parse error: expected type instant vector in call to function \"abs\", got string"},
    {"label_replace(foo, 1, \"a\", \"b\", \"c\")", "1:20: parse error: expected type string in call to function \"label_replace\", got scalar"},
    {"clamp(foo, foo, 1)", "1:12: parse error: expected type scalar in call to function \"clamp\", got instant vector"},
    {"vector(foo)", "1:8: parse error: expected type scalar in call to function \"vector\", got instant vector"},
    {"scalar(1)", "1:8: parse error: expected type instant vector in call to function \"scalar\", got scalar"},
    {"histogram_quantile(foo, foo)", "1:20: parse error: expected type scalar in call to function \"histogram_quantile\", got instant vector"},
    {"foo{__name__=\"bar\"}", "1:1: parse error: metric name must not be set twice: \"foo\" or \"bar\""},
    {"foo{__name__=~\"bar\"}", "1:1: parse error: metric name must not be set twice: \"foo\" or \"bar\""},
    {"{}", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {"{a=\"\"}", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {"{a=~\".*\"}", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {"{a!~\".+\"}", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {"{__name__!=\"x\"}", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {"foo\n+\nbar bar", "3:5: parse error: unexpected identifier \"bar\""},
    {"foo\n  offset\n  xyz", "3:3: parse error: unexpected identifier \"xyz\" in offset, expected duration"},
    {"sum(\nfoo\n,\n)", "3:1: parse error: trailing commas not allowed in function call args"},
};

std::string ParseToString(std::string_view query) {
  std::string error;
  ExprPtr e = ParseExpr(query, &error);
  return e ? e->String() : error;
}

ExprPtr MustParse(std::string_view query) {
  std::string error;
  ExprPtr e = ParseExpr(query, &error);
  INFO(query, " -> ", error);
  REQUIRE(e != nullptr);
  return e;
}

// The tree with every operator application parenthesized, to check precedence and
// associativity: (a + (b * c)), (-x), p(...) for written parentheses, sq(...) for subqueries.
std::string Tree(const Expr& e) {
  switch (e.kind()) {
    case ExprKind::kBinary: {
      const auto& b = *e.As<BinaryExpr>();
      return "(" + Tree(*b.lhs) + " " + std::string(ItemTypeText(b.op)) + " " + Tree(*b.rhs) + ")";
    }
    case ExprKind::kUnary: {
      const auto& u = *e.As<UnaryExpr>();
      return "(" + std::string(ItemTypeText(u.op)) + Tree(*u.expr) + ")";
    }
    case ExprKind::kParen: return "p(" + Tree(*e.As<ParenExpr>()->expr) + ")";
    case ExprKind::kSubquery: return "sq(" + Tree(*e.As<SubqueryExpr>()->expr) + ")";
    case ExprKind::kCall: {
      const auto& c = *e.As<Call>();
      std::string out = std::string(c.func->name) + "(";
      for (size_t i = 0; i < c.args.size(); ++i) out += (i ? ", " : "") + Tree(*c.args[i]);
      return out + ")";
    }
    case ExprKind::kAggregate: {
      const auto& a = *e.As<AggregateExpr>();
      std::string out = std::string(ItemTypeText(a.op)) + "(";
      if (a.param) out += Tree(*a.param) + ", ";
      return out + Tree(*a.expr) + ")";
    }
    default: return e.String();
  }
}

std::vector<std::string> MatcherStrings(const Matchers& ms) {
  std::vector<std::string> out;
  for (const MatcherPtr& m : ms) out.push_back(m->ToString());
  return out;
}

TEST_CASE("promql parser: valid queries print as Prometheus prints them, and reparse to the same text") {
  for (const Case& c : kValidCases) {
    INFO("query: ", c.query);
    CHECK(ParseToString(c.query) == c.want);
    CHECK(ParseToString(c.want) == c.want);
  }
}

TEST_CASE("promql parser: invalid queries fail with Prometheus's error text") {
  for (const Case& c : kErrorCases) {
    INFO("query: ", c.query);
    std::string error;
    CHECK(ParseExpr(c.query, &error) == nullptr);
    CHECK(error == c.want);
  }
}

TEST_CASE("promql parser: operator precedence and associativity") {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"a + b * c", "(a + (b * c))"},
      {"a * b + c", "((a * b) + c)"},
      {"a - b - c", "((a - b) - c)"},
      {"a / b * c % d", "(((a / b) * c) % d)"},
      {"a ^ b ^ c", "(a ^ (b ^ c))"},
      {"a * b ^ c", "(a * (b ^ c))"},
      {"a atan2 b * c", "((a atan2 b) * c)"},
      {"a + b atan2 c", "(a + (b atan2 c))"},
      {"a == b + c", "(a == (b + c))"},
      {"a > b == c", "((a > b) == c)"},
      {"a and b or c", "((a and b) or c)"},
      {"a or b and c", "(a or (b and c))"},
      {"a unless b and c", "((a unless b) and c)"},
      {"a or b unless c > d + e * f ^ g",
       "(a or (b unless (c > (d + (e * (f ^ g))))))"},
      {"-a * b", "((-a) * b)"},
      {"-a ^ b", "(-(a ^ b))"},
      {"a ^ -b ^ c", "(a ^ (-(b ^ c)))"},
      {"a ^ -b * c", "((a ^ (-b)) * c)"},
      {"a + -b * c", "(a + ((-b) * c))"},
      {"-a + b", "((-a) + b)"},
      {"- -a", "(-(-a))"},
      {"-1 ^ 2", "(-(1 ^ 2))"},
      {"-(1)", "(-p(1))"},
      {"(a + b) * c", "(p((a + b)) * c)"},
      {"a + b offset 5m", "(a + b offset 5m)"},
      {"-a offset 5m", "(-a offset 5m)"},
      {"a + b @ 5", "(a + b @ 5.000)"},
      {"-a @ 1 offset 5m ^ 2", "(-(a @ 1.000 offset 5m ^ 2))"},
      {"max_over_time(a[5m:1m]) * 2", "(max_over_time(sq(a)) * 2)"},
      {"a + on(x) group_left b * c", "(a + (b * c))"},
      {"sum(a) by (x) + b", "(sum(a) + b)"},
      {"rate(a[5m]) / on() count(b)", "(rate(a[5m]) / count(b))"},
      {"topk(1 + 2, a)", "topk((1 + 2), a)"},
  };
  for (const auto& [query, want] : cases) {
    INFO("query: ", query);
    CHECK(Tree(*MustParse(query)) == want);
  }
}

TEST_CASE("promql parser: vector selectors keep matchers, name, offset and @ as Prometheus does") {
  ExprPtr e = MustParse(R"(foo{a="b", c=~"d.*"} offset -5m @ 12.3456)");
  const auto* vs = e->As<VectorSelector>();
  REQUIRE(vs != nullptr);
  CHECK(vs->name == "foo");
  // Matchers in braces first, then the one made from the name.
  CHECK(MatcherStrings(vs->matchers) ==
        std::vector<std::string>{R"(a="b")", R"(c=~"d.*")", R"(__name__="foo")"});
  CHECK(vs->original_offset_ms == -300000);
  REQUIRE(vs->timestamp_ms.has_value());
  CHECK(*vs->timestamp_ms == 12346);  // seconds rounded to milliseconds
  CHECK(vs->start_or_end == AtPreprocessor::kNone);
  CHECK(vs->Type() == ValueType::kVector);
  CHECK(vs->Range().start == 0);

  ExprPtr end = MustParse("{job=\"x\"} @ end()");
  CHECK(end->As<VectorSelector>()->name.empty());
  CHECK(MatcherStrings(end->As<VectorSelector>()->matchers) == std::vector<std::string>{R"(job="x")"});
  CHECK(end->As<VectorSelector>()->start_or_end == AtPreprocessor::kEnd);
  CHECK_FALSE(end->As<VectorSelector>()->timestamp_ms.has_value());
}

TEST_CASE("promql parser: range selectors and subqueries carry ranges, steps, offsets and @") {
  ExprPtr m = MustParse("foo[1h30m] offset 1d @ start()");
  const auto* ms = m->As<MatrixSelector>();
  REQUIRE(ms != nullptr);
  CHECK(ms->range_ms == 5400000);
  CHECK(ms->vector_selector->original_offset_ms == 86400000);
  CHECK(ms->vector_selector->start_or_end == AtPreprocessor::kStart);
  CHECK(ms->Type() == ValueType::kMatrix);

  ExprPtr s = MustParse("rate(foo[5m])[1h:30s] offset 10m @ 100");
  const auto* sq = s->As<SubqueryExpr>();
  REQUIRE(sq != nullptr);
  CHECK(sq->range_ms == 3600000);
  CHECK(sq->step_ms == 30000);
  CHECK(sq->original_offset_ms == 600000);
  CHECK(sq->timestamp_ms == 100000);
  CHECK(sq->expr->As<Call>() != nullptr);
  CHECK(MustParse("foo[5m:]")->As<SubqueryExpr>()->step_ms == 0);
}

TEST_CASE("promql parser: binary expressions record vector matching as the type checker settles it") {
  ExprPtr e = MustParse("foo * on(a, b) group_left(c) bar");
  const auto* b = e->As<BinaryExpr>();
  REQUIRE(b->matching.has_value());
  CHECK(b->op == ItemType::kMul);
  CHECK(b->matching->card == VectorMatchCardinality::kManyToOne);
  CHECK(b->matching->on);
  CHECK(b->matching->matching_labels == std::vector<std::string>{"a", "b"});
  CHECK(b->matching->include == std::vector<std::string>{"c"});

  ExprPtr r = MustParse("foo - ignoring(x) group_right bar");
  CHECK(r->As<BinaryExpr>()->matching->card == VectorMatchCardinality::kOneToMany);
  CHECK_FALSE(r->As<BinaryExpr>()->matching->on);
  CHECK(r->As<BinaryExpr>()->matching->include.empty());

  // Set operators always match many-to-many.
  ExprPtr set = MustParse("foo and bar");
  CHECK(set->As<BinaryExpr>()->matching->card == VectorMatchCardinality::kManyToMany);
  // With a scalar side there is no matching at all.
  ExprPtr scalar = MustParse("foo > bool 1");
  CHECK_FALSE(scalar->As<BinaryExpr>()->matching.has_value());
  CHECK(scalar->As<BinaryExpr>()->return_bool);
  CHECK(scalar->Type() == ValueType::kVector);
  CHECK(MustParse("1 + 2")->Type() == ValueType::kScalar);
}

TEST_CASE("promql parser: aggregations, calls and literals") {
  ExprPtr a = MustParse("topk without (instance) (5, rate(foo[5m]))");
  const auto* agg = a->As<AggregateExpr>();
  REQUIRE(agg != nullptr);
  CHECK(agg->op == ItemType::kTopk);
  CHECK(agg->without);
  CHECK(agg->grouping == std::vector<std::string>{"instance"});
  CHECK(agg->param->As<NumberLiteral>()->val == 5);
  CHECK(agg->expr->As<Call>()->func->name == "rate");

  ExprPtr c = MustParse(R"(label_join(foo, "dst", "-", "a", "b"))");
  const auto* call = c->As<Call>();
  CHECK(call->args.size() == 5);
  CHECK(call->args[2]->As<StringLiteral>()->val == "-");
  CHECK(call->Type() == ValueType::kVector);
  CHECK(MustParse("time()")->Type() == ValueType::kScalar);

  CHECK(MustParse("0x1F")->As<NumberLiteral>()->val == 31);
  CHECK(MustParse("010")->As<NumberLiteral>()->val == 8);  // Go's octal
  CHECK(MustParse("-1.5e3")->As<NumberLiteral>()->val == -1500);
  CHECK(std::isinf(MustParse("-Inf")->As<NumberLiteral>()->val));
  CHECK(std::isnan(MustParse("nan")->As<NumberLiteral>()->val));
  CHECK(std::signbit(MustParse("-0")->As<NumberLiteral>()->val));
  CHECK(MustParse(R"("a\tb\x41\101\u00e9")")->As<StringLiteral>()->val == "a\tbAA\xc3\xa9");
  CHECK(MustParse(R"(`a\tb`)")->As<StringLiteral>()->val == "a\\tb");
  CHECK(MustParse("'it\\'s'")->As<StringLiteral>()->val == "it's");
}

TEST_CASE("promql parser: error positions count lines and byte columns") {
  CHECK(ParseToString("foo +\n\tbar baz") == R"(2:6: parse error: unexpected identifier "baz")");
  CHECK(ParseToString("\"é\" +") == "1:7: parse error: unexpected end of input");
}

TEST_CASE("promql parser: absurdly deep nesting is refused instead of exhausting the stack") {
  std::string deep = std::string(255, '(') + "foo" + std::string(255, ')');
  CHECK(ParseToString(deep) == deep);
  std::string too_deep = std::string(257, '(') + "foo" + std::string(257, ')');
  CHECK(ParseToString(too_deep) ==
        "1:257: parse error: expression nesting exceeds the maximum depth of 256");
  std::string chain = "1";
  for (int i = 0; i < 5000; ++i) chain += "+1";
  CHECK(ParseToString(chain).find("maximum depth of 256") != std::string::npos);
}

TEST_CASE("promql parser: ParseMetricSelector behaves as Prometheus's") {
  Matchers m;
  std::string error;
  REQUIRE(ParseMetricSelector("up", &m, &error));
  CHECK(MatcherStrings(m) == std::vector<std::string>{R"(__name__="up")"});
  REQUIRE(ParseMetricSelector(R"({__name__="x"})", &m, &error));
  CHECK(MatcherStrings(m) == std::vector<std::string>{R"(__name__="x")"});
  REQUIRE(ParseMetricSelector(R"(http_requests_total{code=~"5..", job!="a",})", &m, &error));
  CHECK(MatcherStrings(m) == std::vector<std::string>{R"(code=~"5..")", R"(job!="a")",
                                                      R"(__name__="http_requests_total")"});
  REQUIRE(ParseMetricSelector("sum", &m, &error));  // keywords may name metrics
  CHECK(MatcherStrings(m) == std::vector<std::string>{R"(__name__="sum")"});
  // Like Prometheus's parser function, it does not judge emptiness (its API does, below).
  REQUIRE(ParseMetricSelector("{}", &m, &error));
  CHECK(m.empty());

  const Case errors[] = {
      {"foo bar", R"(1:5: parse error: unexpected identifier "bar")"},
      {"rate(foo[5m])", R"(1:5: parse error: unexpected "(")"},
      {R"(foo{a="b"}[5m])", R"(1:11: parse error: unexpected "[")"},
      {"foo offset 5m", "1:5: parse error: unexpected <offset>"},
      {"1", R"(1:1: parse error: unexpected number "1")"},
      {"-foo", "1:1: parse error: unexpected <op:->"},
      {"", "1:1: parse error: unexpected end of input"},
      {"foo{a=", "1:7: parse error: unexpected end of input inside braces"},
      {"foo{a}", R"(1:6: parse error: unexpected "}" in label matching, expected label matching operator)"},
      {R"(foo{a=~"("})", "1:5: parse error: error parsing regexp: missing closing ): `^(?:()$`"},
  };
  for (const Case& c : errors) {
    INFO("selector: ", c.query);
    CHECK_FALSE(ParseMetricSelector(c.query, &m, &error));
    CHECK(error == c.want);
  }
}

TEST_CASE("promql parser: ParseMatchersParam refuses selectors matching every series, as the HTTP API does") {
  std::vector<Matchers> sets;
  std::string error;
  REQUIRE(ParseMatchersParam({"up", R"({job=~".+"})", R"({a="", b="c"})"}, &sets, &error));
  CHECK(sets.size() == 3);
  for (const char* all : {"{}", R"({a=""})", R"({a=~".*"})", R"({a!~".+"})", R"({__name__!="x"})"}) {
    INFO("selector: ", all);
    CHECK_FALSE(ParseMatchersParam({"up", all}, &sets, &error));
    CHECK(error == "match[] must contain at least one non-empty matcher");
  }
  CHECK_FALSE(ParseMatchersParam({"up", "foo bar"}, &sets, &error));
  CHECK(error == R"(1:5: parse error: unexpected identifier "bar")");
}

TEST_CASE("promql parser: the function table has Prometheus 2.42's functions and signatures") {
  CHECK(AllFunctions().size() == 70);
  const Function* rate = FindFunction("rate");
  REQUIRE(rate != nullptr);
  CHECK(rate->arg_types == std::vector<ValueType>{ValueType::kMatrix});
  CHECK(rate->return_type == ValueType::kVector);
  const Function* join = FindFunction("label_join");
  REQUIRE(join != nullptr);
  CHECK(join->variadic == -1);
  CHECK(FindFunction("round")->variadic == 1);
  CHECK(FindFunction("pi")->return_type == ValueType::kScalar);
  CHECK(FindFunction("histogram_quantile")->arg_types ==
        std::vector<ValueType>{ValueType::kScalar, ValueType::kVector});
  CHECK(FindFunction("sort_by_label") == nullptr);  // added after 2.42
  CHECK(FindFunction("nofunc") == nullptr);
}

}  // namespace
}  // namespace crmscope::promql
