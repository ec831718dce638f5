#include "collector/api/query_handlers.h"

#include <optional>
#include <string>

#include "collector/api/query_params.h"
#include "collector/api/query_result_json.h"
#include "collector/promql/engine.h"
#include "collector/promql/parser.h"

namespace crmscope::api {

namespace {

constexpr int64_t kNsPerMs = 1'000'000;

// Prometheus names the parameter in an instant query's parse errors but not in a range query's.
ApiError QueryParseError(std::string message, bool instant) {
  if (instant) message = "invalid parameter \"query\": " + message;
  return {ErrorType::kBadData, std::move(message)};
}

ApiError EngineError(const promql::QueryResult& result, bool instant) {
  switch (result.error_type) {
    case promql::QueryErrorType::kBadData:
      return QueryParseError(result.error, instant);
    case promql::QueryErrorType::kTimeout:
      return {ErrorType::kTimeout, result.error};
    case promql::QueryErrorType::kCanceled:
      return {ErrorType::kCanceled, result.error};
    case promql::QueryErrorType::kExecution:
    case promql::QueryErrorType::kNone:
      break;
  }
  return {ErrorType::kExecution, result.error};
}

HttpResponse Answer(const promql::QueryResult& result, bool instant) {
  if (result.error_type != promql::QueryErrorType::kNone) {
    return ErrorResponse(EngineError(result, instant));
  }
  std::string data;
  if (!AppendQueryResultJson(result.value, &data)) {
    return ErrorResponse({ErrorType::kInternal, "the query returned no value"});
  }
  return SuccessResponse(data, result.warnings);
}

// Prometheus parses a query (and checks a range query's type) before running it, so these
// errors come first even when the run itself cannot happen.
std::optional<ApiError> CheckBeforeRun(std::string_view query, bool instant) {
  std::string problem;
  promql::ExprPtr expr = promql::ParseExpr(query, &problem);
  if (!expr) return QueryParseError(problem, instant);
  promql::ValueType type = expr->Type();
  if (!instant && type != promql::ValueType::kVector && type != promql::ValueType::kScalar) {
    return ApiError{ErrorType::kBadData,
                    "invalid expression type \"" + std::string(promql::DocumentedType(type)) +
                        "\" for range query, must be Scalar or instant Vector"};
  }
  return std::nullopt;
}

// A timeout parameter <= 0 is a deadline already past: Prometheus's query then times out
// waiting for its turn (or, racing, in execution; the queue is what it says most often).
std::optional<ApiError> ExpiredDeadline(std::string_view query, bool instant) {
  if (std::optional<ApiError> error = CheckBeforeRun(query, instant)) return error;
  return ApiError{ErrorType::kTimeout, "query timed out in query queue"};
}

int64_t TimeoutMs(const std::optional<int64_t>& timeout_ns, const promql::Engine& engine) {
  return timeout_ns ? EffectiveTimeoutMs(*timeout_ns, engine.options().timeout_ms) : 0;
}

}  // namespace

HttpResponse HandleQuery(const FormValues& form, promql::Engine& engine, TimestampMs now) {
  InstantQueryParams params;
  ApiError error;
  if (!ParseInstantQueryParams(form, now, &params, &error)) return ErrorResponse(error);
  if (params.timeout_ns && *params.timeout_ns <= 0) {
    return ErrorResponse(*ExpiredDeadline(params.query, true));
  }
  int64_t timeout_ms = TimeoutMs(params.timeout_ns, engine);
  return Answer(engine.InstantQuery(params.query, params.time, timeout_ms), true);
}

HttpResponse HandleQueryRange(const FormValues& form, promql::Engine& engine) {
  RangeQueryParams params;
  ApiError error;
  if (!ParseRangeQueryParams(form, &params, &error)) return ErrorResponse(error);
  if (params.timeout_ns && *params.timeout_ns <= 0) {
    return ErrorResponse(*ExpiredDeadline(params.query, false));
  }
  int64_t step_ms = params.step_ns / kNsPerMs;
  if (step_ms == 0) {
    // A step under 1ms passes Prometheus's checks and then divides by zero in its engine, which
    // reports the panic as an execution error; said the same way here.
    if (std::optional<ApiError> parse_error = CheckBeforeRun(params.query, false)) {
      return ErrorResponse(*parse_error);
    }
    return ErrorResponse(
        {ErrorType::kExecution, "unexpected error: runtime error: integer divide by zero"});
  }
  return Answer(engine.RangeQuery(params.query, params.start, params.end, step_ms,
                                  TimeoutMs(params.timeout_ns, engine)),
                false);
}

}  // namespace crmscope::api
