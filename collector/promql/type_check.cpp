#include "collector/promql/type_check.h"

#include "collector/promql/functions.h"
#include "collector/promql/go_format.h"
#include "collector/promql/parse_error.h"

namespace crmscope::promql {

namespace {

[[noreturn]] void Fail(PositionRange pos, std::string message) {
  throw ParseError{pos, std::move(message)};
}

bool IsScalarOrVector(ValueType t) { return t == ValueType::kScalar || t == ValueType::kVector; }

class TypeChecker {
 public:
  explicit TypeChecker(std::string_view input) : input_(input) {}

  ValueType Check(Expr& node) {
    switch (node.kind()) {
      case ExprKind::kAggregate: CheckAggregate(*node.As<AggregateExpr>()); break;
      case ExprKind::kBinary: CheckBinary(*node.As<BinaryExpr>()); break;
      case ExprKind::kCall: CheckCall(*node.As<Call>()); break;
      case ExprKind::kParen: Check(*node.As<ParenExpr>()->expr); break;
      case ExprKind::kUnary: {
        ValueType t = Check(*node.As<UnaryExpr>()->expr);
        if (!IsScalarOrVector(t)) {
          Fail(node.Range(), "unary expression only allowed on expressions of type scalar or "
                             "instant vector, got " + GoQuote(DocumentedType(t)));
        }
        break;
      }
      case ExprKind::kSubquery: {
        ValueType t = Check(*node.As<SubqueryExpr>()->expr);
        if (t != ValueType::kVector) {
          Fail(node.Range(), "subquery is only allowed on instant vector, got " +
                                 std::string(ValueTypeName(t)) + " instead");
        }
        break;
      }
      case ExprKind::kMatrixSelector: Check(*node.As<MatrixSelector>()->vector_selector); break;
      case ExprKind::kVectorSelector: CheckVectorSelector(*node.As<VectorSelector>()); break;
      case ExprKind::kNumberLiteral:
      case ExprKind::kStringLiteral: break;
    }
    return node.Type();
  }

 private:
  void ExpectType(Expr& node, ValueType want, const std::string& context) {
    ValueType t = Check(node);
    if (t != want) {
      Fail(node.Range(), "expected type " + std::string(DocumentedType(want)) + " in " + context +
                             ", got " + std::string(DocumentedType(t)));
    }
  }

  void CheckAggregate(AggregateExpr& n) {
    ExpectType(*n.expr, ValueType::kVector, "aggregation expression");
    if (n.op == ItemType::kTopk || n.op == ItemType::kBottomk || n.op == ItemType::kQuantile) {
      ExpectType(*n.param, ValueType::kScalar, "aggregation parameter");
    }
    if (n.op == ItemType::kCountValues) {
      ExpectType(*n.param, ValueType::kString, "aggregation parameter");
    }
  }

  // Where Prometheus places errors about an operator: from the end of the left operand,
  // skipping blanks.
  PositionRange OperatorRange(const BinaryExpr& n) const {
    int start = n.lhs->Range().end;
    while (start < static_cast<int>(input_.size()) &&
           (input_[start] == ' ' || input_[start] == '\t' || input_[start] == '\n' ||
            input_[start] == '\r')) {
      ++start;
    }
    return {start, n.rhs->Range().start};
  }

