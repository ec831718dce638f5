// One HTTP connection to a remote-write endpoint (a libcurl easy handle, kept alive between
// requests) and the verdict on each answer: sent, retry later, or never retry.
// Internal to the sender; one per shard, used from that shard's thread only.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "exporters/remote_write/queue_sender.h"

namespace crmscope::remote_write {

struct WriteOutcome {
  enum class Verdict { kSent, kRetry, kDrop };
  Verdict verdict = Verdict::kRetry;
  long status = 0;             // HTTP status, 0 when no answer came
  int64_t retry_after_ms = -1;  // from a Retry-After header, -1 when absent or unparsable
  std::string error;           // for the log: curl's message or the start of the answer's body
};

// Retry-After as RFC 9110 defines it: delay-seconds or an HTTP-date. -1 when neither.
int64_t ParseRetryAfterMs(std::string_view value, int64_t now_unix_ms);

class WriteClient {
 public:
  // `abort`, when it turns true, cuts a request short (its outcome is then kRetry).
  WriteClient(const QueueSenderConfig& config, const std::atomic<bool>* abort);
  ~WriteClient();
  WriteClient(const WriteClient&) = delete;
  WriteClient& operator=(const WriteClient&) = delete;

  // POSTs one snappy-compressed WriteRequest.
  WriteOutcome Post(std::string_view body);

 private:
  struct Handles;
  std::unique_ptr<Handles> handles_;
  bool retry_on_http_429_;
};

}  // namespace crmscope::remote_write
