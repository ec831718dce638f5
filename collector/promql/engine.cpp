#include "collector/promql/engine.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <stdexcept>

#include "collector/promql/eval_evaluator.h"
#include "collector/promql/eval_preprocess.h"
#include "collector/promql/parser.h"
#include "collector/storage/storage.h"

namespace crmscope::promql {

using Clock = std::chrono::steady_clock;

// --query.max-concurrency: queries past the limit wait for a slot until their deadline, as
// Prometheus's active query tracker makes them wait.
struct Engine::Gate {
  std::mutex mu;
  std::condition_variable cv;
  int active = 0;
  int limit = 0;

  bool Enter(Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_until(lock, deadline, [&] { return active < limit; })) return false;
    ++active;
    return true;
  }
  void Leave() {
    {
      std::lock_guard<std::mutex> lock(mu);
      --active;
    }
    cv.notify_one();
  }
};

namespace {

QueryResult Failure(QueryErrorType type, std::string message) {
  QueryResult r;
  r.error_type = type;
  r.error = std::move(message);
  return r;
}

Clock::time_point DeadlineFor(int64_t engine_timeout_ms, int64_t query_timeout_ms) {
  // The API's timeout= can shorten the engine's timeout, never lengthen it, since Prometheus
  // applies both as nested contexts.
  int64_t ms = engine_timeout_ms > 0 ? engine_timeout_ms : std::numeric_limits<int32_t>::max();
  if (query_timeout_ms > 0) ms = std::min(ms, query_timeout_ms);
  return Clock::now() + std::chrono::milliseconds(ms);
}

Value ToInstantResult(eval::EvalValue value, ValueType type, TimestampMs ts) {
  if (String* s = std::get_if<String>(&value)) return std::move(*s);
  Matrix& m = std::get<Matrix>(value);
  switch (type) {
    case ValueType::kVector: {
      Vector out;
      out.reserve(m.size());
      // The evaluation time, not the sample's: Prometheus stamps instant results so.
      for (MatrixSeries& s : m) out.push_back({std::move(s.metric), ts, s.points.front().v});
      return out;
    }
    case ValueType::kScalar:
      return Scalar{ts, m.empty() || m[0].points.empty() ? std::numeric_limits<double>::quiet_NaN()
                                                          : m[0].points[0].v};
    default: return std::move(m);
  }
}

QueryResult Evaluate(const storage::Storage& storage, const EngineOptions& options, Expr& root,
                     TimestampMs start, TimestampMs end, int64_t interval, bool range,
                     Clock::time_point deadline) {
  eval::QueryContext q;
  q.storage = &storage;
  // Zero means the default, as Prometheus's NewEngine reads an unset lookback delta.
  q.lookback_delta_ms = options.lookback_delta_ms > 0 ? options.lookback_delta_ms : 5 * 60 * 1000;
  q.max_samples = options.max_samples;
  q.default_subquery_step_ms = options.default_subquery_step_ms > 0 ? options.default_subquery_step_ms : 60'000;
  q.deadline = deadline;
  eval::PreprocessExpr(root, start, end, &q.step_invariant);
  q.select_ranges = eval::SelectRanges(root, start, end, q.lookback_delta_ms);
  // Offsets for @ relative to the start: step-invariant parts are evaluated only there.
  eval::SetOffsetForAtModifier(start, root);
  QueryResult result;
  try {
    eval::Evaluator evaluator(q, start, end, range ? interval : 1);
    eval::EvalValue value = evaluator.Eval(root);
    if (!range) {
      result.value = ToInstantResult(std::move(value), root.Type(), start);
      return result;
    }
    q.CheckDeadline();
    Matrix& m = std::get<Matrix>(value);
    std::sort(m.begin(), m.end(), [](const MatrixSeries& a, const MatrixSeries& b) {
      return eval::LabelsLess(a.metric, b.metric);
    });
    result.value = std::move(m);
  } catch (const eval::EvalError& e) {
    return Failure(e.type, e.message);
  } catch (const std::exception& e) {
    return Failure(QueryErrorType::kExecution, std::string("unexpected error: ") + e.what());
  }
  return result;
}

}  // namespace

Engine::Engine(const storage::Storage& storage, EngineOptions options)
    : storage_(storage), options_(options), gate_(std::make_unique<Gate>()) {
  gate_->limit = options_.max_concurrent > 0 ? options_.max_concurrent : std::numeric_limits<int>::max();
}

Engine::~Engine() = default;

QueryResult Engine::InstantQuery(std::string_view query, TimestampMs ts, int64_t timeout_ms) {
  Clock::time_point deadline = DeadlineFor(options_.timeout_ms, timeout_ms);
  std::string error;
  ExprPtr expr = ParseExpr(query, &error);
  if (!expr) return Failure(QueryErrorType::kBadData, error);
  if (!gate_->Enter(deadline)) return Failure(QueryErrorType::kTimeout, "query timed out in query queue");
  struct Slot {
    Gate& gate;
    ~Slot() { gate.Leave(); }
  } slot{*gate_};
  return Evaluate(storage_, options_, *expr, ts, ts, 0, false, deadline);
}

QueryResult Engine::RangeQuery(std::string_view query, TimestampMs start, TimestampMs end,
                               int64_t step_ms, int64_t timeout_ms) {
  Clock::time_point deadline = DeadlineFor(options_.timeout_ms, timeout_ms);
  // The checks and words of Prometheus's /api/v1/query_range.
  if (end < start) return Failure(QueryErrorType::kBadData, "end timestamp must not be before start time");
  if (step_ms <= 0) {
    return Failure(QueryErrorType::kBadData,
                   "zero or negative query resolution step widths are not accepted. Try a positive integer");
  }
  if ((end - start) / step_ms > 11000) {
    return Failure(QueryErrorType::kBadData,
                   "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the "
                   "query resolution (?step=XX)");
  }
  std::string error;
  ExprPtr expr = ParseExpr(query, &error);
  if (!expr) return Failure(QueryErrorType::kBadData, error);
  ValueType type = expr->Type();
  if (type != ValueType::kVector && type != ValueType::kScalar) {
    return Failure(QueryErrorType::kBadData, "invalid expression type \"" +
                                                 std::string(DocumentedType(type)) +
                                                 "\" for range query, must be Scalar or instant Vector");
  }
  if (!gate_->Enter(deadline)) return Failure(QueryErrorType::kTimeout, "query timed out in query queue");
  struct Slot {
    Gate& gate;
    ~Slot() { gate.Leave(); }
  } slot{*gate_};
  return Evaluate(storage_, options_, *expr, start, end, step_ms, true, deadline);
}

}  // namespace crmscope::promql
