// Function calls, as Prometheus 2.42's evaluator makes them: functions of instant vectors and
// scalars once per step over their evaluated arguments; functions of a range vector one series
// at a time, sliding the window over that series' samples step by step.
#include <algorithm>
#include <limits>

#include "collector/promql/eval_evaluator.h"
#include "collector/promql/eval_selectors.h"
#include "collector/promql/function_call.h"
#include "collector/promql/functions.h"
#include "collector/promql/functions_series.h"

namespace crmscope::promql::eval {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const std::string& StringOf(const Expr& e) {
  static const std::string kEmpty;
  const auto* s = UnwrapParens(const_cast<Expr&>(e)).As<StringLiteral>();
  return s ? s->val : kEmpty;
}

Value Invoke(const FunctionCallContext& ctx) {
  std::string error;
  Value result = CallFunction(ctx, &error);
  if (!error.empty()) ThrowExecution(std::move(error));
  return result;
}

// A range-vector function's value for the one series of ctx.range_arg.
bool ValueAt(const FunctionCallContext& ctx, SeriesValueFn value_of, double* value) {
  if (value_of == nullptr) {
    Value result = Invoke(ctx);
    const Vector* v = std::get_if<Vector>(&result);
    if (!v || v->empty()) return false;
    *value = v->front().v;
    return true;
  }
  std::string error;
  bool ok = value_of(ctx.range_arg->front().points, ctx, value, &error);
  if (!error.empty()) ThrowExecution(std::move(error));
  return ok;
}

}  // namespace

Matrix Evaluator::EvalCall(Call& c) {
  // A plain selector given to timestamp() must yield its samples' own times, which the
  // step-by-step evaluation of the argument would replace by the step's.
  if (c.func->name == "timestamp" && !c.args.empty()) {
    if (auto* vs = UnwrapParens(*c.args[0]).As<VectorSelector>()) return EvalTimestampOfSelector(c, *vs);
  }
  for (size_t i = 0; i < c.args.size(); ++i) {
    ExprKind kind = UnwrapParens(*c.args[i]).kind();
    if (kind == ExprKind::kMatrixSelector || kind == ExprKind::kSubquery) {
      return EvalRangeFunction(c, i);
    }
  }
  int64_t before = q_.current_samples;
  std::vector<Expr*> exprs;
  for (ExprPtr& arg : c.args) exprs.push_back(arg.get());
  return EvalInstantFunction(c, EvalArgs(exprs), before);
}

Matrix Evaluator::EvalTimestampOfSelector(Call& c, VectorSelector& vs) {
  int64_t before = q_.current_samples;
  std::vector<StepArg> args(1);
  args[0].expr = c.args[0].get();
  // Prometheus reads the selector inside the step loop, so its samples count only per step.
  args[0].matrix = EvalVectorSelector(vs, &args[0].sample_times, /*count_samples=*/false);
  return EvalInstantFunction(c, std::move(args), before);
}

Matrix Evaluator::EvalInstantFunction(Call& c, std::vector<StepArg> args,
                                      int64_t samples_before) {
  FunctionCallContext ctx;
  ctx.call = &c;
  ctx.args.resize(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    const Expr* e = args[i].expr;
    if (e == nullptr) continue;
    if (e->Type() == ValueType::kString) ctx.args[i] = String{start_, StringOf(*e)};
    if (e->Type() == ValueType::kVector) ctx.args[i] = Vector{};
  }
  SeriesBuilder builder;
  int64_t scalar_output = -1;
  return RunSteps(args, samples_before, builder, [&](TimestampMs ts, size_t,
                                                     const std::vector<StepVector>& in,
                                                     std::vector<StepOutput>& out) {
    ctx.ts_ms = ts;
    for (size_t i = 0; i < args.size(); ++i) {
      if (args[i].expr == nullptr) continue;
      ValueType type = args[i].expr->Type();
      if (type == ValueType::kScalar) {
        ctx.args[i] = Scalar{ts, in[i].empty() ? kNaN : in[i][0].v};
      } else if (type == ValueType::kVector) {
        // Reassigning the same elements each step reuses their label storage.
        Vector& v = std::get<Vector>(ctx.args[i]);
        v.resize(in[i].size());
        for (size_t j = 0; j < in[i].size(); ++j) {
          v[j].metric = args[i].matrix[in[i][j].series].metric;
          v[j].t = in[i][j].t;
          v[j].v = in[i][j].v;
        }
      }
    }
    Value result = Invoke(ctx);
    if (Vector* v = std::get_if<Vector>(&result)) {
      for (VectorElement& e : *v) out.push_back({builder.Intern(std::move(e.metric)), e.v});
    } else if (const Scalar* s = std::get_if<Scalar>(&result)) {
      if (scalar_output < 0) scalar_output = builder.Intern(Labels{});
      out.push_back({static_cast<uint32_t>(scalar_output), s->v});
    }
  });
}

