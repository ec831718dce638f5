// The payload file shared by the ingest benchmark's generator and sender: remote-write bodies
// encoded once, so that encoding never counts against the server being measured, and every server
// is sent byte-identical requests.
//
// Layout of payloads.bin: the 8-byte magic "CRMPAY01", then one record per request:
// u32 slice, u32 step, u32 samples, u32 body bytes (host byte order), then the body.
// A slice is a fixed group of series; requests of one slice must be sent in step order, as
// Prometheus's shards keep each series in order.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace crmscope::bench {

struct Payload {
  uint32_t slice = 0;
  uint32_t step = 0;
  uint32_t samples = 0;
  std::string body;  // snappy-compressed prometheus.WriteRequest
};

class PayloadWriter {
 public:
  explicit PayloadWriter(const std::string& path);
  bool ok() const { return out_.good(); }
  void Write(const Payload& payload);
  bool Close();  // false when anything failed to reach the file

 private:
  std::ofstream out_;
};

// Reads every record; false with *error set on a missing, foreign or truncated file.
bool ReadPayloads(const std::string& path, std::vector<Payload>* out, std::string* error);

}  // namespace crmscope::bench
