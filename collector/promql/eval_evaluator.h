// The evaluator: Prometheus 2.42's promql evaluator, which evaluates each node of the tree once
// for all the steps of a query (or of a subquery) and returns a matrix of one point per step
// per series; instant queries are range evaluations of one step.
//
// Nodes that combine instant vectors (operators, aggregations, functions) run step by step over
// their evaluated arguments as Prometheus's rangeEval does, but refer to input series by index
// instead of copying label sets per step, and cache each output series' labels per input
// series, so a step allocates nothing per sample.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include "collector/promql/ast.h"
#include "collector/promql/eval_error.h"
#include "collector/promql/eval_labels.h"
#include "collector/promql/eval_preprocess.h"
#include "collector/promql/value.h"

namespace crmscope::storage {
class Storage;
}

namespace crmscope::promql::eval {

// What all evaluators of one query share.
struct QueryContext {
  const storage::Storage* storage = nullptr;
  int64_t lookback_delta_ms = 0;
  int64_t max_samples = 0;
  int64_t default_subquery_step_ms = 0;
  std::chrono::steady_clock::time_point deadline;
  // Samples held in memory, counted where Prometheus counts them, against max_samples.
  int64_t current_samples = 0;
  std::unordered_set<const Expr*> step_invariant;
  std::unordered_map<const VectorSelector*, SelectRange> select_ranges;

  // Throws "query timed out in expression evaluation" past the deadline.
  void CheckDeadline() const;
};

// A node's value over the steps: a Matrix for instant vectors and scalars (a scalar is one
// series without labels), and for range vectors; a String for string literals.
using EvalValue = std::variant<Matrix, String>;

// One series' sample at one step, as an index into the argument's matrix.
struct StepSample {
  uint32_t series;
  double v;
  TimestampMs t;  // the sample's time: the step's, except for timestamp()'s selector
};
using StepVector = std::vector<StepSample>;

// A value a step function produces: a point for the node's output series `series`.
struct StepOutput {
  uint32_t series;
  double v;
};

// An evaluated argument of a step-by-step node.
struct StepArg {
  const Expr* expr = nullptr;  // null: no argument in this slot
  Matrix matrix;
  // Only for timestamp() of a selector: each point's sample time, parallel to the points.
  std::vector<std::vector<TimestampMs>> sample_times;
};

// The series of a range-vector argument, one at a time, with the samples of each (stale
// markers removed) and the offset and range of its windows.
struct RangeSource;

class Evaluator {
 public:
  Evaluator(QueryContext& q, TimestampMs start, TimestampMs end, int64_t interval)
      : q_(q), start_(start), end_(end), interval_(interval) {}

  EvalValue Eval(Expr& e);
  Matrix EvalToMatrix(Expr& e);

  TimestampMs start() const { return start_; }
  size_t NumSteps() const {
    return end_ < start_ ? 0 : static_cast<size_t>((end_ - start_) / interval_) + 1;
  }

 private:
  using StepFn = std::function<void(TimestampMs ts, size_t step, const std::vector<StepVector>& in,
                                    std::vector<StepOutput>& out)>;

  EvalValue EvalNode(Expr& e);
  Matrix EvalStepInvariant(Expr& e);
  Matrix EvalNumber(double v);
  Matrix EvalUnary(UnaryExpr& u);
  Matrix EvalSubquery(SubqueryExpr& sq);

  // eval_selectors.cpp
  Matrix EvalVectorSelector(VectorSelector& vs, std::vector<std::vector<TimestampMs>>* sample_times,
                            bool count_samples);
  Matrix EvalMatrixSelector(MatrixSelector& ms);

  // eval_binary.cpp
  Matrix EvalBinary(BinaryExpr& b);
  Matrix EvalScalarBinary(BinaryExpr& b);
  Matrix EvalVectorScalarBinary(BinaryExpr& b, bool scalar_on_left);
  Matrix EvalVectorBinary(BinaryExpr& b);
  Matrix EvalSetOperation(BinaryExpr& b);

  // eval_aggregate.cpp
  Matrix EvalAggregate(AggregateExpr& a);

  // eval_call.cpp
  Matrix EvalCall(Call& c);
  Matrix EvalTimestampOfSelector(Call& c, VectorSelector& vs);
  Matrix EvalInstantFunction(Call& c, std::vector<StepArg> args, int64_t samples_before);
  Matrix EvalRangeFunction(Call& c, size_t range_arg);
  Matrix AbsentOverTime(Call& c, const RangeSource& source, const std::vector<bool>& present);
  void RunRangeFunction(Call& c, RangeSource& source, const std::vector<StepArg>& args,
                        size_t range_arg, Matrix* out, std::vector<bool>* present);

  // Evaluates the arguments of a step-by-step node, in order.
  std::vector<StepArg> EvalArgs(const std::vector<Expr*>& exprs);
  // rangeEval: gathers each step's input vectors from `args`, calls `fn`, and collects its
  // outputs into `builder`'s series, counting samples as Prometheus does. `samples_before` is
  // the count before the arguments were evaluated.
  Matrix RunSteps(std::vector<StepArg>& args, int64_t samples_before, SeriesBuilder& builder,
                  const StepFn& fn);

  QueryContext& q_;
  TimestampMs start_, end_;
  int64_t interval_;
};

}  // namespace crmscope::promql::eval
