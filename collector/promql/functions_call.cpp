#include <algorithm>
#include <cmath>
#include <string_view>
#include <utility>
#include <unordered_map>
#include <vector>

#include "collector/promql/functions.h"
#include "collector/promql/functions_impl.h"

namespace crmscope::promql {

namespace {

const Vector kEmptyVector;
const std::string kEmptyString;

using ImplTable = std::unordered_map<std::string_view, FunctionImpl>;
using SeriesTable = std::unordered_map<std::string_view, SeriesValueFn>;

const ImplTable& Impls() {
  static const ImplTable table = [] {
    ImplTable t;
    for (const FunctionImplEntry* group : {kMathFunctions, kDateFunctions, kOverTimeFunctions,
                                           kLabelFunctions, kHistogramFunctions, kMiscFunctions}) {
      for (const FunctionImplEntry* e = group; e->impl != nullptr; ++e) t.emplace(e->name, e->impl);
    }
    return t;
  }();
  return table;
}

const SeriesTable& SeriesFns() {
  static const SeriesTable table = [] {
    SeriesTable t;
    for (const SeriesFunctionEntry* group : {kRangeSeriesFunctions, kOverTimeSeriesFunctions}) {
      for (const SeriesFunctionEntry* e = group; e->value_of != nullptr; ++e) {
        t.emplace(e->name, e->value_of);
      }
    }
    return t;
  }();
  return table;
}

// A range-vector function evaluated series by series, as Prometheus's engine calls one with a
// matrix argument.
Value EvalPerSeries(const FunctionCallContext& ctx, std::string* error, SeriesValueFn value_of,
                    bool keep_name) {
  Vector out;
  if (ctx.range_arg == nullptr) return out;
  out.reserve(ctx.range_arg->size());
  for (const MatrixSeries& s : *ctx.range_arg) {
    if (s.points.empty()) continue;
    double v = 0;
    if (!value_of(s.points, ctx, &v, error)) {
      if (!error->empty()) return {};
      continue;
    }
    out.push_back({keep_name ? s.metric : DropMetricName(s.metric), ctx.ts_ms, v});
  }
  return out;
}

// Prometheus checks every step's function result (and a range function's whole output) for two
// series with one label set, which dropping __name__ or rewriting labels can create.
bool ContainsSameLabelset(const Vector& v) {
  if (v.size() < 2) return false;
  std::vector<std::pair<uint64_t, size_t>> hashes;
  hashes.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) hashes.emplace_back(HashLabels(v[i].metric), i);
  std::sort(hashes.begin(), hashes.end());
  for (size_t i = 1; i < hashes.size(); ++i) {
    for (size_t j = i; j > 0 && hashes[j - 1].first == hashes[i].first; --j) {
      if (v[hashes[j - 1].second].metric == v[hashes[i].second].metric) return true;
    }
  }
  return false;
}

// Whether the inputs carry more than one metric name: only then can dropping the name make two
// of them equal, since the inputs themselves are distinct series.
bool SeveralNames(const FunctionCallContext& ctx) {
  std::string_view first;
  bool seen = false;
  auto differs = [&](const Labels& l) {
    std::string_view name = MetricName(l);
    if (!seen) {
      first = name;
      seen = true;
      return false;
    }
    return name != first;
  };
  if (ctx.range_arg != nullptr) {
    for (const MatrixSeries& s : *ctx.range_arg) {
      if (differs(s.metric)) return true;
    }
  }
  for (const Value& arg : ctx.args) {
    if (const Vector* v = std::get_if<Vector>(&arg)) {
      for (const VectorElement& e : *v) {
        if (differs(e.metric)) return true;
      }
    }
  }
  return false;
}

// Hashing every result at every step would cost a range query over many series dearly, so the
// check runs only where a collision is possible: after rewriting labels, or after dropping the
// names of inputs that have several.
bool MayCollide(std::string_view function, const FunctionCallContext& ctx) {
  if (function == "label_replace" || function == "label_join") return true;
  if (function == "sort" || function == "sort_desc" || KeepsMetricName(function)) return false;
  return SeveralNames(ctx);
}

}  // namespace

Labels DropMetricName(const Labels& labels) {
  Labels out;
  out.reserve(labels.size());
  for (const Label& l : labels) {
    if (l.name != kMetricNameLabel) out.push_back(l);
  }
  return out;
}

const Vector& VectorArg(const FunctionCallContext& ctx, size_t i) {
  if (i >= ctx.args.size()) return kEmptyVector;
  const Vector* v = std::get_if<Vector>(&ctx.args[i]);
  return v ? *v : kEmptyVector;
}

double ScalarArg(const FunctionCallContext& ctx, size_t i) {
  if (i >= ctx.args.size()) return std::nan("");
  const Scalar* s = std::get_if<Scalar>(&ctx.args[i]);
  return s ? s->v : std::nan("");
}

const std::string& StringArg(const FunctionCallContext& ctx, size_t i) {
  if (i >= ctx.args.size()) return kEmptyString;
  const String* s = std::get_if<String>(&ctx.args[i]);
  return s ? s->v : kEmptyString;
}

double GoMax(double a, double b) {
  if (std::isinf(a) && a > 0) return a;
  if (std::isinf(b) && b > 0) return b;
  if (std::isnan(a) || std::isnan(b)) return std::nan("");
  if (a == 0 && b == 0) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}

double GoMin(double a, double b) {
  if (std::isinf(a) && a < 0) return a;
  if (std::isinf(b) && b < 0) return b;
  if (std::isnan(a) || std::isnan(b)) return std::nan("");
  if (a == 0 && b == 0) return std::signbit(a) ? a : b;
  return a < b ? a : b;
}

SeriesValueFn FindSeriesValueFn(std::string_view name) {
  auto it = SeriesFns().find(name);
  return it == SeriesFns().end() ? nullptr : it->second;
}

bool KeepsMetricName(std::string_view name) { return name == "last_over_time"; }

Value CallFunction(const FunctionCallContext& ctx, std::string* error) {
  std::string_view name = ctx.call && ctx.call->func ? ctx.call->func->name : "";
  std::string err;
  Value result;
  if (SeriesValueFn value_of = FindSeriesValueFn(name)) {
    result = EvalPerSeries(ctx, &err, value_of, KeepsMetricName(name));
  } else if (auto it = Impls().find(name); it != Impls().end()) {
    result = it->second(ctx, &err);
  } else {
    *error = "unsupported function: " + std::string(name);
    return {};
  }
  if (!err.empty()) {
    *error = std::move(err);
    return {};
  }
  const Vector* v = std::get_if<Vector>(&result);
  if (v != nullptr && v->size() > 1 && MayCollide(name, ctx) && ContainsSameLabelset(*v)) {
    *error = "vector cannot contain metrics with the same labelset";
    return {};
  }
  return result;
}

}  // namespace crmscope::promql
