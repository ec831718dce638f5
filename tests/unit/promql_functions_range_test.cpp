// PromQL functions of range vectors against values computed by hand; every expected value here
// was also what Prometheus 2.42 (promtool test rules) answered for the same samples.
#include <doctest/doctest.h>

#include <cmath>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collector/promql/function_call.h"
#include "collector/promql/functions_series.h"
#include "collector/promql/parser.h"

namespace crmscope::promql {
namespace {

constexpr int64_t kMinute = 60'000;

Labels L(std::initializer_list<std::pair<std::string, std::string>> pairs) {
  Labels out;
  for (const auto& [n, v] : pairs) out.push_back({n, v});
  SortLabels(out);
  return out;
}

// Samples one minute apart from `first_minute`; NaN in `values` is a NaN sample.
std::vector<Sample> Minutely(int first_minute, std::initializer_list<double> values) {
  std::vector<Sample> out;
  int64_t t = first_minute * kMinute;
  for (double v : values) {
    out.push_back({t, v});
    t += kMinute;
  }
  return out;
}

// One call of a function as the evaluator makes it: `query` is parsed for its syntax tree, the
// range argument's samples are given already windowed to [ts - range, ts].
class RangeCall {
 public:
  RangeCall(std::string_view query, TimestampMs ts_ms, int64_t range_ms) {
    std::string error;
    expr_ = ParseExpr(query, &error);
    REQUIRE_MESSAGE(expr_ != nullptr, error);
    ctx_.call = expr_->As<Call>();
    REQUIRE(ctx_.call != nullptr);
    ctx_.ts_ms = ts_ms;
    ctx_.window_end_ms = ts_ms;
    ctx_.window_start_ms = ts_ms - range_ms;
    ctx_.range_ms = range_ms;
    ctx_.range_arg = &matrix_;
  }
  RangeCall& Series(Labels labels, std::vector<Sample> points) {
    matrix_.push_back({std::move(labels), std::move(points)});
    return *this;
  }
  RangeCall& Num(double v) {
    ctx_.args.emplace_back(Scalar{ctx_.ts_ms, v});
    return *this;
  }
  // The range argument's own slot in args stays empty (std::monostate).
  RangeCall& RangeSlot() {
    ctx_.args.emplace_back();
    return *this;
  }

  Vector Run() {
    std::string error;
    Value v = CallFunction(ctx_, &error);
    REQUIRE_MESSAGE(error.empty(), error);
    REQUIRE(std::holds_alternative<Vector>(v));
    return std::get<Vector>(v);
  }
  // The only value of the result, which must hold one sample.
  double One() {
    Vector v = Run();
    REQUIRE(v.size() == 1);
    CHECK(v[0].t == ctx_.ts_ms);
    return v[0].v;
  }
  std::string Error() {
    std::string error;
    CallFunction(ctx_, &error);
    return error;
  }

