// The PromQL engine's selectors and query limits against values worked out by hand: lookback
// and staleness, offset and @, range selectors, subqueries, range query steps, errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

#include "tests/unit/promql_test_db.h"

using namespace crmscope;
using namespace crmscope::promql;

namespace {

constexpr TimestampMs S = 1000;  // one second

using testing::Db;

// Samples every `step` seconds from `from` to `to` (inclusive), value = f(t in seconds).
template <typename F>
std::vector<Sample> Every(int from, int to, int step, F f) {
  std::vector<Sample> out;
  for (int t = from; t <= to; t += step) out.push_back({t * S, f(t)});
  return out;
}

}  // namespace

TEST_CASE("engine: instant selector takes the newest sample of the last 5 minutes, both ends included") {
  Db db;
  db.Add({{"__name__", "x"}, {"a", "1"}}, {{0, 1}, {10 * S, 2}, {20 * S, 3}});
  CHECK(db.Instant("x", 20 * S) == "x{a=\"1\"} 3\n");
  CHECK(db.Instant("x", 15 * S) == "x{a=\"1\"} 2\n");
  CHECK(db.Instant("x", 320 * S) == "x{a=\"1\"} 3\n");  // exactly lookback after the sample
  CHECK(db.Instant("x", 320 * S + 1) == "");
  CHECK(db.Instant("x", -1) == "");
  CHECK(db.Instant("x{a=\"2\"}", 20 * S) == "");
}

TEST_CASE("engine: a staleness marker ends a series at once; other NaNs are values") {
  Db db;
  db.Add({{"__name__", "x"}}, {{0, 1}, {10 * S, 2}, {20 * S, StaleNaN()}, {40 * S, 5}});
  db.Add({{"__name__", "y"}}, {{0, std::nan("")}});
  CHECK(db.Instant("x", 19 * S) == "x{} 2\n");
  CHECK(db.Instant("x", 20 * S) == "");
  CHECK(db.Instant("x", 39 * S) == "");
  CHECK(db.Instant("x", 40 * S) == "x{} 5\n");
  CHECK(db.Instant("y", 60 * S) == "y{} NaN\n");
  // Range selectors drop the marker but keep the samples around it.
  CHECK(db.Instant("x[40s]", 40 * S) == "x{} 1@0 2@10 5@40\n");
  CHECK(db.Range("x", 0, 60 * S, 10 * S) == "x{} 1@0 2@10 5@40 5@50 5@60\n");
}

TEST_CASE("engine: range query steps, a gap longer than the lookback, series sorted by labels") {
  Db db;
  db.Add({{"__name__", "x"}, {"i", "b"}}, {{0, 1}, {500 * S, 2}});
  db.Add({{"__name__", "x"}, {"i", "a"}}, {{100 * S, 7}});
  CHECK(db.Range("x", 0, 600 * S, 100 * S) ==
        "x{i=\"a\"} 7@100 7@200 7@300 7@400\n"
        "x{i=\"b\"} 1@0 1@100 1@200 1@300 2@500 2@600\n");
  // A series without any point in the range is left out.
  CHECK(db.Range("x", 1000 * S, 1200 * S, 100 * S) == "");
  CHECK(db.Range("1", 0, 20 * S, 10 * S) == "{} 1@0 1@10 1@20\n");
  CHECK(db.Range("time()", 0, 20 * S, 10 * S) == "{} 0@0 10@10 20@20\n");
}

TEST_CASE("engine: offset, negative offset, and @ with start() and end()") {
  Db db;
  db.Add({{"__name__", "x"}}, Every(0, 600, 10, [](int t) { return double(t); }));
  CHECK(db.Instant("x offset 1m", 300 * S) == "x{} 240\n");
  CHECK(db.Instant("x offset -1m", 300 * S) == "x{} 360\n");
  CHECK(db.Instant("x @ 100", 300 * S) == "x{} 100\n");
  CHECK(db.Instant("x @ 100 offset 30s", 300 * S) == "x{} 70\n");
  CHECK(db.Instant("x[20s] @ 100", 300 * S) == "x{} 80@80 90@90 100@100\n");
  CHECK(db.Range("x @ start()", 100 * S, 120 * S, 10 * S) == "x{} 100@100 100@110 100@120\n");
  CHECK(db.Range("x @ end()", 100 * S, 120 * S, 10 * S) == "x{} 120@100 120@110 120@120\n");
  CHECK(db.Range("x - x @ 100", 100 * S, 120 * S, 10 * S) == "{} 0@100 10@110 20@120\n");
  CHECK(db.Range("x offset 15s", 100 * S, 120 * S, 10 * S) == "x{} 80@100 90@110 100@120\n");
}

