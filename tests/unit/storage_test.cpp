#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bit>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <thread>

#include "collector/storage/sqlite_db.h"
#include "collector/storage/storage.h"

using namespace crmscope;
using namespace crmscope::storage;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/crmscope-storage-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

std::unique_ptr<Storage> OpenStorage(const std::string& dir, Options opts = {}) {
  opts.path = dir;
  std::string err;
  auto s = Storage::Open(opts, &err);
  INFO(err);
  REQUIRE(s);
  return s;
}

// Appends one series' samples in its own batch and commits.
AppendStats Write(Storage& s, const std::vector<LabelView>& labels, const std::vector<Sample>& samples) {
  Appender app(&s);
  app.Append(labels.data(), labels.size(), samples.data(), samples.size());
  std::string err;
  REQUIRE(app.Commit(&err));
  return app.stats();
}

std::vector<Sample> ReadAll(Storage& s, const Matchers& m, TimestampMs mint = INT64_MIN / 2,
                            TimestampMs maxt = INT64_MAX / 2) {
  Querier q = s.NewQuerier(mint, maxt);
  std::vector<Sample> out;
  for (const SeriesEntry& e : q.Select(m)) {
    auto it = q.Samples(e.ref);
    while (it->Next()) out.push_back(it->At());
  }
  return out;
}

MatcherPtr Eq(const std::string& name, const std::string& value) {
  return LabelMatcher::Make(LabelMatcher::Type::kEqual, name, value, nullptr);
}

template <typename Pred>
bool PollUntil(Pred pred, int seconds = 20) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

const std::vector<LabelView> kUp = {{"__name__", "up"}, {"job", "crm"}, {"instance", "node1:8080"}};

}  // namespace

TEST_CASE("storage: special floats and stale markers round-trip bit-exact") {
  TempDir dir;
  auto s = OpenStorage(dir.path);
  const double kValues[] = {StaleNaN(), std::nan("1"), std::numeric_limits<double>::infinity(),
                            -std::numeric_limits<double>::infinity(), -0.0, 0.0, 1e-310, 42.5};
  std::vector<Sample> in;
  for (size_t i = 0; i < std::size(kValues); ++i) in.push_back({1000 + static_cast<int64_t>(i) * 15000, kValues[i]});
  AppendStats st = Write(*s, kUp, in);
  CHECK(st.accepted == in.size());
  CHECK(st.new_series == 1);
  auto out = ReadAll(*s, {Eq("job", "crm")});
  REQUIRE(out.size() == in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    CHECK(out[i].t == in[i].t);
    CHECK(std::bit_cast<uint64_t>(out[i].v) == std::bit_cast<uint64_t>(in[i].v));
  }
  CHECK(IsStaleNaN(out[0].v));
}

TEST_CASE("storage: resends are accepted once; conflicts and out-of-order are rejected") {
  TempDir dir;
  auto s = OpenStorage(dir.path);
  Write(*s, kUp, {{1000, 1}, {2000, 2}, {3000, 3}});
  AppendStats again = Write(*s, kUp, {{1000, 1}, {2000, 2}, {3000, 3}, {4000, 4}});
  CHECK(again.accepted == 1);
  CHECK(again.duplicates == 3);
  CHECK(again.rejected_total() == 0);
  AppendStats conflict = Write(*s, kUp, {{2000, 99}, {1500, 1}, {5000, 5}});
  CHECK(conflict.accepted == 1);
  CHECK(conflict.rejected[static_cast<int>(RejectReason::kDuplicateTimestamp)] == 1);
  CHECK(conflict.rejected[static_cast<int>(RejectReason::kOutOfOrder)] == 1);
  REQUIRE(conflict.rejections.size() == 2);
  CHECK(conflict.rejections[0].series == "up{instance=\"node1:8080\", job=\"crm\"}");
  auto out = ReadAll(*s, {Eq("__name__", "up")});
  REQUIRE(out.size() == 5);
  CHECK(out[1].v == 2);
  CHECK(out[4].t == 5000);
}

