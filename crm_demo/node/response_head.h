// The status line and headers of one crm-node response, built in a fixed buffer and sent with
// the body in as few writes as possible.
//
// Why not CivetWeb's mg_response_header_add/_send: they copy every name and value to the heap
// and print each line with mg_printf, about 3,500 instructions a header and 18,000 of the
// 130,000 a typical request cost (callgrind, bench/stack/run.sh). Writing the head directly is
// what prometheus-cpp's own CivetWeb handler does. Keep-alive follows CivetWeb's rule (HTTP/1.1
// unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive"; never after a 401),
// and a response that closes tells CivetWeb so.
#pragma once

#include <cstddef>
#include <string_view>

struct mg_connection;

namespace crmscope::crm {

class ResponseHead {
 public:
  ResponseHead(mg_connection* conn, int status);
  ResponseHead(const ResponseHead&) = delete;
  ResponseHead& operator=(const ResponseHead&) = delete;

  // A header longer than the space left is dropped rather than truncated; the buffer holds
  // far more than crm-node ever sends.
  void Add(std::string_view name, std::string_view value);
  // Ends the head with Date and Connection, then writes head and body.
  void Send(std::string_view body);

 private:
  mg_connection* conn_;
  int status_;
  size_t size_ = 0;
  char buffer_[4096];
};

}  // namespace crmscope::crm
