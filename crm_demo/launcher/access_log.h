// The nginx access log the demo writes: one request per line, twelve fields separated by TAB,
//
//   $msec $request_method $uri $status $request_time $upstream_addr $upstream_status
//   $upstream_connect_time $upstream_header_time $upstream_response_time $body_bytes_sent
//   $upstream_http_server_timing
//
// TAB because the values themselves hold spaces and commas: a request retried on a second node
// logs "127.0.0.1:4001, 127.0.0.1:4002" as its upstream_addr (and two statuses, two times), and
// Server-Timing is "cache;dur=0.012, db;dur=0.310". nginx's default escaping writes bytes below
// 0x20 (a TAB inside a value) as \xHH, so a TAB is always a separator. An empty value is "-".
//
// The launcher keeps a deliberately small reader here for its live table; the agent parses the
// log properly. The format is also written to the run directory as JSON (AccessLogFormatJson).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace crmscope::launcher {

inline constexpr std::array<std::string_view, 12> kAccessLogFields = {
    "msec",
    "request_method",
    "uri",
    "status",
    "request_time",
    "upstream_addr",
    "upstream_status",
    "upstream_connect_time",
    "upstream_header_time",
    "upstream_response_time",
    "body_bytes_sent",
    "upstream_http_server_timing"};

inline constexpr std::string_view kAccessLogFormatName = "crmscope";

// The format as written between the quotes in nginx.conf, "$msec\t$request_method..." with
// nginx's \t escapes: also what the agent's nginx_log source takes.
std::string AccessLogFormatString();
// The directive for nginx.conf: log_format crmscope '$msec\t$request_method...';
std::string AccessLogFormatDirective();
// {"name", "nginx_log_format", "delimiter", "empty_value", "fields", "multi_value_separator"}
std::string AccessLogFormatJson();

struct AccessLogRecord {
  double msec = 0;  // request end, Unix seconds with millisecond resolution
  std::string_view method;
  std::string_view uri;
  int status = 0;
  double request_time = 0;  // seconds, millisecond resolution
  std::string_view upstream_addr;
};

// False for a line that is not twelve TAB-separated fields with numeric time and status.
bool ParseAccessLogLine(std::string_view line, AccessLogRecord* record);

// Follows a growing log: each Poll hands over the complete lines appended since the last one.
// A file that shrank (rotated or truncated) is read again from its start.
class AccessLogFollower {
 public:
  explicit AccessLogFollower(std::string path) : path_(std::move(path)) {}
  // Skips what is already there, so the first Poll returns only new lines.
  void SkipToEnd();
  void Poll(const std::function<void(std::string_view line)>& on_line);

 private:
  std::string path_;
  uint64_t offset_ = 0;
  std::string partial_;  // a line nginx has not finished writing
};

}  // namespace crmscope::launcher
