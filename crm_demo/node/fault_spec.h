// A fault as POST /admin/faults describes it: {"type": ..., "params": {...}, "duration_s": ...}.
//
//   latency         {ms, jitter_ms?, route?}  every request (or one route template's) waits
//                                             ms + uniform(0, jitter_ms) before being handled
//   errors          {rate}                    that share of requests is answered 500
//   cpu_burn        {ms}                      each request burns ms of CPU time on its thread
//   drop_index      {index}                   DROP INDEX on the shared database; recreated at
//                                             the end (every node sees the full scans)
//   cache_off       {}                        customer reads bypass the cache
//   cache_capacity  {entries}                 the cache shrinks to `entries` and thrashes
//   db_lock         {share}                   a write lock held for share x 100 ms of every
//                                             100 ms: writers wait, readers (WAL) do not
//   slow_start      {s, ms?}                  a cold restart: the cache is emptied and requests
//                                             are delayed by ms (default 1000) fading linearly
//                                             to 0 over s seconds
//
// duration_s (0 < d <= 86400) is required, except for slow_start where it defaults to s. The
// fault ends by itself when it runs out. Only the admin API ever names a fault.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "exporters/instrumentation/route_table.h"

namespace crmscope::crm {

enum class FaultType {
  kLatency,
  kErrors,
  kCpuBurn,
  kDropIndex,
  kCacheOff,
  kCacheCapacity,
  kDbLock,
  kSlowStart
};

std::string_view FaultTypeName(FaultType type);

struct FaultSpec {
  FaultType type = FaultType::kLatency;
  double duration_s = 0;
  nlohmann::json params = nlohmann::json::object();  // as accepted, for GET /admin/faults

  double ms = 0;                         // latency, cpu_burn, slow_start (peak delay)
  double jitter_ms = 0;                  // latency
  std::optional<size_t> route_template;  // latency: only this route's requests
  double rate = 0;                       // errors
  std::string index;                     // drop_index
  int64_t entries = 0;                   // cache_capacity
  double share = 0;                      // db_lock
  double ramp_s = 0;                     // slow_start
};

// False with *error (for a 400) when the body is not a valid fault.
bool ParseFaultSpec(std::string_view body, const instrumentation::RouteTable& routes,
                    FaultSpec* spec, std::string* error);

}  // namespace crmscope::crm