  void CheckBinary(BinaryExpr& n) {
    ValueType lt = Check(*n.lhs);
    ValueType rt = Check(*n.rhs);
    if (n.return_bool && !IsComparisonOperator(n.op)) {
      Fail(OperatorRange(n), "bool modifier can only be used on comparison operators");
    }
    if (IsComparisonOperator(n.op) && !n.return_bool && lt == ValueType::kScalar &&
        rt == ValueType::kScalar) {
      Fail(OperatorRange(n), "comparisons between scalars must use BOOL modifier");
    }
    if (IsSetOperator(n.op) && n.matching && n.matching->card == VectorMatchCardinality::kOneToOne) {
      n.matching->card = VectorMatchCardinality::kManyToMany;
    }
    if (n.matching && n.matching->on) {
      for (const std::string& l1 : n.matching->matching_labels) {
        for (const std::string& l2 : n.matching->include) {
          if (l1 == l2) {
            Fail(OperatorRange(n), "label " + GoQuote(l1) + " must not occur in ON and GROUP clause at once");
          }
        }
      }
    }
    if (!IsScalarOrVector(lt)) {
      Fail(n.lhs->Range(), "binary expression must contain only scalar and instant vector types");
    }
    if (!IsScalarOrVector(rt)) {
      Fail(n.rhs->Range(), "binary expression must contain only scalar and instant vector types");
    }
    std::string op_name(ItemTypeText(n.op));
    if ((lt != ValueType::kVector || rt != ValueType::kVector) && n.matching) {
      if (!n.matching->matching_labels.empty()) {
        Fail(n.Range(), "vector matching only allowed between instant vectors");
      }
      n.matching.reset();
    } else if (IsSetOperator(n.op) && n.matching) {
      if (n.matching->card == VectorMatchCardinality::kOneToMany ||
          n.matching->card == VectorMatchCardinality::kManyToOne) {
        Fail(n.Range(), "no grouping allowed for " + GoQuote(op_name) + " operation");
      }
      if (n.matching->card != VectorMatchCardinality::kManyToMany) {
        Fail(n.Range(), "set operations must always be many-to-many");
      }
    }
    if ((lt == ValueType::kScalar || rt == ValueType::kScalar) && IsSetOperator(n.op)) {
      Fail(n.Range(), "set operator " + GoQuote(op_name) + " not allowed in binary scalar expression");
    }
  }

  void CheckCall(Call& n) {
    const Function& f = *n.func;
    int nargs = static_cast<int>(f.arg_types.size());
    int given = static_cast<int>(n.args.size());
    std::string name = GoQuote(f.name);
    if (f.variadic == 0) {
      if (nargs != given) {
        Fail(n.Range(), "expected " + std::to_string(nargs) + " argument(s) in call to " + name +
                            ", got " + std::to_string(given));
      }
    } else {
      int min = nargs - 1;
      if (min > given) {
        Fail(n.Range(), "expected at least " + std::to_string(min) + " argument(s) in call to " +
                            name + ", got " + std::to_string(given));
      }
      if (int max = min + f.variadic; f.variadic > 0 && max < given) {
        Fail(n.Range(), "expected at most " + std::to_string(max) + " argument(s) in call to " +
                            name + ", got " + std::to_string(given));
      }
    }
    for (int i = 0; i < given; ++i) {
      int type_index = i;
      if (i >= nargs) {
        // Extra arguments of a fixed-arity call were reported above; variadic ones take the
        // type of the last declared argument.
        if (f.variadic == 0) break;
        type_index = nargs - 1;
      }
      ExpectType(*n.args[i], f.arg_types[type_index], "call to function " + name);
    }
  }

  void CheckVectorSelector(const VectorSelector& n) {
    if (!n.name.empty()) {
      // The last matcher is the one made from the name; any other __name__ sets it twice.
      for (size_t i = 0; i + 1 < n.matchers.size(); ++i) {
        if (n.matchers[i]->name() == "__name__") {
          Fail(n.Range(), "metric name must not be set twice: " + GoQuote(n.name) + " or " +
                              GoQuote(n.matchers[i]->value()));
        }
      }
      return;
    }
    // Refusing selectors that match every series guards against selecting all metrics by a typo.
    for (const MatcherPtr& m : n.matchers) {
      if (!m->MatchesEmpty()) return;
    }
    Fail(n.Range(), "vector selector must contain at least one non-empty matcher");
  }

  std::string_view input_;
};

}  // namespace

void CheckTypes(Expr& root, std::string_view input) { TypeChecker(input).Check(root); }

}  // namespace crmscope::promql
