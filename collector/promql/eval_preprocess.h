// The passes Prometheus 2.42 runs over a query's syntax tree before and during evaluation:
// resolving `@ start()` / `@ end()`, finding the step-invariant subtrees (evaluated once and
// repeated over the steps), turning @ timestamps into offsets relative to an evaluation start,
// and the time range each selector reads from storage.
#pragma once

#include <functional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "collector/promql/ast.h"
#include "common/sample.h"

namespace crmscope::promql::eval {

// Prometheus's parser.Inspect: visits every node before its children, with the path of its
// ancestors from the root (not including the node).
void Inspect(Expr& root, const std::function<void(Expr&, const std::vector<Expr*>&)>& visit);

// Prometheus's PreprocessExpr: resolves start()/end() of @ into timestamps and records in
// `invariant` each node Prometheus wraps in a StepInvariantExpr (the root too, when the whole
// query is step-invariant).
void PreprocessExpr(Expr& root, TimestampMs start, TimestampMs end,
                    std::unordered_set<const Expr*>* invariant);

// setOffsetForAtModifier: sets offset_ms of every selector and subquery under `root` so that
// evaluating at `eval_time` reads the data the @ modifier names.
void SetOffsetForAtModifier(TimestampMs eval_time, Expr& root);

struct SelectRange {
  TimestampMs start = 0;
  TimestampMs end = 0;
};

// getTimeRangesForSelector for every vector selector (including those of range selectors): the
// samples a query from start to end can read, with lookback, ranges, offsets and @.
std::unordered_map<const VectorSelector*, SelectRange> SelectRanges(Expr& root, TimestampMs start,
                                                                    TimestampMs end,
                                                                    int64_t lookback_delta_ms);

// Strips parentheses, as Prometheus's unwrapParenExpr.
Expr& UnwrapParens(Expr& e);

}  // namespace crmscope::promql::eval