TEST_CASE("storage: out-of-order window accepts late samples and reads them merged") {
  TempDir dir;
  Options opts;
  opts.out_of_order_window_ms = 10000;
  auto s = OpenStorage(dir.path, opts);
  Write(*s, kUp, {{10000, 10}, {20000, 20}});
  AppendStats late = Write(*s, kUp, {{15000, 15}, {5000, 5}});
  CHECK(late.accepted == 1);  // 15000 is inside the window, 5000 is not
  CHECK(late.rejected[static_cast<int>(RejectReason::kOutOfOrder)] == 1);
  CHECK(Write(*s, kUp, {{15000, 15}}).duplicates == 1);
  auto out = ReadAll(*s, {Eq("job", "crm")});
  REQUIRE(out.size() == 3);
  CHECK(out[0].t == 10000);
  CHECK(out[1].t == 15000);
  CHECK(out[2].t == 20000);
}

TEST_CASE("storage: invalid label sets are rejected, others in the batch kept") {
  TempDir dir;
  auto s = OpenStorage(dir.path);
  std::vector<LabelView> bad = {{"__name__", "up"}, {"bad-name", "x"}};
  std::vector<LabelView> unsorted_with_empty = {{"job", "crm"}, {"zone", ""}, {"__name__", "up"}};
  std::vector<Sample> samples = {{1000, 1}};
  Appender app(s.get());
  app.Append(bad.data(), bad.size(), samples.data(), samples.size());
  app.Append(unsorted_with_empty.data(), unsorted_with_empty.size(), samples.data(), samples.size());
  std::string err;
  REQUIRE(app.Commit(&err));
  CHECK(app.stats().accepted == 1);
  CHECK(app.stats().rejected[static_cast<int>(RejectReason::kInvalidLabels)] == 1);
  CHECK(app.stats().rejections[0].detail == "invalid label name \"bad-name\"");
  Querier q = s->NewQuerier(0, 10000);
  auto series = q.Select({Eq("job", "crm")});
  REQUIRE(series.size() == 1);
  CHECK(LabelsToString(series[0].labels) == "up{job=\"crm\"}");  // the empty label is dropped
}

TEST_CASE("storage: matchers select through the index") {
  TempDir dir;
  auto s = OpenStorage(dir.path);
  const char* routes[] = {"/api/customers/{id}", "/api/orders", "/healthz"};
  const char* codes[] = {"200", "404", "500"};
  for (const char* r : routes) {
    for (const char* c : codes) {
      Write(*s, {{"__name__", "http_requests_total"}, {"route", r}, {"code", c}}, {{1000, 1}});
    }
  }
  Write(*s, {{"__name__", "process_cpu_seconds_total"}}, {{1000, 1}});
  Querier q = s->NewQuerier(0, 5000);
  auto count = [&](Matchers m) { return q.Select(m).size(); };
  auto re = [](const std::string& n, const std::string& v) {
    return LabelMatcher::Make(LabelMatcher::Type::kRegexMatch, n, v, nullptr);
  };
  auto nre = [](const std::string& n, const std::string& v) {
    return LabelMatcher::Make(LabelMatcher::Type::kRegexNoMatch, n, v, nullptr);
  };
  auto ne = [](const std::string& n, const std::string& v) {
    return LabelMatcher::Make(LabelMatcher::Type::kNotEqual, n, v, nullptr);
  };
  CHECK(count({Eq("__name__", "http_requests_total")}) == 9);
  CHECK(count({Eq("__name__", "http_requests_total"), Eq("code", "500")}) == 3);
  CHECK(count({re("code", "5..")}) == 3);
  CHECK(count({re("code", "5")}) == 0);  // anchored
  CHECK(count({re("code", "200|404")}) == 6);
  CHECK(count({Eq("__name__", "http_requests_total"), ne("code", "200")}) == 6);
  CHECK(count({Eq("__name__", "http_requests_total"), nre("route", "/api/.*")}) == 3);
  CHECK(count({re("__name__", ".+"), Eq("code", "")}) == 1);  // label absent
  CHECK(count({re("__name__", ".+"), ne("code", "")}) == 9);
  auto sel = q.Select({Eq("route", "/healthz")});
  REQUIRE(sel.size() == 3);
  CHECK(GetLabel(sel[0].labels, "code") == "200");  // sorted by labels
  CHECK(GetLabel(sel[2].labels, "code") == "500");
  CHECK(q.LabelNames({}) == std::vector<std::string>{"__name__", "code", "route"});
  CHECK(q.LabelValues("code", {}) == std::vector<std::string>{"200", "404", "500"});
  CHECK(q.LabelValues("route", {Eq("code", "404")}).size() == 3);
  Querier later = s->NewQuerier(10000, 20000);  // no samples in that range
  CHECK(later.Select({Eq("__name__", "http_requests_total")}).empty());
}

