// The *_over_time aggregations of each series' samples in the window, and absent_over_time.
#include <cmath>
#include <vector>

#include "collector/promql/functions_impl.h"
#include "collector/promql/functions_labels.h"
#include "collector/promql/functions_quantile.h"

namespace crmscope::promql {

namespace {

using Points = std::vector<Sample>;

// The running mean of Prometheus 2.42, compensated; once the mean is infinite, further finite
// samples (or an infinity of the same sign) leave it alone, where the update would give NaN.
bool AvgValue(const Points& p, const FunctionCallContext&, double* v, std::string*) {
  double mean = 0, count = 0, c = 0;
  for (const Sample& s : p) {
    ++count;
    if (std::isinf(mean)) {
      if (std::isinf(s.v) && (mean > 0) == (s.v > 0)) continue;
      if (!std::isinf(s.v) && !std::isnan(s.v)) continue;
    }
    KahanSumInc(s.v / count - mean / count, mean, c);
  }
  *v = std::isinf(mean) ? mean : mean + c;
  return true;
}

bool SumValue(const Points& p, const FunctionCallContext&, double* v, std::string*) {
  double sum = 0, c = 0;
  for (const Sample& s : p) KahanSumInc(s.v, sum, c);
  *v = std::isinf(sum) ? sum : sum + c;
  return true;
}

bool CountValue(const Points& p, const FunctionCallContext&, double* v, std::string*) {
  *v = static_cast<double>(p.size());
  return true;
}

// A NaN first sample is replaced by any later one; later NaNs are skipped.
bool MaxValue(const Points& p, const FunctionCallContext&, double* v, std::string*) {
  double max = p[0].v;
  for (const Sample& s : p) {
    if (s.v > max || std::isnan(max)) max = s.v;
  }
  *v = max;
  return true;
}

bool MinValue(const Points& p, const FunctionCallContext&, double* v, std::string*) {
  double min = p[0].v;
  for (const Sample& s : p) {
    if (s.v < min || std::isnan(min)) min = s.v;
  }
  *v = min;
  return true;
}

// Welford's online variance with compensated sums, as Prometheus computes it.
double Variance(const Points& p) {
  double count = 0, mean = 0, c_mean = 0, aux = 0, c_aux = 0;
  for (const Sample& s : p) {
    ++count;
    double delta = s.v - (mean + c_mean);
    KahanSumInc(delta / count, mean, c_mean);
    KahanSumInc(delta * (s.v - (mean + c_mean)), aux, c_aux);
  }
  return (aux + c_aux) / count;
}

bool StdvarValue(const Points& p, const FunctionCallContext&, double* v, std::string*) {
  *v = Variance(p);
  return true;
}

bool StddevValue(const Points& p, const FunctionCallContext&, double* v, std::string*) {
  *v = std::sqrt(Variance(p));
  return true;
}

bool QuantileValue(const Points& p, const FunctionCallContext& ctx, double* v, std::string*) {
  std::vector<double> values;
  values.reserve(p.size());
  for (const Sample& s : p) values.push_back(s.v);
  *v = Quantile(ScalarArg(ctx, 0), values);
  return true;
}

bool LastValue(const Points& p, const FunctionCallContext&, double* v, std::string*) {
  *v = p.back().v;
  return true;
}

bool PresentValue(const Points&, const FunctionCallContext&, double* v, std::string*) {
  *v = 1;
  return true;
}

// 1 with the labels of the selector's equality matchers when no series has a sample in the
// window, else nothing.
Value AbsentOverTime(const FunctionCallContext& ctx, std::string*) {
  if (ctx.range_arg != nullptr) {
    for (const MatrixSeries& s : *ctx.range_arg) {
      if (!s.points.empty()) return Vector{};
    }
  }
  const Expr* arg = ctx.call != nullptr && !ctx.call->args.empty() ? ctx.call->args[0].get() : nullptr;
  return Vector{{LabelsForAbsent(arg), ctx.ts_ms, 1}};
}

}  // namespace

const SeriesFunctionEntry kOverTimeSeriesFunctions[] = {
    {"avg_over_time", AvgValue},
    {"sum_over_time", SumValue},
    {"count_over_time", CountValue},
    {"max_over_time", MaxValue},
    {"min_over_time", MinValue},
    {"stdvar_over_time", StdvarValue},
    {"stddev_over_time", StddevValue},
    {"quantile_over_time", QuantileValue},
    {"last_over_time", LastValue},
    {"present_over_time", PresentValue},
    {"", nullptr},
};

const FunctionImplEntry kOverTimeFunctions[] = {
    {"absent_over_time", AbsentOverTime},
    {"", nullptr},
};

}  // namespace crmscope::promql
