// PromQL functions of instant vectors and scalars against values computed by hand; every
// expected value and error here was also what Prometheus 2.42 (promtool test rules) answered.
#include <doctest/doctest.h>

#include <cmath>
#include <initializer_list>
#include <numbers>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collector/promql/function_call.h"
#include "collector/promql/functions.h"
#include "collector/promql/parser.h"

namespace crmscope::promql {
namespace {

constexpr TimestampMs kTs = 1'678'887'930'000;  // 2023-03-15T13:45:30Z, a Wednesday

Labels L(std::initializer_list<std::pair<std::string, std::string>> pairs) {
  Labels out;
  for (const auto& [n, v] : pairs) out.push_back({n, v});
  SortLabels(out);
  return out;
}

// One call of a function at kTs as the evaluator makes it, arguments given in order.
class InstantCall {
 public:
  explicit InstantCall(std::string_view query, TimestampMs ts = kTs) {
    std::string error;
    expr_ = ParseExpr(query, &error);
    REQUIRE_MESSAGE(expr_ != nullptr, error);
    ctx_.call = expr_->As<Call>();
    REQUIRE(ctx_.call != nullptr);
    ctx_.ts_ms = ts;
  }
  InstantCall& Vec(Vector v) {
    ctx_.args.emplace_back(std::move(v));
    return *this;
  }
  InstantCall& Num(double v) {
    ctx_.args.emplace_back(Scalar{ctx_.ts_ms, v});
    return *this;
  }
  InstantCall& Str(std::string s) {
    ctx_.args.emplace_back(String{ctx_.ts_ms, std::move(s)});
    return *this;
  }
  Value Run() {
    std::string error;
    Value v = CallFunction(ctx_, &error);
    REQUIRE_MESSAGE(error.empty(), error);
    return v;
  }
  Vector RunVector() {
    Value v = Run();
    REQUIRE(std::holds_alternative<Vector>(v));
    return std::get<Vector>(v);
  }
  double RunScalar() {
    Value v = Run();
    REQUIRE(std::holds_alternative<Scalar>(v));
    CHECK(std::get<Scalar>(v).t == ctx_.ts_ms);
    return std::get<Scalar>(v).v;
  }
  // The value of a one-sample result.
  double One() {
    Vector v = RunVector();
    REQUIRE(v.size() == 1);
    return v[0].v;
  }
  std::string Error() {
    std::string error;
    CallFunction(ctx_, &error);
    return error;
  }

