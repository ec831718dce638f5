// The PromQL engine's binary and unary operators against values worked out by hand: every
// operator, scalar/vector combinations, vector matching with on/ignoring/group_left/
// group_right, the set operators, metric-name dropping, and the matching errors' wording.
#include <doctest/doctest.h>

#include <algorithm>

#include "tests/unit/promql_test_db.h"

using namespace crmscope;
using namespace crmscope::promql;

namespace {

constexpr TimestampMs S = 1000;

using testing::Db;

// a{i,j} and b{i,j} differ in j; info carries a version per i; c{i} for default matching.
void LoadFixture(Db& db) {
  db.Add({{"__name__", "a"}, {"i", "1"}, {"j", "x"}}, {{0, 10}});
  db.Add({{"__name__", "a"}, {"i", "2"}, {"j", "y"}}, {{0, 20}});
  db.Add({{"__name__", "b"}, {"i", "1"}, {"j", "z"}}, {{0, 2}});
  db.Add({{"__name__", "b"}, {"i", "2"}, {"j", "z"}}, {{0, 4}});
  db.Add({{"__name__", "b2"}, {"i", "1"}, {"j", "z"}}, {{0, 6}});
  db.Add({{"__name__", "info"}, {"i", "1"}, {"version", "v1"}}, {{0, 1}});
  db.Add({{"__name__", "info"}, {"i", "2"}, {"version", "v2"}}, {{0, 1}});
  db.Add({{"__name__", "c"}, {"i", "1"}}, {{0, 3}});
  db.Add({{"__name__", "d"}, {"i", "1"}}, {{0, 4}});
  db.Add({{"__name__", "one"}, {"j", "z"}}, {{0, 1}});
}

}  // namespace

TEST_CASE("engine: vector and scalar arithmetic drops the name, comparisons filter and keep it") {
  Db db;
  LoadFixture(db);
  CHECK(db.Q("a * 2") == "{i=\"1\", j=\"x\"} 20\n{i=\"2\", j=\"y\"} 40\n");
  CHECK(db.Q("2 - a") == "{i=\"1\", j=\"x\"} -8\n{i=\"2\", j=\"y\"} -18\n");
  CHECK(db.Q("a / 0") == "{i=\"1\", j=\"x\"} +Inf\n{i=\"2\", j=\"y\"} +Inf\n");
  CHECK(db.Q("a % 3") == "{i=\"1\", j=\"x\"} 1\n{i=\"2\", j=\"y\"} 2\n");
  CHECK(db.Q("a ^ 2") == "{i=\"1\", j=\"x\"} 100\n{i=\"2\", j=\"y\"} 400\n");
  CHECK(db.Q("a > 15") == "a{i=\"2\", j=\"y\"} 20\n");
  CHECK(db.Q("a == 10") == "a{i=\"1\", j=\"x\"} 10\n");
  CHECK(db.Q("a != 10") == "a{i=\"2\", j=\"y\"} 20\n");
  CHECK(db.Q("a <= 10") == "a{i=\"1\", j=\"x\"} 10\n");
  CHECK(db.Q("a >= 20") == "a{i=\"2\", j=\"y\"} 20\n");
  // With the scalar on the left the result is still the vector's value.
  CHECK(db.Q("15 < a") == "a{i=\"2\", j=\"y\"} 20\n");
  CHECK(db.Q("a > bool 15") == "{i=\"1\", j=\"x\"} 0\n{i=\"2\", j=\"y\"} 1\n");
  CHECK(db.Q("15 > bool a") == "{i=\"1\", j=\"x\"} 1\n{i=\"2\", j=\"y\"} 0\n");
  // atan2 keeps the metric name, as Prometheus 2.42 does.
  CHECK(db.Q("a atan2 1") == "a{i=\"1\", j=\"x\"} 1.4711276743037347\na{i=\"2\", j=\"y\"} 1.5208379310729538\n");
  CHECK(db.Q("1 atan2 1") == "scalar 0.7853981633974483\n");
}

TEST_CASE("engine: unary minus drops the name and refuses duplicate label sets") {
  Db db;
  LoadFixture(db);
  CHECK(db.Q("-a") == "{i=\"1\", j=\"x\"} -10\n{i=\"2\", j=\"y\"} -20\n");
  CHECK(db.Q("+a") == "a{i=\"1\", j=\"x\"} 10\na{i=\"2\", j=\"y\"} 20\n");
  CHECK(db.Q("-{__name__=~\"b2?\", i=\"1\"}") == "error: vector cannot contain metrics with the same labelset");
  CHECK(db.Q("{__name__=~\"b2?\", i=\"1\"} * 2") == "error: vector cannot contain metrics with the same labelset");
  CHECK(db.Q("{__name__=~\"b2?\", i=\"1\"} > 0") == "b{i=\"1\", j=\"z\"} 2\nb2{i=\"1\", j=\"z\"} 6\n");
}

TEST_CASE("engine: one-to-one matching with and without on/ignoring") {
  Db db;
  LoadFixture(db);
  CHECK(db.Q("c + d") == "{i=\"1\"} 7\n");
  CHECK(db.Q("a / b") == "");  // j differs
  CHECK(db.Q("a / ignoring(j) b") == "{i=\"1\"} 5\n{i=\"2\"} 5\n");
  CHECK(db.Q("a / on(i) b") == "{i=\"1\"} 5\n{i=\"2\"} 5\n");
  CHECK(db.Q("a > ignoring(j) b") == "a{i=\"1\"} 10\na{i=\"2\"} 20\n");
  CHECK(db.Q("a < ignoring(j) b") == "");
  CHECK(db.Q("a > bool on(i) b") == "{i=\"1\"} 1\n{i=\"2\"} 1\n");
  CHECK(db.Q("a == bool on(i) b") == "{i=\"1\"} 0\n{i=\"2\"} 0\n");
  CHECK(db.Q("a > on(__name__, i) b") == "");
  CHECK(db.Q("b - on(i) a") == "{i=\"1\"} -8\n{i=\"2\"} -16\n");
}

