// GET /federate?match[]=<selector>...: the newest sample of every series a selector matches, in
// the text exposition format 0.0.4, as Prometheus 2.42's federation endpoint writes it, so a
// Prometheus can scrape the collector (honor_labels is that scraper's setting):
//
//   # TYPE http_requests_total untyped
//   http_requests_total{code="200",job="api",instance=""} 1027 1700000000000
//
// - Only samples within the lookback delta (--query.lookback-delta, 5m) before now count, and a
//   series whose newest sample is a staleness marker is left out (the format cannot carry it).
// - Every family is "untyped" without HELP, grouped by metric name in name order; series without
//   a name are dropped. Labels keep their order, and instance="" is added where the series has
//   no instance label (Prometheus adds its external labels, of which instance is always one).
// - A selector may match every series ({a=""}), unlike the query API's match[]; {} matches none.
//
// Prometheus sorts by name with an unstable sort, so the order of series within one name is
// unspecified there; here it is label order (what Prometheus gives for up to 12 series a name).
// Only the text format is served, whatever the Accept header asks for.
#pragma once

#include <cstdint>

#include "collector/api/api_params.h"
#include "common/sample.h"

namespace crmscope::storage {
class Storage;
}

namespace crmscope::api {

HttpResponse HandleFederate(const FormValues& form, const storage::Storage& storage,
                            TimestampMs now, int64_t lookback_delta_ms);

}  // namespace crmscope::api