TEST_CASE("engine: range selector windows include both ends and keep sample times") {
  Db db;
  db.Add({{"__name__", "x"}, {"j", "1"}}, Every(0, 100, 10, [](int t) { return t / 10.0; }));
  CHECK(db.Instant("x[30s]", 50 * S) == "x{j=\"1\"} 2@20 3@30 4@40 5@50\n");
  CHECK(db.Instant("x[29s]", 50 * S) == "x{j=\"1\"} 3@30 4@40 5@50\n");
  CHECK(db.Instant("x[1s] offset 5s", 50 * S) == "");
  CHECK(db.Range("x[1m]", 0, 10 * S, 10 * S) ==
        "error: invalid expression type \"range vector\" for range query, must be Scalar or instant Vector");
}

TEST_CASE("engine: subqueries evaluate at steps aligned to multiples of their resolution") {
  Db db;
  db.Add({{"__name__", "x"}}, Every(0, 300, 5, [](int t) { return double(t); }));
  // [t - 1m, t] at 20s steps from the first multiple of 20s: 40, 60, 80, 100.
  CHECK(db.Instant("x[1m:20s]", 100 * S) == "x{} 40@40 60@60 80@80 100@100\n");
  CHECK(db.Instant("x[1m:20s]", 110 * S) == "x{} 60@60 80@80 100@100\n");
  CHECK(db.Instant("x[1m:20s] offset 10s", 110 * S) == "x{} 40@40 60@60 80@80 100@100\n");
  // The default resolution is the engine's (1m): the multiples of 1m in [10s, 130s].
  CHECK(db.Instant("x[2m:]", 130 * S) == "x{} 60@60 120@120\n");
  CHECK(db.Instant("(x * 2)[40s:20s] @ 200", 10 * S) == "{} 320@160 360@180 400@200\n");
  // @ end() of an instant query at 10s: steps -40, -20, 0, of which only 0 has data.
  CHECK(db.Instant("x[1m:20s] @ end()", 10 * S) == "x{} 0@0\n");
}

TEST_CASE("engine: literals and the result types of instant queries") {
  Db db;
  CHECK(db.Instant("1 + 2 * 3", 0) == "scalar 7\n");
  CHECK(db.Instant("2 ^ 3 ^ 2", 0) == "scalar 512\n");
  CHECK(db.Instant("-2 ^ 2", 0) == "scalar -4\n");
  CHECK(db.Instant("\"text\"", 0) == "string text\n");
  CHECK(db.Instant("time()", 42 * S) == "scalar 42\n");
  CHECK(db.Instant("1 / 0", 0) == "scalar +Inf\n");
  CHECK(db.Instant("0 / 0", 0) == "scalar NaN\n");
  CHECK(db.Instant("5 % 3", 0) == "scalar 2\n");
  CHECK(db.Instant("2 > bool 1", 0) == "scalar 1\n");
  CHECK(db.Instant("vector(3)", 0) == "{} 3\n");
}

TEST_CASE("engine: parse errors and request limits are bad_data with Prometheus's words") {
  Db db;
  QueryResult r = db.engine().InstantQuery("sum(x", 0);
  CHECK(r.error_type == QueryErrorType::kBadData);
  CHECK(r.error == "1:6: parse error: unclosed left parenthesis");
  r = db.engine().RangeQuery("x", 0, 11001 * S, S);
  CHECK(r.error_type == QueryErrorType::kBadData);
  CHECK(r.error ==
        "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query "
        "resolution (?step=XX)");
  CHECK(db.engine().RangeQuery("x", 0, 11000 * S, S).error_type == QueryErrorType::kNone);
  r = db.engine().RangeQuery("x", 0, 10 * S, 0);
  CHECK(r.error == "zero or negative query resolution step widths are not accepted. Try a positive integer");
  r = db.engine().RangeQuery("x", 10 * S, 0, S);
  CHECK(r.error == "end timestamp must not be before start time");
  r = db.engine().RangeQuery("\"a\"", 0, 10 * S, S);
  CHECK(r.error == "invalid expression type \"string\" for range query, must be Scalar or instant Vector");
}

