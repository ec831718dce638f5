// The PromQL engine's aggregations and its calls of functions, against values worked out by
// hand: by/without, NaN and Inf handling, topk/bottomk ties, quantile, count_values, and how
// range-vector functions, timestamp() and absent_over_time() are evaluated.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "tests/unit/promql_test_db.h"

using namespace crmscope;
using namespace crmscope::promql;

namespace {

constexpr TimestampMs S = 1000;
const double kInf = std::numeric_limits<double>::infinity();

using testing::Db;

void LoadFixture(Db& db) {
  db.Add({{"__name__", "m"}, {"g", "a"}, {"i", "1"}}, {{0, 1}});
  db.Add({{"__name__", "m"}, {"g", "a"}, {"i", "2"}}, {{0, 3}});
  db.Add({{"__name__", "m"}, {"g", "b"}, {"i", "3"}}, {{0, 5}});
  db.Add({{"__name__", "m"}, {"g", "b"}, {"i", "4"}}, {{0, 5}});
  db.Add({{"__name__", "n"}, {"i", "1"}}, {{0, std::nan("")}});
  db.Add({{"__name__", "n"}, {"i", "2"}}, {{0, 2}});
  db.Add({{"__name__", "n"}, {"i", "3"}}, {{0, 1}});
  db.Add({{"__name__", "p"}, {"i", "1"}}, {{0, kInf}});
  db.Add({{"__name__", "p"}, {"i", "2"}}, {{0, 1}});
  db.Add({{"__name__", "big"}, {"i", "1"}}, {{0, 1e308}});
  db.Add({{"__name__", "big"}, {"i", "2"}}, {{0, 1e308}});
}

}  // namespace

TEST_CASE("engine: sum, avg, min, max, count, group, stddev, stdvar with by and without") {
  Db db;
  LoadFixture(db);
  CHECK(db.Q("sum(m)") == "{} 14\n");
  CHECK(db.Q("sum by (g) (m)") == "{g=\"a\"} 4\n{g=\"b\"} 10\n");
  CHECK(db.Q("sum(m) by (g, nonexistent)") == "{g=\"a\"} 4\n{g=\"b\"} 10\n");
  CHECK(db.Q("sum without (i) (m)") == "{g=\"a\"} 4\n{g=\"b\"} 10\n");
  CHECK(db.Q("sum by (__name__) (m)") == "m{} 14\n");
  CHECK(db.Q("avg by (g) (m)") == "{g=\"a\"} 2\n{g=\"b\"} 5\n");
  CHECK(db.Q("min(m)") == "{} 1\n");
  CHECK(db.Q("max(m)") == "{} 5\n");
  CHECK(db.Q("count(m)") == "{} 4\n");
  CHECK(db.Q("count without (g) (m)") == "{i=\"1\"} 1\n{i=\"2\"} 1\n{i=\"3\"} 1\n{i=\"4\"} 1\n");
  CHECK(db.Q("group by (g) (m)") == "{g=\"a\"} 1\n{g=\"b\"} 1\n");
  CHECK(db.Q("stdvar(m)") == "{} 2.75\n");
  CHECK(db.Q("stddev(m)") == "{} 1.6583123951777\n");
  CHECK(db.Q("sum(nothing)") == "");
  CHECK(db.Q("sum(m) + 1") == "{} 15\n");
}

TEST_CASE("engine: NaN and Inf in aggregations as Prometheus treats them") {
  Db db;
  LoadFixture(db);
  CHECK(db.Q("max(n)") == "{} 2\n");  // a NaN is replaced by any later value
  CHECK(db.Q("min(n)") == "{} 1\n");
  CHECK(db.Q("sum(n)") == "{} NaN\n");
  CHECK(db.Q("max(n{i=\"1\"})") == "{} NaN\n");
  CHECK(db.Q("avg(p)") == "{} +Inf\n");
  CHECK(db.Q("avg(big)") == "{} 1e+308\n");  // the incremental mean does not overflow
  CHECK(db.Q("sum(big)") == "{} +Inf\n");
}

