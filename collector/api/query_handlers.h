// /api/v1/query and /api/v1/query_range: PromQL over the collector's storage through the engine,
// answered as Prometheus 2.42 answers (see query_params.h for the parameters and
// query_result_json.h for the result's bytes). Engine errors keep Prometheus's types and codes:
// a query that does not parse is bad_data (400), a failing evaluation execution (422), a query
// over its time limit timeout (503), a canceled one canceled (503).
//
// The engine takes its own queriers and bounds concurrency itself, so requests run in parallel
// with one another and with ingestion; nothing here holds a lock across a query.
#pragma once

#include "collector/api/api_params.h"
#include "common/sample.h"

namespace crmscope::promql {
class Engine;
}

namespace crmscope::api {

HttpResponse HandleQuery(const FormValues& form, promql::Engine& engine, TimestampMs now);
HttpResponse HandleQueryRange(const FormValues& form, promql::Engine& engine);

}  // namespace crmscope::api
