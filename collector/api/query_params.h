// The parameters of Prometheus's query endpoints, checked in Prometheus 2.42's order and refused
// with its messages, so a client (Grafana shows them to users) cannot tell the two apart:
//   /api/v1/query        query, time (default: now), timeout
//   /api/v1/query_range  query, start, end, step, timeout
// Durations (step, timeout) are Go durations in nanoseconds, as Prometheus's parseDuration
// returns them: float seconds ("15", "0.5") or Prometheus's duration syntax ("1m30s").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "collector/api/api_params.h"
#include "collector/api/api_response.h"
#include "common/sample.h"

namespace crmscope::api {

// Prometheus refuses range queries with more points per series than this (its API does,
// before the engine sees the query).
inline constexpr int64_t kMaxPointsPerSeries = 11000;

// Prometheus's parseDuration; the error is its message without the parameter name
// ("cannot parse \"x\" to a valid duration").
bool ParseDurationNs(std::string_view text, int64_t* ns, std::string* error);

struct InstantQueryParams {
  std::string_view query;  // points into the FormValues it was parsed from
  TimestampMs time = 0;
  std::optional<int64_t> timeout_ns;  // absent: the engine's --query.timeout
};

struct RangeQueryParams {
  std::string_view query;
  TimestampMs start = 0;
  TimestampMs end = 0;
  int64_t step_ns = 0;  // > 0
  std::optional<int64_t> timeout_ns;
};

bool ParseInstantQueryParams(const FormValues& form, TimestampMs now, InstantQueryParams* out,
                             ApiError* error);
bool ParseRangeQueryParams(const FormValues& form, RangeQueryParams* out, ApiError* error);

// A timeout parameter as the engine takes it: whole milliseconds, rounded up so a positive
// timeout stays positive, and never beyond the engine's own limit (Prometheus applies both
// deadlines). Returns 0 for a timeout that has already expired (<= 0).
int64_t EffectiveTimeoutMs(int64_t timeout_ns, int64_t engine_timeout_ms);

}  // namespace crmscope::api