TEST_CASE("engine: group_left and group_right copy the listed labels from the one side") {
  Db db;
  LoadFixture(db);
  CHECK(db.Q("a * on(i) group_left(version) info") ==
        "{i=\"1\", j=\"x\", version=\"v1\"} 10\n{i=\"2\", j=\"y\", version=\"v2\"} 20\n");
  CHECK(db.Q("info * on(i) group_right(version) a") ==
        "{i=\"1\", j=\"x\", version=\"v1\"} 10\n{i=\"2\", j=\"y\", version=\"v2\"} 20\n");
  CHECK(db.Q("a * on(i) group_left info") == "{i=\"1\", j=\"x\"} 10\n{i=\"2\", j=\"y\"} 20\n");
  // Comparisons keep the many side's name; the value is the left side's.
  CHECK(db.Q("a > on(i) group_left(version) info") ==
        "a{i=\"1\", j=\"x\", version=\"v1\"} 10\na{i=\"2\", j=\"y\", version=\"v2\"} 20\n");
  CHECK(db.Q("info < on(i) group_right a") == "a{i=\"1\", j=\"x\"} 1\na{i=\"2\", j=\"y\"} 1\n");
  // A label the one side lacks is removed from the result.
  CHECK(db.Q("info * on(i) group_left(j) c") == "{i=\"1\", version=\"v1\"} 3\n");
  CHECK(db.Q("b * on(j) group_left one") == "{i=\"1\", j=\"z\"} 2\n{i=\"2\", j=\"z\"} 4\n");
}

TEST_CASE("engine: matching errors are worded as Prometheus's") {
  Db db;
  LoadFixture(db);
  CHECK(db.Q("a * on(j) group_left b") ==
        "error: found duplicate series for the match group {j=\"z\"} on the right hand-side of the "
        "operation: [{__name__=\"b\", i=\"2\", j=\"z\"}, {__name__=\"b\", i=\"1\", j=\"z\"}];many-to-many "
        "matching not allowed: matching labels must be unique on one side");
  CHECK(db.Q("one * on(j) group_left b") ==
        "error: found duplicate series for the match group {j=\"z\"} on the right hand-side of the "
        "operation: [{__name__=\"b\", i=\"2\", j=\"z\"}, {__name__=\"b\", i=\"1\", j=\"z\"}];many-to-many "
        "matching not allowed: matching labels must be unique on one side");
  CHECK(db.Q("b * ignoring(i) group_right one") ==
        "error: found duplicate series for the match group {j=\"z\"} on the left hand-side of the "
        "operation: [{__name__=\"b\", i=\"2\", j=\"z\"}, {__name__=\"b\", i=\"1\", j=\"z\"}];many-to-many "
        "matching not allowed: matching labels must be unique on one side");
  CHECK(db.Q("b + on(j) one") ==
        "error: multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)");
  CHECK(db.Q("{__name__=~\"b2?\", i=\"1\"} * on(i) group_left info") ==
        "error: multiple matches for labels: grouping labels must ensure unique matches");
}

TEST_CASE("engine: and, or, unless keep all labels and match on the signature") {
  Db db;
  LoadFixture(db);
  CHECK(db.Q("a and on(i) b") == "a{i=\"1\", j=\"x\"} 10\na{i=\"2\", j=\"y\"} 20\n");
  CHECK(db.Q("a and on(i) b{i=\"1\"}") == "a{i=\"1\", j=\"x\"} 10\n");
  CHECK(db.Q("a and b") == "");
  CHECK(db.Q("a and nothing") == "");
  CHECK(db.Q("a or c") == "a{i=\"1\", j=\"x\"} 10\na{i=\"2\", j=\"y\"} 20\nc{i=\"1\"} 3\n");
  CHECK(db.Q("a or on(i) c") == "a{i=\"1\", j=\"x\"} 10\na{i=\"2\", j=\"y\"} 20\n");
  CHECK(db.Q("nothing or c") == "c{i=\"1\"} 3\n");
  CHECK(db.Q("a unless on(i) b{i=\"2\"}") == "a{i=\"1\", j=\"x\"} 10\n");
  CHECK(db.Q("a unless nothing") == "a{i=\"1\", j=\"x\"} 10\na{i=\"2\", j=\"y\"} 20\n");
  CHECK(db.Q("a unless ignoring(j) b") == "");
  CHECK(db.Q("c == d or c") == "c{i=\"1\"} 3\n");
}

TEST_CASE("engine: operators in range queries combine the series present at each step") {
  Db db;
  db.Add({{"__name__", "x"}}, {{0, 1}, {200 * S, 2}, {400 * S, 3}});
  db.Add({{"__name__", "y"}}, {{0, 10}});  // present until 300s
  CHECK(db.Range("x + y", 0, 400 * S, 100 * S) == "{} 11@0 11@100 12@200 12@300\n");
  CHECK(db.Range("x > 1", 0, 400 * S, 100 * S) == "x{} 2@200 2@300 3@400\n");
  CHECK(db.Range("x or y", 0, 400 * S, 100 * S) == "x{} 1@0 1@100 2@200 2@300 3@400\n");
  CHECK(db.Range("y unless x > 1", 0, 400 * S, 100 * S) == "y{} 10@0 10@100\n");
  CHECK(db.Range("x * 2 + 1", 0, 200 * S, 100 * S) == "{} 3@0 3@100 5@200\n");
}
