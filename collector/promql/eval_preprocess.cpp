#include "collector/promql/eval_preprocess.h"

#include <limits>
#include <optional>
#include <string_view>

#include "collector/promql/functions.h"

namespace crmscope::promql::eval {

namespace {

void Walk(Expr& node, std::vector<Expr*>& path,
          const std::function<void(Expr&, const std::vector<Expr*>&)>& visit) {
  visit(node, path);
  path.push_back(&node);
  auto child = [&](Expr* e) {
    if (e) Walk(*e, path, visit);
  };
  switch (node.kind()) {
    case ExprKind::kParen: child(node.As<ParenExpr>()->expr.get()); break;
    case ExprKind::kUnary: child(node.As<UnaryExpr>()->expr.get()); break;
    case ExprKind::kBinary: {
      auto* b = node.As<BinaryExpr>();
      child(b->lhs.get());
      child(b->rhs.get());
      break;
    }
    case ExprKind::kAggregate: {
      auto* a = node.As<AggregateExpr>();
      child(a->param.get());
      child(a->expr.get());
      break;
    }
    case ExprKind::kCall:
      for (ExprPtr& arg : node.As<Call>()->args) child(arg.get());
      break;
    case ExprKind::kMatrixSelector: child(node.As<MatrixSelector>()->vector_selector.get()); break;
    case ExprKind::kSubquery: child(node.As<SubqueryExpr>()->expr.get()); break;
    default: break;
  }
  path.pop_back();
}

// Functions whose result changes with the evaluation time even when their arguments do not,
// or that read their argument's sample timestamps (Prometheus's AtModifierUnsafeFunctions).
bool IsAtModifierUnsafe(std::string_view name) {
  for (std::string_view unsafe : {"days_in_month", "day_of_month", "day_of_week", "day_of_year",
                                  "hour", "minute", "month", "year", "predict_linear", "time",
                                  "timestamp"}) {
    if (name == unsafe) return true;
  }
  return false;
}

std::optional<int64_t> ResolveAt(AtPreprocessor pre, std::optional<int64_t> ts, TimestampMs start,
                                 TimestampMs end) {
  if (pre == AtPreprocessor::kStart) return start;
  if (pre == AtPreprocessor::kEnd) return end;
  return ts;
}

class Preprocessor {
 public:
  Preprocessor(TimestampMs start, TimestampMs end, std::unordered_set<const Expr*>* invariant)
      : start_(start), end_(end), invariant_(invariant) {}

  // preprocessExprHelper: whether `e` is step-invariant; marks invariant children of nodes
  // that are not.
  bool Visit(Expr& e) {
    switch (e.kind()) {
      case ExprKind::kVectorSelector: {
        auto* vs = e.As<VectorSelector>();
        vs->timestamp_ms = ResolveAt(vs->start_or_end, vs->timestamp_ms, start_, end_);
        return vs->timestamp_ms.has_value();
      }
      case ExprKind::kAggregate: return Visit(*e.As<AggregateExpr>()->expr);
      case ExprKind::kBinary: {
        auto* b = e.As<BinaryExpr>();
        bool lhs = Visit(*b->lhs);
        bool rhs = Visit(*b->rhs);
        if (lhs && rhs) return true;
        if (lhs) Mark(*b->lhs);
        if (rhs) Mark(*b->rhs);
        return false;
      }
      case ExprKind::kCall: {
        auto* c = e.As<Call>();
        bool all = !IsAtModifierUnsafe(c->func->name);
        std::vector<bool> arg_invariant;
        for (ExprPtr& arg : c->args) {
          arg_invariant.push_back(Visit(*arg));
          all = all && arg_invariant.back();
        }
        if (all) return true;
        for (size_t i = 0; i < c->args.size(); ++i) {
          if (arg_invariant[i]) Mark(*c->args[i]);
        }
        return false;
      }
      case ExprKind::kMatrixSelector: return Visit(*e.As<MatrixSelector>()->vector_selector);
      case ExprKind::kSubquery: {
        auto* sq = e.As<SubqueryExpr>();
        // Prometheus wraps a subquery's inside whenever it is invariant, so that it is
        // evaluated once relative to the subquery's start.
        if (Visit(*sq->expr)) Mark(*sq->expr);
        sq->timestamp_ms = ResolveAt(sq->start_or_end, sq->timestamp_ms, start_, end_);
        return sq->timestamp_ms.has_value();
      }
      case ExprKind::kParen: return Visit(*e.As<ParenExpr>()->expr);
      case ExprKind::kUnary: return Visit(*e.As<UnaryExpr>()->expr);
      case ExprKind::kStringLiteral:
      case ExprKind::kNumberLiteral: return true;
    }
    return false;
  }

