// The per-target series cache, without HTTP: labelling (honor_labels both ways), staleness
// markers, the counts behind the report series, and the allocation-free steady state.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <new>
#include <sstream>

#include "agent/sources/scrape/target_series_cache.h"

// Counts heap allocations, to check the steady state allocates nothing.
// g++ 12 takes free() of what this operator new returned for a mismatch, not seeing it is malloc's.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
static std::atomic<long> g_allocations{0};
void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace crmscope::agent {
namespace {

constexpr TimestampMs kAtCollection = -1;

struct RecordingSink : SampleSink {
  struct Point {
    TimestampMs t;
    double v;
  };
  std::map<std::string, std::vector<Point>> series;
  std::map<std::string, MetricKind> kinds;
  std::map<std::string, std::string> units;
  void Add(const Labels& labels, double value) override {
    series[LabelsToString(labels)].push_back({kAtCollection, value});
  }
  void AddAt(const Labels& labels, TimestampMs t, double value) override {
    series[LabelsToString(labels)].push_back({t, value});
  }
  void Describe(std::string_view family, MetricKind kind, std::string_view,
                std::string_view unit) override {
    kinds[std::string(family)] = kind;
    units[std::string(family)] = unit;
  }
  size_t StaleCount() const {
    size_t n = 0;
    for (const auto& [name, points] : series) {
      for (const Point& p : points) n += IsStaleNaN(p.v);
    }
    return n;
  }
};

// Counts calls without keeping anything, so it allocates nothing itself.
struct CountingSink : SampleSink {
  size_t samples = 0;
  double sum = 0;
  void Add(const Labels&, double value) override { ++samples, sum += value; }
  void AddAt(const Labels&, TimestampMs, double value) override { ++samples, sum += value; }
  void Describe(std::string_view, MetricKind, std::string_view, std::string_view) override {}
};

SampleLabeling Labeling(bool honor_labels = false, bool honor_timestamps = true) {
  return {{{"instance", "h:1"}, {"job", "j"}}, honor_labels, honor_timestamps, nullptr};
}

const ExpositionFormat kText = ExpositionFormat::kText004;

TEST_CASE("Samples get the target's labels; the counts of Prometheus's report series") {
  TargetSeriesCache cache(Labeling());
  RecordingSink sink;
  std::string error;
  AppendCounts c = cache.Append("# TYPE a counter\na_total 3\nb{x=\"1\"} 2\nb{x=\"2\"} 5 77\n",
                                kText, 1000, sink, &error);
  CHECK(error == "");
  CHECK(c.scraped == 3);
  CHECK(c.post_relabel == 3);
  CHECK(c.series_added == 3);
  CHECK(sink.series["a_total{instance=\"h:1\", job=\"j\"}"][0].v == 3);
  CHECK(sink.series["a_total{instance=\"h:1\", job=\"j\"}"][0].t == kAtCollection);
  CHECK(sink.series["b{instance=\"h:1\", job=\"j\", x=\"2\"}"][0].t == 77);  // honor_timestamps
  CHECK(sink.kinds["a"] == MetricKind::kCounter);
  c = cache.Append("# TYPE a counter\na_total 4\nb{x=\"1\"} 2\nb{x=\"2\"} 5 78\n", kText, 2000,
                   sink, &error);
  CHECK(c.series_added == 0);  // all known from the previous scrape
  CHECK(c.post_relabel == 3);
}

TEST_CASE("A series that disappears gets one stale marker; an explicitly stamped one none") {
  TargetSeriesCache cache(Labeling());
  RecordingSink sink;
  std::string error;
  cache.Append("a 1\nb 2\nc 3 500\n", kText, 1000, sink, &error);
  cache.Append("a 1\n", kText, 2000, sink, &error);
  const auto& b = sink.series["b{instance=\"h:1\", job=\"j\"}"];
  REQUIRE(b.size() == 2);
  CHECK(b[1].t == 2000);
  CHECK(IsStaleNaN(b[1].v));
  CHECK(sink.series["c{instance=\"h:1\", job=\"j\"}"].size() == 1);  // not tracked: own timestamp
  CHECK(sink.StaleCount() == 1);
  cache.Append("a 1\n", kText, 3000, sink, &error);
  CHECK(sink.StaleCount() == 1);  // once only
  // Back again: an ordinary sample, and a new series for scrape_series_added.
  AppendCounts c = cache.Append("a 1\nb 9\n", kText, 4000, sink, &error);
  CHECK(c.series_added == 1);
  CHECK(sink.series["b{instance=\"h:1\", job=\"j\"}"].back().v == 9);
}

TEST_CASE("Without honor_timestamps a stamped sample is stamped now and tracked") {
  TargetSeriesCache cache(Labeling(false, /*honor_timestamps=*/false));
  RecordingSink sink;
  std::string error;
  cache.Append("c 3 500\n", kText, 1000, sink, &error);
  cache.Append("", kText, 2000, sink, &error);
  const auto& c = sink.series["c{instance=\"h:1\", job=\"j\"}"];
  REQUIRE(c.size() == 2);
  CHECK(c[0].t == kAtCollection);
  CHECK(IsStaleNaN(c[1].v));
}

TEST_CASE("A failed scrape marks everything stale; a parse error adds nothing of the body") {
  TargetSeriesCache cache(Labeling());
  RecordingSink sink;
  std::string error;
  cache.Append("a 1\nb 2\n", kText, 1000, sink, &error);
  cache.AppendFailure(2000, sink);
  CHECK(sink.StaleCount() == 2);
  cache.AppendFailure(3000, sink);
  CHECK(sink.StaleCount() == 2);

  cache.Append("a 1\nb 2\n", kText, 4000, sink, &error);
  RecordingSink after;
  AppendCounts c = cache.Append("a 5\nz 1\nb\n", kText, 5000, after, &error);
  CHECK(error == "line 3: expected a value after \"b\"");
  // Counted up to the error, as Prometheus 2.42 reports a scrape that fails to parse.
  CHECK(c.scraped == 2);
  CHECK(c.post_relabel == 2);
  CHECK(c.series_added == 1);
  CHECK(after.series.size() == 2);  // the stale markers of a and b, nothing of a 5 or z
  CHECK(after.StaleCount() == 2);
}

TEST_CASE("honor_labels: conflicts renamed exported_<name> when false, kept when true") {
  const char* body = "m{job=\"exposed\",instance=\"i0\",exported_job=\"x\",other=\"o\"} 1\n";
  RecordingSink sink;
  std::string error;
  TargetSeriesCache target_wins(Labeling(false));
  target_wins.Append(body, kText, 1000, sink, &error);
  CHECK(sink.series.count("m{exported_exported_job=\"exposed\", exported_instance=\"i0\", "
                          "exported_job=\"x\", instance=\"h:1\", job=\"j\", other=\"o\"}") == 1);
  RecordingSink honored;
  TargetSeriesCache exposed_wins(Labeling(true));
  exposed_wins.Append(body, kText, 1000, honored, &error);
  CHECK(honored.series.count(
            "m{exported_job=\"x\", instance=\"i0\", job=\"exposed\", other=\"o\"}") == 1);
  // Only what the target does not expose is added.
  RecordingSink partly;
  TargetSeriesCache exposed_job(Labeling(true));
  exposed_job.Append("m{job=\"exposed\"} 1\n", kText, 1000, partly, &error);
  CHECK(partly.series.count("m{instance=\"h:1\", job=\"exposed\"}") == 1);
}

TEST_CASE("Relabelling drops series and counts them out; empty values are absent labels") {
  std::vector<RelabelConfig> rules(1);
  rules[0].source_labels = {"__name__"};
  rules[0].regex = "drop_.*";
  rules[0].action = RelabelAction::kDrop;
  std::string error;
  auto relabeler = Relabeler::Make(rules, &error);
  REQUIRE(relabeler);
  SampleLabeling labeling = Labeling();
  labeling.relabeler = relabeler.get();
  TargetSeriesCache cache(labeling);
  RecordingSink sink;
  AppendCounts c =
      cache.Append("keep{e=\"\"} 1\ndrop_me 2\ndrop_too 3\n", kText, 1000, sink, &error);
  CHECK(c.scraped == 3);
  CHECK(c.post_relabel == 1);
  CHECK(c.series_added == 1);
  CHECK(sink.series.size() == 1);
  CHECK(sink.series.count("keep{instance=\"h:1\", job=\"j\"}") == 1);
}

TEST_CASE("The same series twice in one scrape: the first is kept, as Prometheus") {
  TargetSeriesCache cache(Labeling());
  RecordingSink sink;
  std::string error;
  AppendCounts c = cache.Append("a{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\n", kText, 1000,
                                sink, &error);
  CHECK(c.post_relabel == 1);
  REQUIRE(sink.series["a{instance=\"h:1\", job=\"j\", x=\"1\", y=\"2\"}"].size() == 1);
  CHECK(sink.series["a{instance=\"h:1\", job=\"j\", x=\"1\", y=\"2\"}"][0].v == 1);
  // The other spelling disappearing is no disappearance of the series.
  cache.Append("a{x=\"1\",y=\"2\"} 1\n", kText, 2000, sink, &error);
  CHECK(sink.StaleCount() == 0);
}

TEST_CASE("Invalid UTF-8 in a label value fails the scrape, naming the line") {
  TargetSeriesCache cache(Labeling());
  RecordingSink sink;
  std::string error;
  cache.Append("a 1\nb{x=\"\xff\"} 1\n", kText, 1000, sink, &error);
  CHECK(error == "line 2: invalid UTF-8 in value of label \"x\"");
  CHECK(sink.series.empty());
}

TEST_CASE("Steady state: a scrape of node_exporter's output allocates nothing per sample") {
  std::ifstream in(std::string(CRMSCOPE_SOURCE_DIR) +
                   "/tests/data/exposition/node_exporter_1.5.txt");
  std::stringstream content;
  content << in.rdbuf();
  std::string body = content.str();
  TargetSeriesCache cache(Labeling());
  CountingSink sink;
  std::string error;
  AppendCounts first = cache.Append(body, kText, 1000, sink, &error);
  REQUIRE(error == "");
  CHECK(first.scraped == 507);
  CHECK(first.series_added == 507);
  cache.Append(body, kText, 2000, sink, &error);  // the sweep's containers settle
  long before = g_allocations.load();
  AppendCounts again = cache.Append(body, kText, 3000, sink, &error);
  long allocations = g_allocations.load() - before;
  CHECK(again.post_relabel == 507);
  CHECK(allocations == 0);

  size_t samples = 0;
  auto start = std::chrono::steady_clock::now();
  auto elapsed = std::chrono::steady_clock::duration::zero();
  for (int round = 0; round < 10000 && elapsed < std::chrono::milliseconds(500); ++round) {
    samples += cache.Append(body, kText, 4000 + round, sink, &error).post_relabel;
    elapsed = std::chrono::steady_clock::now() - start;
  }
  MESSAGE("parse + cache lookup + sink, node_exporter output: "
          << samples / std::chrono::duration<double>(elapsed).count() / 1e6 << " M samples/s");
}

}  // namespace
}  // namespace crmscope::agent
