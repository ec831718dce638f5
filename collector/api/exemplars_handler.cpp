#include "collector/api/exemplars_handler.h"

#include "collector/promql/parser.h"

namespace crmscope::api {

namespace {

// Prometheus's parser.ExtractSelectors is empty exactly when no vector selector appears.
bool HasVectorSelector(const promql::Expr& expr) {
  using namespace promql;
  switch (expr.kind()) {
    case ExprKind::kNumberLiteral:
    case ExprKind::kStringLiteral:
      return false;
    case ExprKind::kVectorSelector:
    case ExprKind::kMatrixSelector:
      return true;
    case ExprKind::kSubquery:
      return HasVectorSelector(*expr.As<SubqueryExpr>()->expr);
    case ExprKind::kParen:
      return HasVectorSelector(*expr.As<ParenExpr>()->expr);
    case ExprKind::kUnary:
      return HasVectorSelector(*expr.As<UnaryExpr>()->expr);
    case ExprKind::kBinary: {
      const auto* binary = expr.As<BinaryExpr>();
      return HasVectorSelector(*binary->lhs) || HasVectorSelector(*binary->rhs);
    }
    case ExprKind::kAggregate: {
      const auto* aggregate = expr.As<AggregateExpr>();
      return HasVectorSelector(*aggregate->expr) ||
             (aggregate->param && HasVectorSelector(*aggregate->param));
    }
    case ExprKind::kCall:
      for (const ExprPtr& arg : expr.As<Call>()->args) {
        if (arg && HasVectorSelector(*arg)) return true;
      }
      return false;
  }
  return false;
}

}  // namespace

HttpResponse HandleQueryExemplars(const FormValues& form) {
  ApiError error;
  TimestampMs start = 0, end = 0;
  if (!ParseTimeParam(form, "start", kMinApiTime, &start, &error) ||
      !ParseTimeParam(form, "end", kMaxApiTime, &end, &error)) {
    return ErrorResponse(error);
  }
  if (end < start) {
    return ErrorResponse(
        {ErrorType::kBadData, "end timestamp must not be before start timestamp"});
  }
  std::string problem;
  promql::ExprPtr expr = promql::ParseExpr(form.Get("query"), &problem);
  if (!expr) return ErrorResponse({ErrorType::kBadData, problem});
  if (!HasVectorSelector(*expr)) {
    HttpResponse response;
    response.status = 204;
    return response;
  }
  return SuccessResponse("[]");
}

}  // namespace crmscope::api
