// gzip for response bodies, as Prometheus's HTTP API and /federate compress theirs when the client
// accepts it: Grafana asks for gzip on every query, and range-query JSON shrinks ~10x.
#pragma once

#include <string>
#include <string_view>

namespace crmscope::http {

// True when an Accept-Encoding value lists gzip (or *) without q=0.
bool AcceptsGzip(std::string_view accept_encoding);

// `body` as a gzip member (RFC 1952), at zlib's fastest level: on a LAN the time to compress a
// large answer matters more than the last bytes saved.
std::string GzipBody(std::string_view body);

}  // namespace crmscope::http
