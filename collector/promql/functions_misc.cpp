// Conversions between scalars and vectors (scalar, vector, time) and sort/sort_desc.
#include <algorithm>
#include <cmath>
#include <vector>

#include "collector/promql/functions_impl.h"

namespace crmscope::promql {

namespace {

// NaN unless the vector holds exactly one sample.
Value ScalarFn(const FunctionCallContext& ctx, std::string*) {
  const Vector& in = VectorArg(ctx, 0);
  return Scalar{ctx.ts_ms, in.size() == 1 ? in[0].v : std::nan("")};
}

Value VectorFn(const FunctionCallContext& ctx, std::string*) {
  return Vector{{Labels{}, ctx.ts_ms, ScalarArg(ctx, 0)}};
}

Value Time(const FunctionCallContext& ctx, std::string*) {
  return Scalar{ctx.ts_ms, static_cast<double>(ctx.ts_ms) / 1000};
}

// Prometheus sorts with Go's sort.Sort, which for vectors of up to 12 samples is an insertion
// sort: equal values keep their order and NaNs end up last, in reverse order. That is what this
// reproduces, for any size (Go's pdqsort may order ties differently above 12 samples).
Value SortBy(const FunctionCallContext& ctx, bool descending) {
  const Vector& in = VectorArg(ctx, 0);
  Vector out;
  out.reserve(in.size());
  for (const VectorElement& e : in) {
    if (!std::isnan(e.v)) out.push_back({e.metric, ctx.ts_ms, e.v});
  }
  std::stable_sort(out.begin(), out.end(), [descending](const VectorElement& a, const VectorElement& b) {
    return descending ? a.v > b.v : a.v < b.v;
  });
  for (auto it = in.rbegin(); it != in.rend(); ++it) {
    if (std::isnan(it->v)) out.push_back({it->metric, ctx.ts_ms, it->v});
  }
  return out;
}

Value Sort(const FunctionCallContext& ctx, std::string*) { return SortBy(ctx, false); }
Value SortDesc(const FunctionCallContext& ctx, std::string*) { return SortBy(ctx, true); }

}  // namespace

const FunctionImplEntry kMiscFunctions[] = {
    {"scalar", ScalarFn},
    {"vector", VectorFn},
    {"time", Time},
    {"sort", Sort},
    {"sort_desc", SortDesc},
    {"", nullptr},
};

}  // namespace crmscope::promql