TEST_CASE("storage: acknowledged samples survive a crash, none read twice") {
  TempDir dir;
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    Options opts;
    opts.path = dir.path;
    std::string err;
    auto s = Storage::Open(opts, &err);
    if (!s) _exit(2);
    for (int batch = 0; batch < 50; ++batch) {
      std::vector<Sample> samples;
      for (int i = 0; i < 10; ++i) samples.push_back({(batch * 10 + i) * 1000LL, batch * 10.0 + i});
      Appender app(s.get());
      app.Append(kUp.data(), kUp.size(), samples.data(), samples.size());
      if (!app.Commit(&err)) _exit(3);
    }
    _exit(0);  // no destructor: no final checkpoint, as after kill -9
  }
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  auto s = OpenStorage(dir.path);
  auto out = ReadAll(*s, {Eq("job", "crm")});
  REQUIRE(out.size() == 500);
  for (int i = 0; i < 500; ++i) {
    CHECK(out[i].t == i * 1000LL);
    CHECK(out[i].v == static_cast<double>(i));
  }
  // Appending continues where the crashed process stopped.
  CHECK(Write(*s, kUp, {{499000, 499}, {500000, 500}}).accepted == 1);
}

TEST_CASE("storage: finished windows move into blocks and read back across restarts") {
  TempDir dir;
  const int64_t step = 15000;
  const int64_t n = 6 * 3600 * 1000 / step;  // six hours at 15 s
  {
    auto s = OpenStorage(dir.path);
    for (int series = 0; series < 3; ++series) {
      std::string inst = "node" + std::to_string(series);
      std::vector<Sample> samples;
      for (int64_t i = 0; i < n; ++i) samples.push_back({i * step, static_cast<double>(i * (series + 1))});
      Write(*s, {{"__name__", "crm_requests_total"}, {"instance", inst}}, samples);
    }
    REQUIRE(PollUntil([&] { return s->Stats().chunks > 0; }));
    StorageStats st = s->Stats();
    CHECK(st.series == 3);
    // Blocks are written up to the last full window at least half a block behind the newest sample.
    auto out = ReadAll(*s, {Eq("instance", "node1")});
    REQUIRE(out.size() == static_cast<size_t>(n));
    CHECK(out.back().v == static_cast<double>((n - 1) * 2));
    // A sample older than the written blocks is refused as too old.
    AppendStats old = Write(*s, {{"__name__", "crm_requests_total"}, {"instance", "node9"}}, {{1000, 1}});
    CHECK(old.rejected[static_cast<int>(RejectReason::kTooOld)] == 1);
  }
  auto s = OpenStorage(dir.path);
  auto out = ReadAll(*s, {Eq("instance", "node2")});
  REQUIRE(out.size() == static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    if (out[i].t != i * step || out[i].v != static_cast<double>(i * 3)) {
      FAIL("sample " << i << " differs: t=" << out[i].t << " v=" << out[i].v);
    }
  }
  auto window = ReadAll(*s, {Eq("instance", "node0")}, 3600000, 3600000 + 10 * step);
  REQUIRE(window.size() == 11);
  CHECK(window.front().t == 3600000);
}