TEST_CASE("engine: max_samples counts samples held in memory as Prometheus counts them") {
  EngineOptions options;
  options.max_samples = 6;
  Db db(options);
  for (const char* i : {"1", "2", "3"}) db.Add({{"__name__", "x"}, {"i", i}}, {{0, 1}});
  CHECK(db.Instant("x", 0) == "x{i=\"1\"} 1\nx{i=\"2\"} 1\nx{i=\"3\"} 1\n");
  // Three selected, three gathered for the step, one result: 7 > 6.
  QueryResult r = db.engine().InstantQuery("sum(x)", 0);
  CHECK(r.error_type == QueryErrorType::kExecution);
  CHECK(r.error == "query processing would load too many samples into memory in query execution");
  CHECK(db.Range("x", 0, 60 * S, 30 * S) ==
        "error: query processing would load too many samples into memory in query execution");
  CHECK(db.Range("x", 0, 30 * S, 30 * S) == "x{i=\"1\"} 1@0 1@30\nx{i=\"2\"} 1@0 1@30\nx{i=\"3\"} 1@0 1@30\n");

  EngineOptions seven;
  seven.max_samples = 7;
  Db db7(seven);
  for (const char* i : {"1", "2", "3"}) db7.Add({{"__name__", "x"}, {"i", i}}, {{0, 1}});
  CHECK(db7.Instant("sum(x)", 0) == "{} 3\n");
}

TEST_CASE("engine: a query past its timeout stops with Prometheus's timeout error") {
  Db db;
  // 8.6 million subquery steps: far longer than the 20 ms allowed.
  QueryResult r = db.engine().InstantQuery("max_over_time(vector(time())[100d:1s])", 0, 20);
  CHECK(r.error_type == QueryErrorType::kTimeout);
  CHECK(r.error == "query timed out in expression evaluation");
}

TEST_CASE("engine: past max_concurrent a query waits for a slot until its deadline") {
  EngineOptions options;
  options.max_concurrent = 1;
  Db db(options);
  std::atomic<bool> slow_done{false};
  std::thread slow([&] {
    // Runs until its 1.5 s timeout, holding the only slot.
    db.engine().InstantQuery("max_over_time(vector(time())[100d:1s])", 0, 1500);
    slow_done = true;
  });
  bool queued_out = false;
  while (!slow_done && !queued_out) {
    QueryResult r = db.engine().InstantQuery("1", 0, 100);
    queued_out = r.error_type == QueryErrorType::kTimeout && r.error == "query timed out in query queue";
  }
  slow.join();
  CHECK(queued_out);
  CHECK(db.Instant("1", 0) == "scalar 1\n");  // the slot is free again
}

TEST_CASE("engine: queries run concurrently with ingestion") {
  EngineOptions options;
  options.max_concurrent = 2;
  Db db(options);
  db.Add({{"__name__", "x"}, {"i", "a"}}, {{0, 1}});
  db.Add({{"__name__", "x"}, {"i", "b"}}, {{0, 2}});
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int t = 1; t <= 200 && !stop; ++t) {
      std::vector<LabelView> labels = {{"__name__", "x"}, {"i", "a"}};
      Sample s{t * S, 1};
      storage::Appender app(&db.storage());
      app.Append(labels.data(), labels.size(), &s, 1);
      std::string err;
      app.Commit(&err);
    }
  });
  std::atomic<int> wrong{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        QueryResult res = db.engine().RangeQuery("sum(x)", 0, 100 * S, 10 * S);
        const auto* m = std::get_if<Matrix>(&res.value);
        if (!m || m->size() != 1 || m->front().points.size() != 11 || m->front().points[0].v != 3) ++wrong;
      }
    });
  }
  for (std::thread& t : readers) t.join();
  stop = true;
  writer.join();
  CHECK(wrong == 0);
}