TEST_CASE("engine: topk and bottomk keep the first of equal values and order by value") {
  Db db;
  LoadFixture(db);
  CHECK(db.Q("topk(2, m)") == "m{g=\"b\", i=\"3\"} 5\nm{g=\"b\", i=\"4\"} 5\n");
  CHECK(db.Q("topk(1, m)") == "m{g=\"b\", i=\"3\"} 5\n");
  CHECK(db.Q("topk(2.9, m)") == "m{g=\"b\", i=\"3\"} 5\nm{g=\"b\", i=\"4\"} 5\n");
  CHECK(db.Q("topk(10, m)") ==
        "m{g=\"b\", i=\"3\"} 5\nm{g=\"b\", i=\"4\"} 5\nm{g=\"a\", i=\"2\"} 3\nm{g=\"a\", i=\"1\"} 1\n");
  CHECK(db.Q("bottomk(2, m)") == "m{g=\"a\", i=\"1\"} 1\nm{g=\"a\", i=\"2\"} 3\n");
  CHECK(db.Q("bottomk(1, m)") == "m{g=\"a\", i=\"1\"} 1\n");
  CHECK(db.Q("topk by (g) (1, m)") == "m{g=\"a\", i=\"2\"} 3\nm{g=\"b\", i=\"3\"} 5\n");
  CHECK(db.Q("topk(1, n)") == "n{i=\"2\"} 2\n");
  CHECK(db.Q("topk(0, m)") == "");
  CHECK(db.Q("topk(NaN, m)") == "error: Scalar value NaN overflows int64");
  CHECK(db.Q("topk(1e20, m)") == "error: Scalar value 1e+20 overflows int64");
  // k is evaluated at every step.
  CHECK(db.Range("topk(time() / 60 + 1, m)", 0, 60 * S, 60 * S) ==
        "m{g=\"b\", i=\"3\"} 5@0 5@60\nm{g=\"b\", i=\"4\"} 5@60\n");
}

TEST_CASE("engine: quantile and count_values") {
  Db db;
  LoadFixture(db);
  CHECK(db.Q("quantile(0.5, m)") == "{} 4\n");
  CHECK(db.Q("quantile(0.25, m)") == "{} 2.5\n");
  CHECK(db.Q("quantile by (g) (1, m)") == "{g=\"a\"} 3\n{g=\"b\"} 5\n");
  CHECK(db.Q("quantile(2, m)") == "{} +Inf\n");
  CHECK(db.Q("quantile(-1, m)") == "{} -Inf\n");
  CHECK(db.Q("count_values(\"v\", m)") == "{v=\"1\"} 1\n{v=\"3\"} 1\n{v=\"5\"} 2\n");
  CHECK(db.Q("count_values by (g) (\"v\", m)") ==
        "{g=\"a\", v=\"1\"} 1\n{g=\"a\", v=\"3\"} 1\n{g=\"b\", v=\"5\"} 2\n");
  CHECK(db.Q("count_values without (i) (\"v\", m)") ==
        "{g=\"a\", v=\"1\"} 1\n{g=\"a\", v=\"3\"} 1\n{g=\"b\", v=\"5\"} 2\n");
  // strconv.FormatFloat(v, 'f', -1, 64): shortest digits, never an exponent.
  CHECK(db.Q("count_values(\"v\", big)") == "{v=\"1" + std::string(308, '0') + "\"} 2\n");
  CHECK(db.Q("count_values(\"v\", -m / 4)") == "{v=\"-0.25\"} 1\n{v=\"-0.75\"} 1\n{v=\"-1.25\"} 2\n");
  CHECK(db.Q("count_values(\"bad-label\", m)") == "error: invalid label name \"bad-label\"");
}