  void Mark(const Expr& e) { invariant_->insert(&e); }

 private:
  TimestampMs start_, end_;
  std::unordered_set<const Expr*>* invariant_;
};

// subqueryTimes: the summed original offsets and ranges of the subqueries on the path; an @
// on a subquery restarts the sums and names the timestamp (the innermost one wins).
struct SubqueryTimes {
  int64_t offset_ms = 0;
  int64_t range_ms = 0;
  std::optional<int64_t> timestamp_ms;
};

SubqueryTimes TimesOf(const std::vector<Expr*>& path) {
  SubqueryTimes out;
  for (const Expr* node : path) {
    const auto* sq = node->As<SubqueryExpr>();
    if (!sq) continue;
    out.offset_ms += sq->original_offset_ms;
    out.range_ms += sq->range_ms;
    if (sq->timestamp_ms) {
      out.offset_ms = sq->original_offset_ms;
      out.range_ms = sq->range_ms;
      out.timestamp_ms = sq->timestamp_ms;
    }
  }
  return out;
}

}  // namespace

void Inspect(Expr& root, const std::function<void(Expr&, const std::vector<Expr*>&)>& visit) {
  std::vector<Expr*> path;
  Walk(root, path, visit);
}

void PreprocessExpr(Expr& root, TimestampMs start, TimestampMs end,
                    std::unordered_set<const Expr*>* invariant) {
  Preprocessor p(start, end, invariant);
  if (p.Visit(root)) p.Mark(root);
}

void SetOffsetForAtModifier(TimestampMs eval_time, Expr& root) {
  auto offset_for = [eval_time](std::optional<int64_t> ts, int64_t original,
                                const std::vector<Expr*>& path) {
    if (!ts) return original;
    SubqueryTimes sq = TimesOf(path);
    int64_t subquery_offset = sq.offset_ms;
    if (sq.timestamp_ms) subquery_offset += eval_time - *sq.timestamp_ms;
    return original + (eval_time - *ts) - subquery_offset;
  };
  Inspect(root, [&](Expr& node, const std::vector<Expr*>& path) {
    if (auto* vs = node.As<VectorSelector>()) {
      vs->offset_ms = offset_for(vs->timestamp_ms, vs->original_offset_ms, path);
    } else if (auto* sq = node.As<SubqueryExpr>()) {
      sq->offset_ms = offset_for(sq->timestamp_ms, sq->original_offset_ms, path);
    }
  });
}

std::unordered_map<const VectorSelector*, SelectRange> SelectRanges(Expr& root, TimestampMs start,
                                                                    TimestampMs end,
                                                                    int64_t lookback_delta_ms) {
  std::unordered_map<const VectorSelector*, SelectRange> out;
  Inspect(root, [&](Expr& node, const std::vector<Expr*>& path) {
    auto* vs = node.As<VectorSelector>();
    if (!vs) return;
    const auto* parent = path.empty() ? nullptr : path.back()->As<MatrixSelector>();
    int64_t eval_range = parent ? parent->range_ms : 0;
    SubqueryTimes sq = TimesOf(path);
    SelectRange r{start, end};
    if (sq.timestamp_ms) r = {*sq.timestamp_ms, *sq.timestamp_ms};
    if (vs->timestamp_ms) {
      r = {*vs->timestamp_ms, *vs->timestamp_ms};
    } else {
      r.start -= sq.offset_ms + sq.range_ms;
      r.end -= sq.offset_ms;
    }
    r.start -= eval_range == 0 ? lookback_delta_ms : eval_range;
    r.start -= vs->original_offset_ms;
    r.end -= vs->original_offset_ms;
    out[vs] = r;
  });
  return out;
}

Expr& UnwrapParens(Expr& e) {
  Expr* cur = &e;
  while (auto* p = cur->As<ParenExpr>()) cur = p->expr.get();
  return *cur;
}

}  // namespace crmscope::promql::eval
