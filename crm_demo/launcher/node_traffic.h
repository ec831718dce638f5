// What the live table needs from a crm-node's /metrics: its API traffic summed over routes and
// methods (requests, 5xx responses, the duration histogram's cumulative buckets), the deltas
// between two scrapes, and quantiles estimated from bucket deltas the way PromQL's
// histogram_quantile does, so the table agrees with what a dashboard would show.
//
// The node's own /metrics and /healthz routes are left out: they are the launcher's scrapes and
// probes, not the CRM's traffic.
#pragma once

#include <map>
#include <string_view>

namespace crmscope::launcher {

struct NodeTraffic {
  double requests = 0;               // http_requests_total
  double server_errors = 0;          // ... with code 5xx
  std::map<double, double> buckets;  // le -> cumulative count of http_request_duration_seconds
};

// Sums the API series of a text exposition (format 0.0.4). Lines it does not need are skipped.
NodeTraffic ParseNodeTraffic(std::string_view exposition);

// `now` minus `before`, series by series; a counter that went down (the node restarted) counts
// from zero, as PromQL's rate() does.
NodeTraffic TrafficDelta(const NodeTraffic& now, const NodeTraffic& before);

// The q-quantile (0..1) in seconds from cumulative bucket counts, interpolating linearly inside
// the bucket that holds it. NaN without observations. A quantile in the +Inf bucket is the
// largest finite bound, as Prometheus answers.
double HistogramQuantile(double q, const std::map<double, double>& cumulative_buckets);

}  // namespace crmscope::launcher
