// For tests of the PromQL engine: a storage in a temporary directory with an engine over it,
// series added by hand and query results rendered as text to compare with hand-worked values.
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "collector/promql/engine.h"
#include "collector/promql/go_format.h"
#include "collector/storage/storage.h"

namespace crmscope::testing {

using promql::Engine;
using promql::EngineOptions;
using promql::GoFloat;
using promql::Matrix;
using promql::MatrixSeries;
using promql::QueryErrorType;
using promql::QueryResult;
using promql::Scalar;
using promql::String;
using promql::Vector;
using promql::VectorElement;

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/crmscope-engine-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// A storage in a temporary directory and an engine over it; results rendered as text.
class Db {
 public:
  explicit Db(EngineOptions options = {}) {
    storage::Options opts;
    opts.path = dir_.path;
    std::string err;
    storage_ = storage::Storage::Open(opts, &err);
    REQUIRE_MESSAGE(storage_, err);
    engine_ = std::make_unique<Engine>(*storage_, options);
  }

  void Add(std::vector<LabelView> labels, const std::vector<Sample>& samples) {
    std::sort(labels.begin(), labels.end(),
              [](const LabelView& a, const LabelView& b) { return a.name < b.name; });
    storage::Appender app(storage_.get());
    app.Append(labels.data(), labels.size(), samples.data(), samples.size());
    std::string err;
    REQUIRE(app.Commit(&err));
    REQUIRE(app.stats().accepted == samples.size());
  }

  std::string Instant(std::string_view q, TimestampMs t, int64_t timeout_ms = 0) {
    return Show(engine_->InstantQuery(q, t, timeout_ms), t);
  }
  std::string Q(std::string_view q, TimestampMs t = 0) { return Instant(q, t); }
  std::string Range(std::string_view q, TimestampMs start, TimestampMs end, int64_t step) {
    return Show(engine_->RangeQuery(q, start, end, step), 0);
  }
  Engine& engine() { return *engine_; }
  storage::Storage& storage() { return *storage_; }

  // One line per series: labels, then the value (instant vector) or value@seconds points.
  static std::string Show(const QueryResult& r, TimestampMs eval_time) {
    if (r.error_type != QueryErrorType::kNone) return "error: " + r.error;
    std::string out;
    if (const auto* v = std::get_if<Vector>(&r.value)) {
      for (const VectorElement& e : *v) {
        out += LabelsToString(e.metric) + " " + GoFloat(e.v);
        if (e.t != eval_time) out += " @" + std::to_string(e.t);
        out += "\n";
      }
    } else if (const auto* m = std::get_if<Matrix>(&r.value)) {
      for (const MatrixSeries& s : *m) {
        out += LabelsToString(s.metric);
        for (const Sample& p : s.points) out += " " + GoFloat(p.v) + "@" + GoFloat(p.t / 1000.0);
        out += "\n";
      }
    } else if (const auto* s = std::get_if<Scalar>(&r.value)) {
      out = "scalar " + GoFloat(s->v) + "\n";
    } else if (const auto* str = std::get_if<String>(&r.value)) {
      out = "string " + str->v + "\n";
    }
    return out;
  }

 private:
  TempDir dir_;
  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<Engine> engine_;
};

}  // namespace crmscope::testing