 private:
  ExprPtr expr_;
  Matrix matrix_;
  FunctionCallContext ctx_;
};

double Rate(std::string_view fn, int64_t ts, int64_t range, std::vector<Sample> points) {
  return RangeCall(std::string(fn) + "(x[" + std::to_string(range / 1000) + "s])", ts, range)
      .RangeSlot()
      .Series(L({{"__name__", "x"}}), std::move(points))
      .One();
}

TEST_CASE("rate extrapolates to the window's ends when the samples reach them") {
  // Window [30s, 330s], samples 60..300s: 30 s short at each end, below 1.1 intervals (66 s),
  // so the increase of 40 over 240 s is scaled to the full 300 s: 50, i.e. 1/6 per second.
  auto points = Minutely(1, {10, 20, 30, 40, 50});
  CHECK(Rate("rate", 330'000, 5 * kMinute, points) == doctest::Approx(50.0 / 300).epsilon(1e-15));
  CHECK(Rate("increase", 330'000, 5 * kMinute, points) == doctest::Approx(50.0).epsilon(1e-15));
}

TEST_CASE("rate of a series starting and ending inside the window (2.42's order of rules)") {
  // Window [0, 600s], samples at 240..480s rising 5 per minute from 5. The start is 240 s
  // away: the counter's zero point (60 s before the first sample) is taken first, and since
  // 60 s is below the 66 s threshold it is extrapolated over in full. The end is 120 s away,
  // above the threshold: half an interval (30 s). 20 * (240+60+30)/240 = 27.5.
  // (Prometheus 2.51+ tests the threshold first and would give 25.)
  auto points = Minutely(4, {5, 10, 15, 20, 25});
  CHECK(Rate("increase", 600'000, 10 * kMinute, points) == 27.5);
  CHECK(Rate("rate", 600'000, 10 * kMinute, points) == doctest::Approx(27.5 / 600));
}

TEST_CASE("rate and increase add the value before each counter reset") {
  // 10 20 5 15 25 at 60..300s in [0, 300s]: the drop 20 -> 5 is a reset, so the increase is
  // 25 - 10 + 20 = 35 over 240 s; the zero point lies 68.6 s back, beyond the first sample's
  // 60 s gap, which is extrapolated: 35 * 300/240 = 43.75.
  auto points = Minutely(1, {10, 20, 5, 15, 25});
  CHECK(Rate("increase", 300'000, 5 * kMinute, points) == 43.75);
  CHECK(Rate("rate", 300'000, 5 * kMinute, points) == doctest::Approx(43.75 / 300));
  CHECK(Rate("resets", 300'000, 5 * kMinute, points) == 1);
  CHECK(Rate("resets", 300'000, 5 * kMinute, Minutely(0, {3, 2, 1, 1})) == 2);
}

TEST_CASE("delta extrapolates like increase but knows no resets and no zero point") {
  auto points = Minutely(1, {50, 40, 45, 30, 20});
  CHECK(Rate("delta", 300'000, 5 * kMinute, points) == -37.5);
}

TEST_CASE("the rate family needs two samples") {
  CHECK(RangeCall("rate(x[5m])", 300'000, 5 * kMinute)
            .RangeSlot()
            .Series(L({{"__name__", "x"}}), Minutely(2, {7}))
            .Run()
            .empty());
  CHECK(RangeCall("irate(x[5m])", 300'000, 5 * kMinute)
            .RangeSlot()
            .Series(L({{"__name__", "x"}}), Minutely(2, {7}))
            .Run()
            .empty());
}

TEST_CASE("irate and idelta use the last two samples; irate sees a drop as a reset") {
  CHECK(Rate("irate", 300'000, 5 * kMinute, Minutely(1, {1, 10, 20})) == doctest::Approx(10.0 / 60));
  CHECK(Rate("irate", 300'000, 5 * kMinute, Minutely(1, {1, 20, 5})) == doctest::Approx(5.0 / 60));
  CHECK(Rate("idelta", 300'000, 5 * kMinute, Minutely(1, {1, 20, 5})) == -15);
}

TEST_CASE("range functions drop the metric name and keep the other labels") {
  Vector v = RangeCall("rate(x[5m])", 300'000, 5 * kMinute)
                 .RangeSlot()
                 .Series(L({{"__name__", "x"}, {"job", "a"}}), Minutely(1, {1, 2}))
                 .Series(L({{"__name__", "x"}, {"job", "b"}}), Minutely(1, {1, 3}))
                 .Run();
  REQUIRE(v.size() == 2);
  CHECK(v[0].metric == L({{"job", "a"}}));
  CHECK(v[1].metric == L({{"job", "b"}}));
}

TEST_CASE("series that differ only by name collide once the name is dropped") {
  std::string error = RangeCall("rate({__name__=~\"x|y\"}[5m])", 300'000, 5 * kMinute)
                          .RangeSlot()
                          .Series(L({{"__name__", "x"}}), Minutely(1, {1, 2}))
                          .Series(L({{"__name__", "y"}}), Minutely(1, {1, 2}))
                          .Error();
  CHECK(error == "vector cannot contain metrics with the same labelset");
}

TEST_CASE("deriv and predict_linear fit a least-squares line") {
  // (0,1) (60,2) (120,6): slope 300/7200 per second; at t=120 s the line is at 5.5.
  auto points = Minutely(0, {1, 2, 6});
  CHECK(Rate("deriv", 120'000, 2 * kMinute, points) == doctest::Approx(300.0 / 7200));
  double predicted = RangeCall("predict_linear(x[2m], 60)", 120'000, 2 * kMinute)
                         .RangeSlot()
                         .Num(60)
                         .Series(L({{"__name__", "x"}}), points)
                         .One();
  CHECK(predicted == doctest::Approx(8.0));
  CHECK(Rate("deriv", 120'000, 2 * kMinute, Minutely(0, {4, 4, 4})) == 0);
}

TEST_CASE("holt_winters smooths with both factors") {
  // s=1, b=1; then s=2; b=0.5*(2-1)+0.5*1=1, s=0.5*4+0.5*(2+1)=3.5; b=1.25, s=4+2.375=6.375.
  double v = RangeCall("holt_winters(x[5m], 0.5, 0.5)", 180'000, 5 * kMinute)
                 .RangeSlot()
                 .Num(0.5)
                 .Num(0.5)
                 .Series(L({{"__name__", "x"}}), Minutely(0, {1, 2, 4, 8}))
                 .One();
  CHECK(v == 6.375);
}

TEST_CASE("holt_winters refuses factors outside (0, 1) as Prometheus words it") {
  auto call = [](double sf, double tf) {
    return RangeCall("holt_winters(x[5m], 0.5, 0.5)", 180'000, 5 * kMinute)
        .RangeSlot()
        .Num(sf)
        .Num(tf)
        .Series(L({{"__name__", "x"}}), Minutely(0, {1, 2}))
        .Error();
  };
  CHECK(call(1, 0.5) == "invalid smoothing factor. Expected: 0 < sf < 1, got: 1.000000");
  CHECK(call(-0.25, 0.5) == "invalid smoothing factor. Expected: 0 < sf < 1, got: -0.250000");
  CHECK(call(0.5, 0) == "invalid trend factor. Expected: 0 < tf < 1, got: 0.000000");
  // Checked per series: without one, Prometheus never reaches the check.
  CHECK(RangeCall("holt_winters(x[5m], 0.5, 0.5)", 180'000, 5 * kMinute)
            .RangeSlot()
            .Num(2)
            .Num(2)
            .Error()
            .empty());
}

TEST_CASE("changes counts value changes, NaN to NaN not being one") {
  CHECK(Rate("changes", 300'000, 10 * kMinute, Minutely(0, {1, 1, 2, NAN, NAN, 3})) == 3);
  CHECK(Rate("changes", 300'000, 10 * kMinute, Minutely(0, {1})) == 0);
}

// 1 2 4 8 at 0..180s: mean 3.75, squared deviations 7.5625+3.0625+0.0625+18.0625 = 28.75.
TEST_CASE("the _over_time aggregations") {
  auto points = Minutely(0, {1, 2, 4, 8});
  auto over = [&](std::string_view fn) { return Rate(fn, 180'000, 5 * kMinute, points); };
  CHECK(over("avg_over_time") == 3.75);
  CHECK(over("sum_over_time") == 15);
  CHECK(over("count_over_time") == 4);
  CHECK(over("max_over_time") == 8);
  CHECK(over("min_over_time") == 1);
  CHECK(over("stdvar_over_time") == 7.1875);
  CHECK(over("stddev_over_time") == doctest::Approx(std::sqrt(7.1875)).epsilon(1e-15));
  CHECK(over("last_over_time") == 8);
  CHECK(over("present_over_time") == 1);
}

TEST_CASE("sum_over_time and avg_over_time compensate rounding as 2.42 does") {
  // Plain summation loses the 1 entirely; Prometheus's Neumaier sum keeps it.
  CHECK(Rate("sum_over_time", 120'000, 5 * kMinute, Minutely(0, {1e100, 1, -1e100})) == 1);
  CHECK(Rate("avg_over_time", 120'000, 5 * kMinute, Minutely(0, {1e100, 1, -1e100})) == 0);
  CHECK(Rate("avg_over_time", 120'000, 5 * kMinute, Minutely(0, {INFINITY, 1, 2})) == INFINITY);
  double avg = Rate("avg_over_time", 120'000, 5 * kMinute,
                    Minutely(0, {1000000000.1, 1000000000.2, 1000000000.4}));
  CHECK(avg == 1.0000000002333333e9);
}

TEST_CASE("max_over_time and min_over_time skip NaNs unless all are NaN") {
  CHECK(Rate("max_over_time", 120'000, 5 * kMinute, Minutely(0, {NAN, 1, 3})) == 3);
  CHECK(Rate("min_over_time", 120'000, 5 * kMinute, Minutely(0, {1, NAN, 3})) == 1);
  CHECK(std::isnan(Rate("max_over_time", 120'000, 5 * kMinute, Minutely(0, {NAN, NAN}))));
}

TEST_CASE("quantile_over_time interpolates between ranks; phi outside [0, 1] is infinite") {
  auto quantile = [](double phi) {
    return RangeCall("quantile_over_time(0.5, x[5m])", 180'000, 5 * kMinute)
        .Num(phi)
        .RangeSlot()
        .Series(L({{"__name__", "x"}}), Minutely(0, {8, 2, 4, 1}))
        .One();
  };
  CHECK(quantile(0.5) == 3);             // rank 1.5 between 2 and 4
  CHECK(quantile(0.9) == doctest::Approx(6.8));  // rank 2.7: 4*0.3 + 8*0.7
  CHECK(quantile(0) == 1);
  CHECK(quantile(1) == 8);
  CHECK(quantile(-0.1) == -INFINITY);
  CHECK(quantile(1.1) == INFINITY);
  CHECK(std::isnan(quantile(NAN)));
}

TEST_CASE("last_over_time keeps the metric name, the others drop it") {
  auto labels_of = [](std::string_view fn) {
    Vector v = RangeCall(std::string(fn) + "(x[5m])", 60'000, 5 * kMinute)
                   .RangeSlot()
                   .Series(L({{"__name__", "x"}, {"job", "a"}}), Minutely(0, {1, 2}))
                   .Run();
    REQUIRE(v.size() == 1);
    return v[0].metric;
  };
  CHECK(labels_of("last_over_time") == L({{"__name__", "x"}, {"job", "a"}}));
  CHECK(labels_of("max_over_time") == L({{"job", "a"}}));
  CHECK(labels_of("present_over_time") == L({{"job", "a"}}));
}

TEST_CASE("absent_over_time: nothing when a series has samples, else the selector's labels") {
  CHECK(RangeCall("absent_over_time(x{job=\"a\"}[5m])", 60'000, 5 * kMinute)
            .RangeSlot()
            .Series(L({{"__name__", "x"}, {"job", "a"}}), Minutely(0, {1}))
            .Run()
            .empty());
  Vector v = RangeCall("absent_over_time(x{job=\"a\",instance=~\".+\"}[5m])", 60'000, 5 * kMinute)
                 .RangeSlot()
                 .Run();
  REQUIRE(v.size() == 1);
  CHECK(v[0].metric == L({{"job", "a"}}));
  CHECK(v[0].v == 1);
  Vector from_subquery = RangeCall("absent_over_time(x{job=\"a\"}[5m:1m])", 60'000, 5 * kMinute)
                             .RangeSlot()
                             .Run();
  REQUIRE(from_subquery.size() == 1);
  CHECK(from_subquery[0].metric.empty());
}

TEST_CASE("the series-first entry points give CallFunction's values") {
  SeriesValueFn increase = FindSeriesValueFn("increase");
  REQUIRE((increase != nullptr));
  FunctionCallContext ctx;
  ctx.ts_ms = 600'000;
  ctx.window_end_ms = 600'000;
  ctx.window_start_ms = 0;
  ctx.range_ms = 10 * kMinute;
  double v = 0;
  std::string error;
  CHECK(increase(Minutely(4, {5, 10, 15, 20, 25}), ctx, &v, &error));
  CHECK(v == 27.5);
  CHECK_FALSE(increase(Minutely(4, {5}), ctx, &v, &error));
  CHECK(error.empty());
  CHECK((FindSeriesValueFn("absent_over_time") == nullptr));
  CHECK((FindSeriesValueFn("abs") == nullptr));
  CHECK((FindSeriesValueFn("quantile_over_time") != nullptr));
  CHECK(KeepsMetricName("last_over_time"));
  CHECK_FALSE(KeepsMetricName("max_over_time"));
}

TEST_CASE("quantile_over_time ranks NaN samples below all others, as Prometheus's sort does") {
  auto quantile = [](double phi, std::initializer_list<double> values) {
    return RangeCall("quantile_over_time(0.5, x[5m])", 180'000, 5 * kMinute)
        .Num(phi)
        .RangeSlot()
        .Series(L({{"__name__", "x"}}), Minutely(0, values))
        .One();
  };
  CHECK(quantile(0.5, {NAN, 1, 2}) == 1);
  CHECK(quantile(0.75, {2, NAN, 1, NAN}) == 1.25);  // NaN NaN 1 2: rank 2.25
  CHECK(std::isnan(quantile(0, {2, NAN})));
}

}  // namespace
}  // namespace crmscope::promql