 private:
  ExprPtr expr_;
  FunctionCallContext ctx_;
};

Vector Single(double v, Labels labels = L({{"__name__", "x"}, {"job", "a"}})) {
  return Vector{{std::move(labels), kTs, v}};
}

double Apply(std::string_view fn, double v) {
  return InstantCall(std::string(fn) + "(x)").Vec(Single(v)).One();
}

TEST_CASE("elementwise math drops the metric name") {
  Vector v = InstantCall("abs(x)").Vec(Single(-2.5)).RunVector();
  REQUIRE(v.size() == 1);
  CHECK(v[0].v == 2.5);
  CHECK(v[0].metric == L({{"job", "a"}}));
  CHECK(v[0].t == kTs);
  CHECK(Apply("ceil", 1.2) == 2);
  CHECK(Apply("floor", -1.2) == -2);
  CHECK(Apply("exp", 1) == doctest::Approx(std::numbers::e));
  CHECK(Apply("sqrt", 16) == 4);
  CHECK(std::isnan(Apply("sqrt", -1)));
  CHECK(Apply("ln", std::numbers::e) == doctest::Approx(1));
  CHECK(Apply("log2", 8) == 3);
  CHECK(Apply("log10", 1000) == 3);
  CHECK(Apply("ln", 0) == -INFINITY);
}

TEST_CASE("trigonometric functions, deg, rad and pi") {
  CHECK(Apply("sin", 0) == 0);
  CHECK(Apply("cos", 0) == 1);
  CHECK(Apply("tan", std::numbers::pi / 4) == doctest::Approx(1));
  CHECK(Apply("asin", 1) == doctest::Approx(std::numbers::pi / 2));
  CHECK(Apply("acos", 1) == 0);
  CHECK(Apply("atan", 1) == doctest::Approx(std::numbers::pi / 4));
  CHECK(Apply("sinh", 0) == 0);
  CHECK(Apply("cosh", 0) == 1);
  CHECK(Apply("tanh", 0) == 0);
  CHECK(Apply("asinh", 0) == 0);
  CHECK(Apply("acosh", 1) == 0);
  CHECK(Apply("atanh", 0) == 0);
  CHECK(std::isnan(Apply("acosh", 0)));
  CHECK(Apply("atanh", 1) == INFINITY);
  CHECK(Apply("deg", std::numbers::pi) == 180);
  CHECK(Apply("rad", 180) == std::numbers::pi);
  CHECK(InstantCall("pi()").RunScalar() == std::numbers::pi);
}

TEST_CASE("sgn keeps zeros and NaN") {
  CHECK(Apply("sgn", -3) == -1);
  CHECK(Apply("sgn", 0.1) == 1);
  CHECK(Apply("sgn", 0) == 0);
  CHECK(std::signbit(Apply("sgn", -0.0)));
  CHECK(std::isnan(Apply("sgn", NAN)));
}

TEST_CASE("clamp, clamp_min, clamp_max") {
  auto clamp = [](double v, double min, double max) {
    return InstantCall("clamp(x, 0, 1)").Vec(Single(v)).Num(min).Num(max).RunVector();
  };
  CHECK(clamp(5, 0, 1)[0].v == 1);
  CHECK(clamp(-5, 0, 1)[0].v == 0);
  CHECK(clamp(0.5, 0, 1)[0].v == 0.5);
  CHECK(clamp(0.5, 0, 1)[0].metric == L({{"job", "a"}}));
  CHECK(clamp(0.5, 1, 0).empty());  // max < min: nothing, as Prometheus
  CHECK(clamp(0.5, 2, 2)[0].v == 2);
  CHECK(std::isnan(clamp(0.5, NAN, 1)[0].v));  // Go's math.Max propagates NaN
  CHECK(InstantCall("clamp_max(x, 2)").Vec(Single(5)).Num(2).One() == 2);
  CHECK(InstantCall("clamp_min(x, 2)").Vec(Single(-5)).Num(2).One() == 2);
  CHECK(InstantCall("clamp_min(x, 2)").Vec(Single(INFINITY)).Num(NAN).One() == INFINITY);
}

TEST_CASE("round rounds ties up, to the nearest multiple when given one") {
  CHECK(Apply("round", 2.5) == 3);
  CHECK(Apply("round", -2.5) == -2);
  CHECK(Apply("round", 2.4) == 2);
  CHECK(InstantCall("round(x, 0.1)").Vec(Single(12.34)).Num(0.1).One() == 12.3);
  CHECK(InstantCall("round(x, 10)").Vec(Single(5)).Num(10).One() == 10);
  CHECK(InstantCall("round(x, 10)").Vec(Single(4.9)).Num(10).One() == 0);
}

TEST_CASE("timestamp reads each sample's own time") {
  Vector in{{L({{"__name__", "x"}}), 1'000'500, 7}};
  Vector v = InstantCall("timestamp(x)").Vec(in).RunVector();
  REQUIRE(v.size() == 1);
  CHECK(v[0].v == 1000.5);
  CHECK(v[0].metric.empty());
}

TEST_CASE("date functions of a sample's value, in UTC") {
  auto date = [](std::string_view fn, double v) {
    return InstantCall(std::string(fn) + "(x)").Vec(Single(v)).One();
  };
  double t = 1678887930;  // 2023-03-15T13:45:30Z
  CHECK(date("year", t) == 2023);
  CHECK(date("month", t) == 3);
  CHECK(date("day_of_month", t) == 15);
  CHECK(date("day_of_year", t) == 74);
  CHECK(date("day_of_week", t) == 3);
  CHECK(date("hour", t) == 13);
  CHECK(date("minute", t) == 45);
  CHECK(date("days_in_month", t) == 31);
  CHECK(date("days_in_month", 1709251199) == 29);  // 2024-02-29T23:59:59Z
  CHECK(date("days_in_month", 4107456000) == 28);  // 2100-02-28: not a leap year
  CHECK(date("day_of_year", 4107542400) == 60);    // 2100-03-01
  CHECK(date("hour", -1) == 23);                   // 1969-12-31T23:59:59Z
  CHECK(date("hour", 59.9) == 0);                  // truncated to whole seconds
  Vector v = InstantCall("hour(x)").Vec(Single(t)).RunVector();
  CHECK(v[0].metric == L({{"job", "a"}}));
}

TEST_CASE("date functions of NaN give what Go's calendar gives for the minimum int64") {
  auto date = [](std::string_view fn) {
    return InstantCall(std::string(fn) + "(x)").Vec(Single(NAN)).One();
  };
  CHECK(date("year") == 292277026596.0);
  CHECK(date("month") == 12);
  CHECK(date("day_of_month") == 4);
  CHECK(date("day_of_year") == 339);
  CHECK(date("day_of_week") == 0);
  CHECK(date("hour") == 15);
  CHECK(date("minute") == 30);
}

TEST_CASE("date functions without an argument read the evaluation time") {
  Vector v = InstantCall("minute()").RunVector();
  REQUIRE(v.size() == 1);
  CHECK(v[0].v == 45);
  CHECK(v[0].metric.empty());
  CHECK(InstantCall("year()", 0).One() == 1970);
  CHECK(InstantCall("year()", -1).One() == 1970);  // -1 ms truncates to second 0, as in Go
}

TEST_CASE("scalar, vector and time") {
  CHECK(InstantCall("scalar(x)").Vec(Single(4)).RunScalar() == 4);
  Vector two = Single(1);
  two.push_back({L({{"job", "b"}}), kTs, 2});
  CHECK(std::isnan(InstantCall("scalar(x)").Vec(two).RunScalar()));
  CHECK(std::isnan(InstantCall("scalar(x)").Vec({}).RunScalar()));
  Vector v = InstantCall("vector(1.23)").Num(1.23).RunVector();
  REQUIRE(v.size() == 1);
  CHECK(v[0].v == 1.23);
  CHECK(v[0].metric.empty());
  CHECK(InstantCall("time()").RunScalar() == 1678887930);
}

TEST_CASE("sort and sort_desc keep labels and put NaNs last") {
  Vector in{{L({{"__name__", "x"}, {"i", "0"}}), kTs, 3},
            {L({{"__name__", "x"}, {"i", "1"}}), kTs, NAN},
            {L({{"__name__", "x"}, {"i", "2"}}), kTs, 1},
            {L({{"__name__", "x"}, {"i", "3"}}), kTs, NAN},
            {L({{"__name__", "x"}, {"i", "4"}}), kTs, 2}};
  auto order = [](const Vector& v) {
    std::string s;
    for (const VectorElement& e : v) s += std::string(GetLabel(e.metric, "i"));
    return s;
  };
  Vector asc = InstantCall("sort(x)").Vec(in).RunVector();
  CHECK(order(asc) == "24031");  // Go's insertion sort leaves NaNs last, reversed
  CHECK(MetricName(asc[0].metric) == "x");
  CHECK(order(InstantCall("sort_desc(x)").Vec(in).RunVector()) == "04231");
}

Vector LabelReplace(const Vector& in, std::string dst, std::string repl, std::string src,
                    std::string re) {
  return InstantCall("label_replace(x, \"d\", \"r\", \"s\", \"re\")")
      .Vec(in)
      .Str(std::move(dst))
      .Str(std::move(repl))
      .Str(std::move(src))
      .Str(std::move(re))
      .RunVector();
}

const Vector kService = Single(1, L({{"__name__", "x"}, {"job", "api"}, {"service", "a:c"}}));

TEST_CASE("label_replace expands groups of a fully anchored match, keeping __name__") {
  Vector v = LabelReplace(kService, "foo", "$1", "service", "(.*):.*");
  REQUIRE(v.size() == 1);
  CHECK(v[0].metric == L({{"__name__", "x"}, {"foo", "a"}, {"job", "api"}, {"service", "a:c"}}));
  CHECK(v[0].v == 1);
  // Anchored: "a" alone does not match "a:c", so nothing changes.
  CHECK(LabelReplace(kService, "foo", "bar", "service", "a")[0].metric == kService[0].metric);
  auto foo = [](std::string repl, std::string re) {
    return std::string(GetLabel(LabelReplace(kService, "foo", repl, "service", re)[0].metric, "foo"));
  };
  CHECK(foo("$1x", "(.*):(.*)") == "");  // Go reads "$1x" as the group named "1x"
  CHECK(foo("${1}x$$$2$", "(.*):(.*)") == "ax$c$");
  CHECK(foo("$name-${rest}", "(?P<name>.*):(?P<rest>.*)") == "a-c");
  CHECK(foo("[$3]", "(.*):(.*)") == "[]");
  CHECK(foo("$0", "a:(c|d)") == "a:c");
}

TEST_CASE("label_replace with an empty result removes the label") {
  Vector v = LabelReplace(kService, "job", "", "service", ".*");
  CHECK(v[0].metric == L({{"__name__", "x"}, {"service", "a:c"}}));
  // A missing source label reads as "", which "" matches.
  v = LabelReplace(kService, "service", "", "", "");
  CHECK(v[0].metric == L({{"__name__", "x"}, {"job", "api"}}));
}

TEST_CASE("label_replace errors as Prometheus words them") {
  auto error = [](const Vector& in, std::string dst, std::string re) {
    return InstantCall("label_replace(x, \"d\", \"r\", \"s\", \"re\")")
        .Vec(in)
        .Str(std::move(dst))
        .Str("$1")
        .Str("service")
        .Str(std::move(re))
        .Error();
  };
  CHECK(error(kService, "foo", "(.*") == "invalid regular expression in label_replace(): (.*");
  // Checked even when there is nothing to relabel.
  CHECK(error({}, "foo", "(.*") == "invalid regular expression in label_replace(): (.*");
  CHECK(error(kService, "~invalid", "(.*)") ==
        "invalid destination label name in label_replace(): ~invalid");
  Vector two = Single(1, L({{"job", "a"}, {"service", "1"}}));
  two.push_back({L({{"job", "a"}, {"service", "2"}}), kTs, 2});
  CHECK(InstantCall("label_replace(x, \"d\", \"r\", \"s\", \"re\")")
            .Vec(two)
            .Str("service")
            .Str("z")
            .Str("job")
            .Str(".*")
            .Error() == "vector cannot contain metrics with the same labelset");
}

TEST_CASE("label_join joins source values, empty ones included") {
  auto join = [](std::string dst, std::vector<std::string> sources) {
    InstantCall call("label_join(x, \"d\", \"-\", \"a\")");
    call.Vec(kService).Str(std::move(dst)).Str("-");
    for (std::string& s : sources) call.Str(std::move(s));
    Vector v = call.RunVector();
    REQUIRE(v.size() == 1);
    return v[0].metric;
  };
  CHECK(join("c", {"job", "service", "zz"}) ==
        L({{"__name__", "x"}, {"c", "api-a:c-"}, {"job", "api"}, {"service", "a:c"}}));
  CHECK(join("job", {"job", "service"}) ==
        L({{"__name__", "x"}, {"job", "api-a:c"}, {"service", "a:c"}}));
  CHECK(join("job", {}) == L({{"__name__", "x"}, {"service", "a:c"}}));
  std::string err = InstantCall("label_join(x, \"d\", \"-\", \"a\")")
                        .Vec(kService).Str("new").Str("-").Str("1b").Error();
  CHECK(err == "invalid source label name in label_join(): 1b");
  err = InstantCall("label_join(x, \"d\", \"-\", \"a\")")
            .Vec(kService).Str("~invalid").Str("-").Str("job").Error();
  CHECK(err == "invalid destination label name in label_join(): ~invalid");
}

TEST_CASE("absent takes its labels from the selector's equality matchers") {
  CHECK(InstantCall("absent(x{job=\"a\"})").Vec(Single(1)).RunVector().empty());
  auto labels = [](std::string_view query) {
    Vector v = InstantCall(query).Vec({}).RunVector();
    REQUIRE(v.size() == 1);
    CHECK(v[0].v == 1);
    return v[0].metric;
  };
  CHECK(labels("absent(nonexistent{job=\"a\", instance=~\"x\", foo=\"bar\", foo=\"baz\"})") ==
        L({{"job", "a"}}));
  CHECK(labels("absent((y{a=\"b\"}))") == L({{"a", "b"}}));
  CHECK(labels("absent(y{a=~\"x\", a=\"b\"})") == L({{"a", "b"}}));
  CHECK(labels("absent(y{a=\"\"})").empty());
  CHECK(labels("absent(sum(y{a=\"b\"}))").empty());
  CHECK(labels("absent(nonexistent)").empty());
}

Vector Buckets(std::initializer_list<std::pair<std::string, double>> buckets,
               std::string instance = "i0") {
  Vector v;
  for (const auto& [le, count] : buckets) {
    v.push_back({L({{"__name__", "h_bucket"}, {"instance", instance}, {"le", le}}), kTs, count});
  }
  return v;
}

double HistogramQuantile(double q, const Vector& buckets) {
  Vector v = InstantCall("histogram_quantile(0.5, h_bucket)").Num(q).Vec(buckets).RunVector();
  REQUIRE(v.size() == 1);
  CHECK(v[0].metric == L({{"instance", "i0"}}));
  return v[0].v;
}

TEST_CASE("histogram_quantile interpolates within the bucket holding the rank") {
  Vector h = Buckets({{"0.1", 10}, {"0.5", 30}, {"1", 40}, {"+Inf", 50}});
  CHECK(HistogramQuantile(0.5, h) == doctest::Approx(0.4));    // rank 25: 0.1 + 0.4 * 15/20
  CHECK(HistogramQuantile(0.05, h) == doctest::Approx(0.025));  // lowest bucket from 0
  CHECK(HistogramQuantile(0.95, h) == 1);  // in +Inf: the highest finite bound
  CHECK(HistogramQuantile(-1, h) == -INFINITY);
  CHECK(HistogramQuantile(1.5, h) == INFINITY);
  CHECK(std::isnan(HistogramQuantile(NAN, h)));
}

TEST_CASE("histogram_quantile without a +Inf bucket, or without observations, is NaN") {
  CHECK(std::isnan(HistogramQuantile(0.5, Buckets({{"0.1", 10}, {"1", 40}}))));
  CHECK(std::isnan(HistogramQuantile(0.5, Buckets({{"-1", 0}, {"+Inf", 0}}))));
  CHECK(std::isnan(HistogramQuantile(0.5, Buckets({{"+Inf", 7}}))));
}

TEST_CASE("histogram_quantile raises non-monotonic bucket counts") {
  // The 0.5 bucket's 8 becomes 10; rank 25 falls in (0.5, 1]: 0.5 + 0.5 * 15/30.
  Vector h = Buckets({{"0.1", 10}, {"0.5", 8}, {"1", 40}, {"+Inf", 50}});
  CHECK(HistogramQuantile(0.5, h) == 0.75);
}

TEST_CASE("histogram_quantile: bounds at or below zero, duplicate and malformed le") {
  // Rank 2 in the lowest bucket, whose bound is not above 0: the bound itself.
  CHECK(HistogramQuantile(0.1, Buckets({{"-1", 5}, {"0", 10}, {"1", 20}, {"+Inf", 20}})) == -1);
  // le="1" and le="1.0" are one bucket (counts summed); le="abc" is ignored; "+inf" parses.
  Vector h = Buckets({{"1", 10}, {"1.0", 10}, {"2", 30}, {"+inf", 40}, {"abc", 1000}});
  CHECK(HistogramQuantile(0.5, h) == 1);
  CHECK(HistogramQuantile(0.5, Buckets({{"0x1p-1", 10}, {"+Inf", 20}})) == 0.5);
}

TEST_CASE("histogram_quantile groups buckets by their other labels") {
  Vector h = Buckets({{"1", 10}, {"+Inf", 10}}, "i0");
  for (const VectorElement& e : Buckets({{"2", 10}, {"+Inf", 10}}, "i1")) h.push_back(e);
  h.push_back({L({{"__name__", "h_sum"}, {"instance", "i0"}}), kTs, 123});  // no le: skipped
  Vector v = InstantCall("histogram_quantile(0.5, h_bucket)").Num(0.5).Vec(h).RunVector();
  REQUIRE(v.size() == 2);
  for (const VectorElement& e : v) {
    CHECK(e.v == (GetLabel(e.metric, "instance") == "i0" ? 0.5 : 1.0));
    CHECK(e.metric.size() == 1);
  }
  // Two names with the same other labels stay apart, then collide without their names.
  Vector named = Buckets({{"1", 10}, {"+Inf", 20}});
  for (VectorElement e : Buckets({{"1", 10}, {"+Inf", 20}})) {
    e.metric[0].value = "g_bucket";
    named.push_back(e);
  }
  CHECK(InstantCall("histogram_quantile(0.5, h_bucket)").Num(0.5).Vec(named).Error() ==
        "vector cannot contain metrics with the same labelset");
}

TEST_CASE("the native-histogram functions skip float samples") {
  Vector h = Buckets({{"1", 10}, {"+Inf", 20}});
  CHECK(InstantCall("histogram_count(h_bucket)").Vec(h).RunVector().empty());
  CHECK(InstantCall("histogram_sum(h_bucket)").Vec(h).RunVector().empty());
  CHECK(InstantCall("histogram_fraction(0, 1, h_bucket)").Num(0).Num(1).Vec(h).RunVector().empty());
}

TEST_CASE("every function the parser knows has an implementation") {
  for (const Function& f : AllFunctions()) {
    Call call;
    call.func = &f;
    FunctionCallContext ctx;
    ctx.call = &call;
    ctx.ts_ms = kTs;
    std::string error;
    CallFunction(ctx, &error);
    CHECK_MESSAGE(error.find("unsupported") == std::string::npos, f.name);
  }
  Function unknown{"no_such_function", {}, 0, ValueType::kVector};
  Call call;
  call.func = &unknown;
  FunctionCallContext ctx;
  ctx.call = &call;
  std::string error;
  CallFunction(ctx, &error);
  CHECK(error == "unsupported function: no_such_function");
}

}  // namespace
}  // namespace crmscope::promql