TEST_CASE("engine: functions of instant vectors are called per step; their output order is kept") {
  Db db;
  db.Add({{"__name__", "s"}, {"i", "1"}}, {{10 * S, 1}});
  db.Add({{"__name__", "s"}, {"i", "2"}}, {{20 * S, 3}});
  db.Add({{"__name__", "s"}, {"i", "3"}}, {{30 * S, 2}});
  CHECK(db.Q("sort_desc(s)", 100 * S) == "s{i=\"2\"} 3\ns{i=\"3\"} 2\ns{i=\"1\"} 1\n");
  CHECK(db.Q("abs(-s)", 100 * S) == "{i=\"1\"} 1\n{i=\"2\"} 3\n{i=\"3\"} 2\n");
  // timestamp() of a selector reads its samples' times; of anything else, the step's.
  CHECK(db.Q("timestamp(s)", 100 * S) == "{i=\"1\"} 10\n{i=\"2\"} 20\n{i=\"3\"} 30\n");
  CHECK(db.Q("timestamp((s{i=\"1\"}))", 100 * S) == "{i=\"1\"} 10\n");
  CHECK(db.Q("timestamp(s{i=\"1\"} @ 50)", 100 * S) == "{i=\"1\"} 10\n");
  CHECK(db.Q("timestamp(sum(s))", 100 * S) == "{} 100\n");
  CHECK(db.Range("timestamp(s{i=\"2\"})", 0, 40 * S, 20 * S) == "{i=\"2\"} 20@20 20@40\n");
  CHECK(db.Q("label_replace(s, \"i\", \"x\", \"\", \"\")", 100 * S) ==
        "error: vector cannot contain metrics with the same labelset");
  CHECK(db.Q("scalar(s{i=\"2\"}) * 2", 100 * S) == "scalar 6\n");
}

TEST_CASE("engine: range-vector functions run per series; last_over_time keeps the name") {
  Db db;
  db.Add({{"__name__", "c"}, {"k", "1"}}, {{0, 0}, {60 * S, 60}, {120 * S, 120}});
  db.Add({{"__name__", "c"}, {"k", "2"}}, {{0, 0}, {60 * S, 120}, {120 * S, 240}});
  CHECK(db.Q("rate(c[1m])", 120 * S) == "{k=\"1\"} 1\n{k=\"2\"} 2\n");
  CHECK(db.Q("sum(rate(c[1m]))", 120 * S) == "{} 3\n");
  CHECK(db.Q("count_over_time(c[1m])", 120 * S) == "{k=\"1\"} 2\n{k=\"2\"} 2\n");
  CHECK(db.Q("last_over_time(c[1m])", 130 * S) == "c{k=\"1\"} 120\nc{k=\"2\"} 240\n");
  CHECK(db.Q("count_over_time(c[1m] offset 1m)", 120 * S) == "{k=\"1\"} 2\n{k=\"2\"} 2\n");
  CHECK(db.Q("count_over_time(c[30s])", 100 * S) == "");
  CHECK(db.Q("quantile_over_time(0.5, c{k=\"1\"}[2m])", 120 * S) == "{k=\"1\"} 60\n");
  // A subquery in place of a range selector: c at 0, 60, 120 within [0, 120].
  CHECK(db.Q("max_over_time(c{k=\"2\"}[2m:1m])", 120 * S) == "{k=\"2\"} 240\n");
  CHECK(db.Q("count_over_time((c{k=\"2\"} * 2)[2m:1m])", 120 * S) == "{k=\"2\"} 3\n");
  CHECK(db.Range("count_over_time(c{k=\"1\"}[1m])", 0, 240 * S, 60 * S) ==
        "{k=\"1\"} 1@0 2@60 2@120 1@180\n");
}

TEST_CASE("engine: range functions refuse two series that differ only by name, over the whole range") {
  Db db;
  db.Add({{"__name__", "c"}, {"k", "1"}}, {{0, 1}});
  db.Add({{"__name__", "c2"}, {"k", "1"}}, {{1000 * S, 1}});
  CHECK(db.Range("count_over_time({__name__=~\"c2?\"}[1m])", 0, 1000 * S, 500 * S) ==
        "error: vector cannot contain metrics with the same labelset");
  CHECK(db.Range("last_over_time({__name__=~\"c2?\"}[1m])", 0, 1000 * S, 500 * S) ==
        "c{k=\"1\"} 1@0\nc2{k=\"1\"} 1@1000\n");
}

TEST_CASE("engine: absent_over_time is 1 at the steps where no series has a sample") {
  Db db;
  db.Add({{"__name__", "x"}, {"job", "j"}}, {{0, 1}});
  CHECK(db.Q("absent_over_time(x[1m])", 30 * S) == "");
  CHECK(db.Q("absent_over_time(nothing{job=\"j\"}[1m])", 30 * S) == "{job=\"j\"} 1\n");
  CHECK(db.Range("absent_over_time(x{job=\"j\"}[1m])", 0, 180 * S, 60 * S) == "{job=\"j\"} 1@120 1@180\n");
  CHECK(db.Range("absent(x{job=\"j\"})", 0, 600 * S, 200 * S) == "{job=\"j\"} 1@400 1@600\n");
}