TEST_CASE("storage: retention drops whole blocks and their series") {
  TempDir dir;
  Options opts;
  opts.retention_ms = 4LL * 3600 * 1000;
  opts.retention_interval_ms = 100;
  auto s = OpenStorage(dir.path, opts);
  const int64_t step = 60000;
  std::vector<Sample> old_samples, new_samples;
  for (int64_t t = 0; t < 2 * 3600 * 1000; t += step) old_samples.push_back({t, 1});
  Write(*s, {{"__name__", "gone"}}, old_samples);
  for (int64_t t = 0; t < 12LL * 3600 * 1000; t += step) new_samples.push_back({t, 2});
  Write(*s, {{"__name__", "kept"}}, new_samples);
  REQUIRE(PollUntil([&] {
    Querier q = s->NewQuerier(0, INT64_MAX / 2);
    return q.Select({Eq("__name__", "gone")}).empty();
  }));
  auto kept = ReadAll(*s, {Eq("__name__", "kept")});
  REQUIRE(!kept.empty());
  // Everything older than the retention horizon's block is gone; recent data stays whole.
  CHECK(kept.front().t >= 12LL * 3600 * 1000 - opts.retention_ms - 2 * 3600 * 1000);
  CHECK(kept.back().t == 12LL * 3600 * 1000 - step);
  CHECK(s->Stats().series == 1);
}

TEST_CASE("storage: series limit refuses new series, not new samples of known ones") {
  TempDir dir;
  Options opts;
  opts.max_series = 1;
  auto s = OpenStorage(dir.path, opts);
  CHECK(Write(*s, kUp, {{1000, 1}}).accepted == 1);
  AppendStats st = Write(*s, {{"__name__", "other"}}, {{1000, 1}});
  CHECK(st.rejected[static_cast<int>(RejectReason::kSeriesLimit)] == 1);
  CHECK(Write(*s, kUp, {{2000, 1}}).accepted == 1);
}

TEST_CASE("storage: metadata is kept across restarts") {
  TempDir dir;
  {
    auto s = OpenStorage(dir.path);
    s->PutMetadata("http_requests_total", {"counter", "Requests served.", ""});
  }
  auto s = OpenStorage(dir.path);
  auto md = s->Metadata("", 0);
  REQUIRE(md.size() == 1);
  CHECK(md[0].first == "http_requests_total");
  CHECK(md[0].second.type == "counter");
  CHECK(md[0].second.help == "Requests served.");
}

TEST_CASE("storage: size retention drops the oldest blocks until the database fits") {
  TempDir dir;
  Options opts;
  opts.retention_ms = 0;     // time retention off: only size decides
  opts.retention_bytes = 1;  // smaller than any database: everything but the newest block goes
  opts.retention_interval_ms = 100;
  auto s = OpenStorage(dir.path, opts);
  std::vector<Sample> samples;
  for (int64_t t = 0; t < 12LL * 3600 * 1000; t += 60000) samples.push_back({t, 1});
  Write(*s, {{"__name__", "sized"}}, samples);
  // Blocks are written up to 10h; retention then removes the oldest, one block per pass.
  REQUIRE(PollUntil([&] {
    auto out = ReadAll(*s, {Eq("__name__", "sized")});
    return !out.empty() && out.front().t >= 8LL * 3600 * 1000;
  }));
  auto out = ReadAll(*s, {Eq("__name__", "sized")});
  CHECK(out.back().t == 12LL * 3600 * 1000 - 60000);  // the head is never dropped
}

TEST_CASE("storage: a database of another on-disk layout is refused with a message") {
  TempDir dir;
  std::string err;
  {
    auto db = SqliteDb::Open((dir.path / "crmscope.db").string(), false, &err);
    REQUIRE(db);
    REQUIRE(db->Exec("CREATE TABLE head_chunks(series INTEGER PRIMARY KEY, data BLOB)", &err));
  }
  Options opts;
  opts.path = dir.path;
  CHECK(Storage::Open(opts, &err) == nullptr);
  CHECK(err.find("has on-disk layout version 0, this collector reads version 1") != std::string::npos);
  {
    TempDir fresh;  // a new directory is created at the current version and reopens
    opts.path = fresh.path;
    { CHECK(Storage::Open(opts, &err) != nullptr); }
    CHECK(Storage::Open(opts, &err) != nullptr);
  }
}
