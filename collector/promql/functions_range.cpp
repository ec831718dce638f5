// Functions of a range vector that look at how a series moves: rate/increase/delta with
// Prometheus 2.42's extrapolation, irate/idelta, deriv/predict_linear (least squares),
// holt_winters, changes and resets.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "collector/promql/functions_impl.h"

namespace crmscope::promql {

namespace {

using Points = std::vector<Sample>;

// Prometheus 2.42's extrapolatedRate. The sample-to-boundary gaps are extrapolated over when
// they are below 1.1 average sample intervals (the series is assumed to cover the window there),
// else by half an interval (the series is assumed to start or end inside the window). For
// counters the start is first pulled in to where the counter would have been zero, and that
// happens before the threshold test, as in 2.42 (later versions swapped the two).
bool ExtrapolatedRate(const Points& p, const FunctionCallContext& ctx, bool is_counter,
                      bool is_rate, double* value) {
  if (p.size() < 2) return false;
  double result = p.back().v - p.front().v;
  if (is_counter) {
    for (size_t i = 1; i < p.size(); ++i) {
      if (p[i].v < p[i - 1].v) result += p[i - 1].v;
    }
  }
  double duration_to_start = static_cast<double>(p.front().t - ctx.window_start_ms) / 1000;
  double duration_to_end = static_cast<double>(ctx.window_end_ms - p.back().t) / 1000;
  double sampled_interval = static_cast<double>(p.back().t - p.front().t) / 1000;
  double average_between = sampled_interval / static_cast<double>(p.size() - 1);

  if (is_counter && result > 0 && p.front().v >= 0) {
    double duration_to_zero = sampled_interval * (p.front().v / result);
    if (duration_to_zero < duration_to_start) duration_to_start = duration_to_zero;
  }
  double threshold = average_between * 1.1;
  double extrapolate_to = sampled_interval;
  extrapolate_to += duration_to_start < threshold ? duration_to_start : average_between / 2;
  extrapolate_to += duration_to_end < threshold ? duration_to_end : average_between / 2;
  double factor = extrapolate_to / sampled_interval;
  if (is_rate) factor /= static_cast<double>(ctx.range_ms) / 1000;
  *value = result * factor;
  return true;
}

bool RateValue(const Points& p, const FunctionCallContext& ctx, double* v, std::string*) {
  return ExtrapolatedRate(p, ctx, true, true, v);
}
bool IncreaseValue(const Points& p, const FunctionCallContext& ctx, double* v, std::string*) {
  return ExtrapolatedRate(p, ctx, true, false, v);
}
bool DeltaValue(const Points& p, const FunctionCallContext& ctx, double* v, std::string*) {
  return ExtrapolatedRate(p, ctx, false, false, v);
}

// irate/idelta: the last two samples only; irate treats a drop as a counter reset.
bool InstantValue(const Points& p, bool is_rate, double* value) {
  if (p.size() < 2) return false;
  const Sample& last = p[p.size() - 1];
  const Sample& previous = p[p.size() - 2];
  double result = is_rate && last.v < previous.v ? last.v : last.v - previous.v;
  int64_t interval_ms = last.t - previous.t;
  if (interval_ms == 0) return false;
  if (is_rate) result /= static_cast<double>(interval_ms) / 1000;
  *value = result;
  return true;
}

bool IrateValue(const Points& p, const FunctionCallContext&, double* v, std::string*) {
  return InstantValue(p, true, v);
}
bool IdeltaValue(const Points& p, const FunctionCallContext&, double* v, std::string*) {
  return InstantValue(p, false, v);
}

// Least squares with compensated sums and x in seconds relative to `intercept_ms`, as
// Prometheus's linearRegression; a constant series has slope 0 exactly (NaN if infinite).
void LinearRegression(const Points& p, int64_t intercept_ms, double* slope, double* intercept) {
  double n = 0, sum_x = 0, c_x = 0, sum_y = 0, c_y = 0, sum_xy = 0, c_xy = 0, sum_x2 = 0,
         c_x2 = 0;
  double init_y = p[0].v;
  bool const_y = true;
  for (size_t i = 0; i < p.size(); ++i) {
    if (const_y && i > 0 && p[i].v != init_y) const_y = false;
    n += 1.0;
    double x = static_cast<double>(p[i].t - intercept_ms) / 1e3;
    KahanSumInc(x, sum_x, c_x);
    KahanSumInc(p[i].v, sum_y, c_y);
    KahanSumInc(x * p[i].v, sum_xy, c_xy);
    KahanSumInc(x * x, sum_x2, c_x2);
  }
  if (const_y) {
    *slope = std::isinf(init_y) ? std::nan("") : 0;
    *intercept = std::isinf(init_y) ? std::nan("") : init_y;
    return;
  }
  sum_x += c_x;
  sum_y += c_y;
  sum_xy += c_xy;
  sum_x2 += c_x2;
  double cov_xy = sum_xy - sum_x * sum_y / n;
  double var_x = sum_x2 - sum_x * sum_x / n;
  *slope = cov_xy / var_x;
  *intercept = sum_y / n - *slope * sum_x / n;
}

// Regression around the first sample's time, which keeps x small (Prometheus issue 2674).
bool DerivValue(const Points& p, const FunctionCallContext&, double* v, std::string*) {
  if (p.size() < 2) return false;
  double intercept = 0;
  LinearRegression(p, p[0].t, v, &intercept);
  return true;
}

bool PredictLinearValue(const Points& p, const FunctionCallContext& ctx, double* v,
                        std::string*) {
  if (p.size() < 2) return false;
  double slope = 0, intercept = 0;
  LinearRegression(p, ctx.ts_ms, &slope, &intercept);
  *v = slope * ScalarArg(ctx, 1) + intercept;
  return true;
}

// Go's %f: six decimals, and NaN/+Inf/-Inf spelled as Go spells them.
std::string GoFormatF(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[512];
  std::snprintf(buf, sizeof buf, "%f", v);
  return buf;
}

// Double exponential smoothing. The factors are checked for every series (so an empty range
// vector raises no error), before the two-sample minimum, as in Prometheus.
bool HoltWintersValue(const Points& p, const FunctionCallContext& ctx, double* v,
                      std::string* error) {
  double sf = ScalarArg(ctx, 1), tf = ScalarArg(ctx, 2);
  if (sf <= 0 || sf >= 1) {
    *error = "invalid smoothing factor. Expected: 0 < sf < 1, got: " + GoFormatF(sf);
    return false;
  }
  if (tf <= 0 || tf >= 1) {
    *error = "invalid trend factor. Expected: 0 < tf < 1, got: " + GoFormatF(tf);
    return false;
  }
  if (p.size() < 2) return false;
  double s0 = 0, s1 = p[0].v, b = p[1].v - p[0].v;
  for (size_t i = 1; i < p.size(); ++i) {
    double x = sf * p[i].v;
    // The trend starts as the first difference and is then smoothed with tf.
    if (i > 1) b = tf * (s1 - s0) + (1 - tf) * b;
    double y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  *v = s1;
  return true;
}

bool ChangesValue(const Points& p, const FunctionCallContext&, double* v, std::string*) {
  int changes = 0;
  for (size_t i = 1; i < p.size(); ++i) {
    bool both_nan = std::isnan(p[i].v) && std::isnan(p[i - 1].v);
    if (p[i].v != p[i - 1].v && !both_nan) ++changes;
  }
  *v = changes;
  return true;
}

bool ResetsValue(const Points& p, const FunctionCallContext&, double* v, std::string*) {
  int resets = 0;
  for (size_t i = 1; i < p.size(); ++i) {
    if (p[i].v < p[i - 1].v) ++resets;
  }
  *v = resets;
  return true;
}

}  // namespace

const SeriesFunctionEntry kRangeSeriesFunctions[] = {
    {"rate", RateValue},
    {"increase", IncreaseValue},
    {"delta", DeltaValue},
    {"irate", IrateValue},
    {"idelta", IdeltaValue},
    {"deriv", DerivValue},
    {"predict_linear", PredictLinearValue},
    {"holt_winters", HoltWintersValue},
    {"changes", ChangesValue},
    {"resets", ResetsValue},
    {"", nullptr},
};

}  // namespace crmscope::promql
