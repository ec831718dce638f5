// Functions that map each sample of an instant vector on its own, dropping __name__ as
// Prometheus 2.42's simpleFunc does, plus pi().
#include <cmath>
#include <numbers>

#include "collector/promql/functions_impl.h"

namespace crmscope::promql {

namespace {

template <typename F>
Vector MapValues(const FunctionCallContext& ctx, F f) {
  const Vector& in = VectorArg(ctx, 0);
  Vector out;
  out.reserve(in.size());
  for (const VectorElement& e : in) out.push_back({DropMetricName(e.metric), ctx.ts_ms, f(e.v)});
  return out;
}

template <double (*F)(double)>
Value Elementwise(const FunctionCallContext& ctx, std::string*) {
  return MapValues(ctx, F);
}

double Abs(double v) { return std::fabs(v); }
double Ceil(double v) { return std::ceil(v); }
double Floor(double v) { return std::floor(v); }
double Exp(double v) { return std::exp(v); }
double Sqrt(double v) { return std::sqrt(v); }
double Ln(double v) { return std::log(v); }
// Go derives log2 and log10 from its natural log (exact powers of two aside) rather than calling
// dedicated routines, with 1/ln2 and 1/ln10 rounded once from exact constants (dividing in
// double would be an ulp off); doing the same keeps the last bit equal to Prometheus's.
constexpr double kInvLn2 = 1.4426950408889634;
constexpr double kInvLn10 = 0.4342944819032518;
double Log2(double v) {
  int exp = 0;
  double frac = std::frexp(v, &exp);
  if (frac == 0.5) return exp - 1;
  return std::log(frac) * kInvLn2 + exp;
}
double Log10(double v) { return std::log(v) * kInvLn10; }
double Sin(double v) { return std::sin(v); }
double Cos(double v) { return std::cos(v); }
double Tan(double v) { return std::tan(v); }
double Asin(double v) { return std::asin(v); }
double Acos(double v) { return std::acos(v); }
double Atan(double v) { return std::atan(v); }
double Sinh(double v) { return std::sinh(v); }
double Cosh(double v) { return std::cosh(v); }
double Tanh(double v) { return std::tanh(v); }
double Asinh(double v) { return std::asinh(v); }
double Acosh(double v) { return std::acosh(v); }
double Atanh(double v) { return std::atanh(v); }
// Multiplication before division, in Prometheus's order, so results round as Prometheus's do.
double Rad(double v) { return v * std::numbers::pi / 180; }
double Deg(double v) { return v * 180 / std::numbers::pi; }
// Zero and NaN map to themselves (-0 stays -0), as in Prometheus.
double Sgn(double v) { return v < 0 ? -1 : v > 0 ? 1 : v; }

// clamp() with max < min returns nothing, as in Prometheus.
Value Clamp(const FunctionCallContext& ctx, std::string*) {
  double min = ScalarArg(ctx, 1), max = ScalarArg(ctx, 2);
  if (max < min) return Vector{};
  return MapValues(ctx, [&](double v) { return GoMax(min, GoMin(max, v)); });
}

Value ClampMax(const FunctionCallContext& ctx, std::string*) {
  double max = ScalarArg(ctx, 1);
  return MapValues(ctx, [&](double v) { return GoMin(max, v); });
}

Value ClampMin(const FunctionCallContext& ctx, std::string*) {
  double min = ScalarArg(ctx, 1);
  return MapValues(ctx, [&](double v) { return GoMax(min, v); });
}

// Ties round up; Prometheus multiplies by the inverse of to_nearest because that loses less
// precision than dividing by it, and the results must agree with its to the last bit.
Value Round(const FunctionCallContext& ctx, std::string*) {
  double to_nearest = ctx.args.size() >= 2 ? ScalarArg(ctx, 1) : 1.0;
  double inverse = 1.0 / to_nearest;
  return MapValues(ctx, [&](double v) { return std::floor(v * inverse + 0.5) / inverse; });
}

// The evaluator hands a vector selector's samples with their own timestamps (Prometheus's
// special case for timestamp()), any other argument's with the step's time.
Value Timestamp(const FunctionCallContext& ctx, std::string*) {
  const Vector& in = VectorArg(ctx, 0);
  Vector out;
  out.reserve(in.size());
  for (const VectorElement& e : in) {
    out.push_back({DropMetricName(e.metric), ctx.ts_ms, static_cast<double>(e.t) / 1000});
  }
  return out;
}

Value Pi(const FunctionCallContext& ctx, std::string*) { return Scalar{ctx.ts_ms, std::numbers::pi}; }

}  // namespace

const FunctionImplEntry kMathFunctions[] = {
    {"abs", Elementwise<Abs>},
    {"ceil", Elementwise<Ceil>},
    {"floor", Elementwise<Floor>},
    {"exp", Elementwise<Exp>},
    {"sqrt", Elementwise<Sqrt>},
    {"ln", Elementwise<Ln>},
    {"log2", Elementwise<Log2>},
    {"log10", Elementwise<Log10>},
    {"sin", Elementwise<Sin>},
    {"cos", Elementwise<Cos>},
    {"tan", Elementwise<Tan>},
    {"asin", Elementwise<Asin>},
    {"acos", Elementwise<Acos>},
    {"atan", Elementwise<Atan>},
    {"sinh", Elementwise<Sinh>},
    {"cosh", Elementwise<Cosh>},
    {"tanh", Elementwise<Tanh>},
    {"asinh", Elementwise<Asinh>},
    {"acosh", Elementwise<Acosh>},
    {"atanh", Elementwise<Atanh>},
    {"rad", Elementwise<Rad>},
    {"deg", Elementwise<Deg>},
    {"sgn", Elementwise<Sgn>},
    {"clamp", Clamp},
    {"clamp_max", ClampMax},
    {"clamp_min", ClampMin},
    {"round", Round},
    {"timestamp", Timestamp},
    {"pi", Pi},
    {"", nullptr},
};

}  // namespace crmscope::promql
