// A PromQL result as the "data" of Prometheus 2.42's /api/v1/query and /api/v1/query_range
// answers, byte for byte:
//   {"resultType":"vector","result":[{"metric":{...},"value":[1700000000.123,"1.5"]}]}
//   {"resultType":"matrix","result":[{"metric":{...},"values":[[1700000000,"1"],...]}]}
//   {"resultType":"scalar","result":[1700000000.5,"2"]}
//   {"resultType":"string","result":[1700000000.5,"text"]}
//
// Prometheus writes the two kinds of result through two different encoders, and a client
// comparing answers sees the difference, so both are reproduced:
// - samples of vectors and matrices (its jsoniter encoder): the time as integer seconds with
//   exactly three decimals unless whole ("1.500"), the value in 'f' form except below 1e-6 and
//   from 1e21, where it is in 'e' form ("1e-07", "4.1e+22");
// - scalars and strings (encoding/json over float64(t)/1000): the time as the shortest decimal
//   ("1.5"), a scalar's value always in 'f' form ("0.0000001", "1000000000000000000000").
//
// This is the hot path of a Grafana dashboard (a range query returns points × series), so the
// text is appended to one buffer with no allocation per sample.
#pragma once

#include <string>

#include "collector/promql/value.h"
#include "common/labels.h"
#include "common/sample.h"

namespace crmscope::api {

// Appends the data object for `value`; false (nothing appended) for an empty Value.
bool AppendQueryResultJson(const promql::Value& value, std::string* out);

// The pieces, exposed for tests and for other answers built of samples.
void AppendSampleTimestamp(TimestampMs t, std::string* out);  // 1700000000.123, 1.500, 1
void AppendSampleValue(double v, std::string* out);           // 1.5, 1e-07, +Inf (unquoted)
void AppendScalarTimestamp(TimestampMs t, std::string* out);  // 1.5, 0.001, -1.5
void AppendScalarValue(double v, std::string* out);           // 0.0000001, NaN (unquoted)
// A JSON string as Go's encoding/json writes it (HTML-escaped), fast when nothing needs escaping.
void AppendJsonText(std::string_view s, std::string* out);
void AppendMetricJson(const Labels& metric, std::string* out);  // {"__name__":"up","job":"x"}

}  // namespace crmscope::api
