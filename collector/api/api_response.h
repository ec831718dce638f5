// The JSON envelope of Prometheus's HTTP API, byte for byte as Prometheus 2.42 writes it:
//   {"status":"success","data":<data>[,"warnings":[...]]}
//   {"status":"error","errorType":"bad_data","error":"<message>"}
// with Go's string escaping (<, > and & as \u003c..., invalid UTF-8 as \ufffd) and Prometheus's
// number formats, so clients and diff-based tests see no difference.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "exporters/http/http_server.h"
#include "common/labels.h"
#include "common/sample.h"

namespace crmscope::api {

// The HTTP layer lives in exporters/http, shared with the agent.
using http::HttpHandler;
using http::HttpRequest;
using http::HttpResponse;
using http::HttpServer;

enum class ErrorType {
  kBadData,
  kExecution,
  kInternal,
  kUnavailable,
  kNotFound,
  kTimeout,
  kCanceled
};
std::string_view ErrorTypeName(ErrorType type);  // "bad_data", "execution", ...
int ErrorTypeStatus(ErrorType type);             // 400, 422, 500, 503, 404, 503, 503

struct ApiError {
  ErrorType type = ErrorType::kBadData;
  std::string message;
};

// `data_json` is an already-encoded JSON value.
HttpResponse SuccessResponse(std::string_view data_json,
                             const std::vector<std::string>& warnings = {});
HttpResponse ErrorResponse(const ApiError& error);

// JSON encoding, as Go's encoding/json (with HTML escaping, Prometheus's setting) does it.
void AppendJsonString(std::string_view s, std::string* out);
void AppendJsonStringArray(const std::vector<std::string>& values, std::string* out);
void AppendLabelsJson(const Labels& labels, std::string* out);  // {"__name__":"up","job":"x"}

// Go's %q: how Prometheus quotes user input inside error messages.
std::string GoQuote(std::string_view s);

// A sample's timestamp as Prometheus writes it in query results: seconds with exactly three
// decimals unless whole ("1.500", "-1.050", "1700000000").
void AppendApiTimestamp(TimestampMs t, std::string* out);
// A sample value as Prometheus writes it (without the quotes around it): shortest round-trip
// digits, exponent form below 1e-6 and from 1e21, "NaN", "+Inf", "-Inf".
void AppendApiValue(double v, std::string* out);

}  // namespace crmscope::api
