// Elementwise functions of an instant vector: each sample's value mapped, __name__ dropped,
// as Prometheus 2.42's simpleFunc does.
#include <cmath>
#include <utility>

#include "collector/promql/functions.h"
#include "collector/promql/functions_impl.h"

namespace crmscope::promql {

namespace {

template <double (*F)(double)>
Value Elementwise(const FunctionCallContext& ctx, std::string*) {
  const Vector& in = VectorArg(ctx, 0);
  Vector out;
  out.reserve(in.size());
  for (const VectorElement& e : in) out.push_back({DropMetricName(e.metric), ctx.ts_ms, F(e.v)});
  return out;
}

double Abs(double v) { return std::fabs(v); }
double Ceil(double v) { return std::ceil(v); }
double Floor(double v) { return std::floor(v); }
double Exp(double v) { return std::exp(v); }
double Sqrt(double v) { return std::sqrt(v); }
double Ln(double v) { return std::log(v); }
double Log2(double v) { return std::log2(v); }
double Log10(double v) { return std::log10(v); }

}  // namespace

FunctionImpl FindMathFunction(std::string_view name) {
  static const std::pair<std::string_view, FunctionImpl> kTable[] = {
      {"abs", Elementwise<Abs>},     {"ceil", Elementwise<Ceil>}, {"floor", Elementwise<Floor>},
      {"exp", Elementwise<Exp>},     {"sqrt", Elementwise<Sqrt>}, {"ln", Elementwise<Ln>},
      {"log2", Elementwise<Log2>},   {"log10", Elementwise<Log10>},
  };
  for (const auto& [n, f] : kTable) {
    if (n == name) return f;
  }
  return nullptr;
}

}  // namespace crmscope::promql
