// Prometheus's metadata-about-series endpoints over the storage's Querier:
//   /api/v1/series             series matching match[] in [start, end]
//   /api/v1/labels             label names (of the series match[] selects)
//   /api/v1/label/<name>/values
// with Prometheus 2.42's parameters, answers and error messages, plus `limit` as later versions.
#pragma once

#include <string_view>

#include "collector/api/api_params.h"
#include "exporters/http/http_server.h"

namespace crmscope::storage {
class Storage;
}

namespace crmscope::api {

// The HTTP layer lives in exporters/http, shared with the agent.
using http::HttpHandler;
using http::HttpRequest;
using http::HttpResponse;
using http::HttpServer;

HttpResponse HandleSeries(const FormValues& form, const storage::Storage& storage);
HttpResponse HandleLabelNames(const FormValues& form, const storage::Storage& storage);
HttpResponse HandleLabelValues(std::string_view label_name, const FormValues& form,
                               const storage::Storage& storage);

}  // namespace crmscope::api
