// Faults the demo injects on a schedule, from --fault flags:
//
//   NODE:TYPE[{KEY=VALUE,...}][@START][+DURATION]
//
//   node2:drop_index@60s+90s                at t=60s, drop an index on node2's database for 90s
//   node1:latency{ms=200,jitter_ms=50}@30s+1m
//   all:errors{rate=0.1}@10s+20s            every node
//   node3:latency{ms=80,route=/api/customers/{id}}@0s+30s
//
// t=0 is when the load generator starts. START defaults to 0s, DURATION to the rest of the run.
// TYPE is one of crm-node's fault types; parameters left out take the defaults below, chosen so
// each fault is plainly visible at the demo's default rate. Values that read as numbers are sent
// as JSON numbers, anything else as strings.
//
//   latency {ms=200}     errors {rate=0.2}          cpu_burn {ms=20}
//   cache_off {}         cache_capacity {entries=100}  db_lock {share=0.5}
//   slow_start {s=30}    drop_index {index=idx_orders_customer_id}
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace crmscope::launcher {

struct PlannedFault {
  std::string flag;         // as given, for messages
  std::string node;         // "node2", or "all"
  std::string type;         // "drop_index"
  nlohmann::json params;    // defaults merged with the flag's
  int64_t start_ms = 0;     // after the load starts
  int64_t duration_ms = 0;  // 0: until the run ends
};

bool ParseFaultFlag(std::string_view flag, PlannedFault* fault, std::string* error);

// The body of POST /admin/faults; `duration_ms` is the fault's resolved duration.
std::string FaultRequestBody(const PlannedFault& fault, int64_t duration_ms);

}  // namespace crmscope::launcher
