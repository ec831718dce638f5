#include "collector/promql/eval_evaluator.h"

#include <utility>

namespace crmscope::promql::eval {

void QueryContext::CheckDeadline() const {
  if (std::chrono::steady_clock::now() >= deadline) {
    throw EvalError{QueryErrorType::kTimeout, "query timed out in expression evaluation"};
  }
}

EvalValue Evaluator::Eval(Expr& e) {
  q_.CheckDeadline();
  if (q_.step_invariant.count(&e) != 0) {
    // A wrapped literal is evaluated like any literal, as Prometheus does.
    if (e.kind() == ExprKind::kNumberLiteral || e.kind() == ExprKind::kStringLiteral) {
      return EvalNode(e);
    }
    return EvalStepInvariant(e);
  }
  return EvalNode(e);
}

Matrix Evaluator::EvalToMatrix(Expr& e) {
  EvalValue v = Eval(e);
  if (Matrix* m = std::get_if<Matrix>(&v)) return std::move(*m);
  ThrowExecution("unexpected string value in expression evaluation");
}

EvalValue Evaluator::EvalNode(Expr& e) {
  switch (e.kind()) {
    case ExprKind::kNumberLiteral: return EvalNumber(e.As<NumberLiteral>()->val);
    case ExprKind::kStringLiteral: return String{start_, e.As<StringLiteral>()->val};
    case ExprKind::kParen: return Eval(*e.As<ParenExpr>()->expr);
    case ExprKind::kUnary: return EvalUnary(*e.As<UnaryExpr>());
    case ExprKind::kBinary: return EvalBinary(*e.As<BinaryExpr>());
    case ExprKind::kAggregate: return EvalAggregate(*e.As<AggregateExpr>());
    case ExprKind::kCall: return EvalCall(*e.As<Call>());
    case ExprKind::kVectorSelector:
      return EvalVectorSelector(*e.As<VectorSelector>(), nullptr, /*count_samples=*/true);
    case ExprKind::kMatrixSelector:
      if (start_ != end_) ThrowExecution("cannot do range evaluation of matrix selector");
      return EvalMatrixSelector(*e.As<MatrixSelector>());
    case ExprKind::kSubquery: return EvalSubquery(*e.As<SubqueryExpr>());
  }
  ThrowExecution("unhandled expression");
}

// A step-invariant subtree is evaluated once, at the first step, and its value repeated at
// every step; range vectors keep their own sample times.
Matrix Evaluator::EvalStepInvariant(Expr& e) {
  Evaluator once(q_, start_, start_, interval_);
  EvalValue value = once.EvalNode(e);
  Matrix* m = std::get_if<Matrix>(&value);
  if (!m) ThrowExecution("unexpected string value in step invariant evaluation");
  ExprKind kind = UnwrapParens(e).kind();
  if (kind == ExprKind::kMatrixSelector || kind == ExprKind::kSubquery) return std::move(*m);
  for (MatrixSeries& s : *m) {
    if (s.points.empty()) continue;
    double v = s.points.front().v;
    for (TimestampMs ts = start_ + interval_; ts <= end_; ts += interval_) {
      s.points.push_back({ts, v});
      if (++q_.current_samples > q_.max_samples) ThrowTooManySamples();
    }
  }
  return std::move(*m);
}

Matrix Evaluator::EvalNumber(double v) {
  std::vector<StepArg> none;
  SeriesBuilder builder;
  uint32_t scalar = builder.Intern(Labels{});
  return RunSteps(none, q_.current_samples, builder,
                  [&](TimestampMs, size_t, const std::vector<StepVector>&,
                      std::vector<StepOutput>& out) { out.push_back({scalar, v}); });
}

Matrix Evaluator::EvalUnary(UnaryExpr& u) {
  Matrix m = EvalToMatrix(*u.expr);
  if (u.op != ItemType::kSub) return m;
  for (MatrixSeries& s : m) {
    s.metric = WithoutMetricName(s.metric);
    for (Sample& p : s.points) p.v = -p.v;
  }
  if (ContainsSameLabelset(m)) ThrowExecution(kSameLabelsetError);
  return m;
}

// A subquery evaluates its expression at steps of its own resolution, aligned to multiples of
// the step, from the first such time after (start - offset - range) to (end - offset).
Matrix Evaluator::EvalSubquery(SubqueryExpr& sq) {
  int64_t offset = sq.offset_ms;
  int64_t step = sq.step_ms != 0 ? sq.step_ms : q_.default_subquery_step_ms;
  TimestampMs first = start_ - offset - sq.range_ms;
  TimestampMs sub_start = step * (first / step);
  if (sub_start < first) sub_start += step;
  // Offsets for @ were computed relative to the query's start; the subquery starts elsewhere.
  if (sub_start != start_) SetOffsetForAtModifier(sub_start, *sq.expr);
  Evaluator sub(q_, sub_start, end_ - offset, step);
  return sub.EvalToMatrix(*sq.expr);
}

std::vector<StepArg> Evaluator::EvalArgs(const std::vector<Expr*>& exprs) {
  std::vector<StepArg> args(exprs.size());
  for (size_t i = 0; i < exprs.size(); ++i) {
    args[i].expr = exprs[i];
    // Functions read string arguments from the syntax tree, as in Prometheus.
    if (exprs[i] && exprs[i]->Type() != ValueType::kString) args[i].matrix = EvalToMatrix(*exprs[i]);
  }
  return args;
}

Matrix Evaluator::RunSteps(std::vector<StepArg>& args, int64_t samples_before,
                           SeriesBuilder& builder, const StepFn& fn) {
  std::vector<StepVector> in(args.size());
  std::vector<std::vector<uint32_t>> next(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    next[i].assign(args[i].matrix.size(), 0);
    in[i].reserve(args[i].matrix.size());
  }
  int64_t held = q_.current_samples;  // inputs, and the outputs of the steps so far
  std::vector<StepOutput> out;
  size_t step = 0;
  for (TimestampMs ts = start_; ts <= end_; ts += interval_, ++step) {
    q_.CheckDeadline();
    q_.current_samples = held;
    for (size_t i = 0; i < args.size(); ++i) {
      in[i].clear();
      const Matrix& m = args[i].matrix;
      for (uint32_t si = 0; si < m.size(); ++si) {
        uint32_t& pos = next[i][si];
        if (pos >= m[si].points.size() || m[si].points[pos].t != ts) continue;
        if (q_.current_samples >= q_.max_samples) ThrowTooManySamples();
        TimestampMs t = args[i].sample_times.empty() ? ts : args[i].sample_times[si][pos];
        in[i].push_back({si, m[si].points[pos].v, t});
        ++pos;
        ++q_.current_samples;
      }
    }
    out.clear();
    fn(ts, step, in, out);
    for (const StepOutput& o : out) builder.Add(o.series, ts, o.v);
    q_.current_samples += static_cast<int64_t>(out.size());
    held += static_cast<int64_t>(out.size());
    if (q_.current_samples > q_.max_samples) ThrowTooManySamples();
  }
  Matrix result = builder.Take();
  int64_t total = 0;
  for (const MatrixSeries& s : result) total += static_cast<int64_t>(s.points.size());
  q_.current_samples = samples_before + total;
  return result;
}

}  // namespace crmscope::promql::eval
