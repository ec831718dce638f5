// /api/v1/metadata: metric metadata (type, help, unit) by metric family. Prometheus 2.42 serves
// what its scrape targets announced; the collector serves what remote-write senders sent.
#pragma once

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

// Parameters as Prometheus's: metric (one family, or all), limit (number of families; negative
// or absent: all, 0: none).
HttpResponse HandleMetadata(const FormValues& form, const storage::Storage& storage);

}  // namespace crmscope::api
