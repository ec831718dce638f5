// POST /api/v1/write: the Prometheus remote write 1.0 receiver.
//
// Status codes tell the sender what to do, as the specification asks: 204 stored; 400 never
// retry (undecodable body, invalid series, or samples the storage refused: the others of the
// batch are stored and the answer says how many were refused and why); 401 bad credentials;
// 413 body over the limit; 415 not snappy-compressed protobuf; 503 retry later (storage failure,
// nothing of the batch acknowledged).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "exporters/http/http_server.h"

namespace crmscope::storage {
class Storage;
struct AppendStats;
}  // namespace crmscope::storage
namespace crmscope::remote_write {
class DecodedRequest;
}

namespace crmscope::api {

// The HTTP layer lives in exporters/http, shared with the agent.
using http::HttpHandler;
using http::HttpRequest;
using http::HttpResponse;
using http::HttpServer;

class ApiMetrics;

struct WriteLimits {
  int64_t max_body_bytes = 32LL << 20;
  size_t max_labels_per_series = 30;    // 0: no limit
  size_t max_label_name_length = 1024;  // bytes; 0: no limit
  size_t max_label_value_length = 4096;
};

// The decoded size allowed per byte of compressed body. Snappy's best case is a 3-byte copy
// element producing 64 bytes (21.3x), so no honest body can exceed this ratio: the check only
// stops a length header that lies, before anything is allocated for it.
inline constexpr size_t kMaxDecodedBytesPerBodyByte = 22;

// Told of every batch the storage committed, before the sender gets its answer, so that what
// the collector accepted can go on elsewhere (collector/remote forwards it). `series` are the
// indices into request.series() of the series within the receiver's limits, which the storage
// was given; `stats` is the storage's verdict on them. Called concurrently from HTTP threads.
class IngestListener {
 public:
  virtual ~IngestListener() = default;
  virtual void Ingested(const remote_write::DecodedRequest& request,
                        const std::vector<uint32_t>& series, const storage::AppendStats& stats) = 0;
};

class WriteHandler {
 public:
  WriteHandler(WriteLimits limits, std::vector<std::string> bearer_tokens, ApiMetrics* metrics,
               IngestListener* listener = nullptr);

  HttpResponse Handle(HttpRequest& request, storage::Storage& storage) const;

 private:
  bool Authorized(const HttpRequest& request) const;

  WriteLimits limits_;
  std::vector<std::string> bearer_tokens_;
  ApiMetrics* metrics_;
  IngestListener* listener_;
};

// "3 of 2000 samples rejected: out_of_order=3 (first: up{job=\"x\"} out of order sample ...)"
std::string DescribeRejections(const storage::AppendStats& stats, size_t total_samples);

}  // namespace crmscope::api
