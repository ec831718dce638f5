// The PromQL engine: evaluates instant and range queries over the collector's storage with
// Prometheus 2.42's semantics (5-minute lookback, staleness markers, @ and offset, subqueries,
// vector matching, aggregations), within a timeout and a limit on samples held in memory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "collector/promql/value.h"

namespace crmscope::storage {
class Storage;
}

namespace crmscope::promql {

struct EngineOptions {
  int64_t lookback_delta_ms = 5 * 60 * 1000;  // --query.lookback-delta
  int64_t timeout_ms = 2 * 60 * 1000;         // --query.timeout
  int64_t max_samples = 50'000'000;           // --query.max-samples
  int64_t default_subquery_step_ms = 60'000;  // Prometheus's global evaluation_interval
  int max_concurrent = 20;                    // --query.max-concurrency
};

// Errors as the HTTP API reports them (errorType of Prometheus's JSON envelope).
enum class QueryErrorType { kNone, kBadData, kTimeout, kCanceled, kExecution };

struct QueryResult {
  Value value;  // Vector, Scalar or String for instant queries; Matrix for range queries
  QueryErrorType error_type = QueryErrorType::kNone;
  std::string error;  // worded as Prometheus's ("parse error: ...", "query timed out in ...")
  std::vector<std::string> warnings;
};

class Engine {
 public:
  Engine(const storage::Storage& storage, EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // `timeout_ms` > 0 (the API's timeout=) can shorten the engine's timeout for this query, never
  // lengthen it: Prometheus applies both as nested deadlines.
  QueryResult InstantQuery(std::string_view query, TimestampMs ts, int64_t timeout_ms = 0);
  // Refuses more than 11,000 points per series ((end - start) / step), as Prometheus's API does.
  QueryResult RangeQuery(std::string_view query, TimestampMs start, TimestampMs end,
                         int64_t step_ms, int64_t timeout_ms = 0);

  const EngineOptions& options() const { return options_; }

 private:
  const storage::Storage& storage_;
  EngineOptions options_;
  struct Gate;
  std::unique_ptr<Gate> gate_;  // bounds concurrent queries
};

}  // namespace crmscope::promql