Matrix Evaluator::EvalRangeFunction(Call& c, size_t range_arg) {
  Expr& arg = UnwrapParens(*c.args[range_arg]);
  std::unique_ptr<RangeSource> source;
  int64_t subquery_samples = 0;
  if (auto* sq = arg.As<SubqueryExpr>()) {
    q_.CheckDeadline();
    Matrix m = EvalSubquery(*sq);
    for (const MatrixSeries& s : m) subquery_samples += static_cast<int64_t>(s.points.size());
    // The subquery's windows end at its offset; with @, at the @ time relative to this start.
    int64_t offset = sq->timestamp_ms ? sq->original_offset_ms + (start_ - *sq->timestamp_ms)
                                      : sq->offset_ms;
    source = MatrixRangeSource(std::move(m), offset, sq->range_ms);
  } else {
    source = SelectorRangeSource(q_, *arg.As<MatrixSelector>());
  }
  std::vector<StepArg> args(c.args.size());
  for (size_t i = 0; i < c.args.size(); ++i) {
    if (i == range_arg) continue;
    args[i].expr = c.args[i].get();
    args[i].matrix = EvalToMatrix(*c.args[i]);
  }
  Matrix result;
  std::vector<bool> present(NumSteps(), false);
  RunRangeFunction(c, *source, args, range_arg, &result, &present);
  q_.current_samples -= subquery_samples;

  if (c.func->name == "absent_over_time") return AbsentOverTime(c, *source, present);
  if (ContainsSameLabelset(result)) ThrowExecution(kSameLabelsetError);
  return result;
}

// 1 at the steps where no series had a sample in its window, labelled from the selector (the
// labels come from the function, called with an empty range vector).
Matrix Evaluator::AbsentOverTime(Call& c, const RangeSource& source, const std::vector<bool>& present) {
  FunctionCallContext ctx;
  ctx.call = &c;
  ctx.args.resize(c.args.size());
  Matrix none;
  ctx.range_arg = &none;
  ctx.range_ms = source.range_ms;
  MatrixSeries absent;
  size_t step = 0;
  for (TimestampMs ts = start_; ts <= end_; ts += interval_, ++step) {
    if (present[step]) continue;
    ctx.ts_ms = ts;
    ctx.window_end_ms = ts - source.offset_ms;
    ctx.window_start_ms = ctx.window_end_ms - source.range_ms;
    Value v = Invoke(ctx);
    const Vector* vec = std::get_if<Vector>(&v);
    if (!vec || vec->empty()) continue;
    if (absent.points.empty()) absent.metric = vec->front().metric;
    absent.points.push_back({ts, vec->front().v});
  }
  Matrix out;
  if (!absent.points.empty()) out.push_back(std::move(absent));
  return out;
}

// The window of each step is [t - offset - range, t - offset]; the samples held in it count
// against max_samples as Prometheus's matrixIterSlice counts them. A series' result keeps its
// labels without __name__, except for last_over_time (which acts like an offset).
void Evaluator::RunRangeFunction(Call& c, RangeSource& source,
                                 const std::vector<StepArg>& args, size_t range_arg, Matrix* out,
                                 std::vector<bool>* present) {
  bool keep_name = KeepsMetricName(c.func->name);
  bool absent = c.func->name == "absent_over_time";
  // The function's value for one series, without the labels CallFunction would build per step.
  SeriesValueFn value_of = FindSeriesValueFn(c.func->name);
  FunctionCallContext ctx;
  ctx.call = &c;
  ctx.args.resize(c.args.size());
  ctx.range_ms = source.range_ms;
  Matrix window(1);
  ctx.range_arg = &window;
  int64_t held = 0;  // samples of the current window, counted in current_samples
  for (size_t i = 0; i < source.size(); ++i) {
    q_.CheckDeadline();
    q_.current_samples -= held;
    held = 0;
    const std::vector<Sample>& samples = source.samples(i);
    const Labels& labels = source.labels(i);
    window[0].metric = labels;
    MatrixSeries series{keep_name ? labels : WithoutMetricName(labels), {}};
    size_t lo = 0, hi = 0;
    size_t step = 0;
    for (TimestampMs ts = start_; ts <= end_; ts += interval_, ++step) {
      TimestampMs maxt = ts - source.offset_ms;
      TimestampMs mint = maxt - source.range_ms;
      size_t old_hi = hi;
      while (lo < samples.size() && samples[lo].t < mint) ++lo;
      hi = std::max(hi, lo);
      while (hi < samples.size() && samples[hi].t <= maxt) ++hi;
      int64_t count = static_cast<int64_t>(hi - lo);
      q_.current_samples += count - held;
      held = count;
      if (hi > std::max(lo, old_hi) && q_.current_samples > q_.max_samples) ThrowTooManySamples();
      if (count == 0) continue;
      if (absent) {
        (*present)[step] = true;
        continue;
      }
      for (size_t j = 0; j < args.size(); ++j) {
        if (j == range_arg || args[j].expr == nullptr) continue;
        const Matrix& m = args[j].matrix;
        bool has = !m.empty() && step < m[0].points.size();
        ctx.args[j] = Scalar{ts, has ? m[0].points[step].v : kNaN};
      }
      window[0].points.assign(samples.begin() + static_cast<std::ptrdiff_t>(lo),
                              samples.begin() + static_cast<std::ptrdiff_t>(hi));
      ctx.ts_ms = ts;
      ctx.window_start_ms = mint;
      ctx.window_end_ms = maxt;
      double value = 0;
      if (ValueAt(ctx, value_of, &value)) series.points.push_back({ts, value});
    }
    if (series.points.empty()) continue;
    int64_t n = static_cast<int64_t>(series.points.size());
    if (q_.current_samples + n > q_.max_samples) ThrowTooManySamples();
    q_.current_samples += n;
    out->push_back(std::move(series));
  }
  q_.current_samples -= held;
}

}  // namespace crmscope::promql::eval
