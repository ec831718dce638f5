#include "crm_demo/node/response_head.h"

#include <civetweb.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <ctime>
#include <strings.h>

namespace crmscope::crm {

namespace {

// RFC 9110's IMF-fixdate, formatted once a second per thread: strftime cost more than the rest
// of the head together.
std::string_view HttpDate() {
  thread_local time_t formatted_for = -1;
  thread_local char text[40];
  thread_local size_t length = 0;
  time_t now = time(nullptr);
  if (now != formatted_for) {
    struct tm utc;
    gmtime_r(&now, &utc);
    length = strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
    formatted_for = now;
  }
  return {text, length};
}

bool HasToken(std::string_view header, std::string_view token) {
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.size() == token.size() && strncasecmp(item.data(), token.data(), token.size()) == 0) {
      return true;
    }
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

bool ClientKeepsAlive(mg_connection* conn, int status) {
  if (status == 401) return false;  // as CivetWeb: a challenge closes the connection
  const mg_request_info* info = mg_get_request_info(conn);
  const char* connection = mg_get_header(conn, "Connection");
  if (connection != nullptr) return HasToken(connection, "keep-alive");
  return info->http_version != nullptr && std::strcmp(info->http_version, "1.1") == 0;
}

}  // namespace

ResponseHead::ResponseHead(mg_connection* conn, int status) : conn_(conn), status_(status) {
  char line[64] = "HTTP/1.1 ";
  char* end = std::to_chars(line + 9, line + 13, status).ptr;
  *end++ = ' ';
  const char* reason = mg_get_response_code_text(conn, status);
  size_t reason_length = std::min(std::strlen(reason), sizeof line - (end - line) - 2);
  end = std::copy_n(reason, reason_length, end);
  *end++ = '\r';
  *end++ = '\n';
  size_ = static_cast<size_t>(end - line);
  std::memcpy(buffer_, line, size_);
}

void ResponseHead::Add(std::string_view name, std::string_view value) {
  size_t line = name.size() + 2 + value.size() + 2;
  if (size_ + line + 2 > sizeof buffer_) return;
  char* out = buffer_ + size_;
  out = std::copy(name.begin(), name.end(), out);
  *out++ = ':';
  *out++ = ' ';
  out = std::copy(value.begin(), value.end(), out);
  *out++ = '\r';
  *out++ = '\n';
  size_ += line;
}

void ResponseHead::Send(std::string_view body) {
  bool keep_alive = ClientKeepsAlive(conn_, status_);
  if (!keep_alive) mg_disable_connection_keep_alive(conn_);
  Add("Date", HttpDate());
  Add("Connection", keep_alive ? "keep-alive" : "close");
  buffer_[size_++] = '\r';
  buffer_[size_++] = '\n';
  // One write for a small response, so it leaves in one TCP segment under tcp_nodelay.
  if (body.size() <= sizeof buffer_ - size_) {
    std::memcpy(buffer_ + size_, body.data(), body.size());
    mg_write(conn_, buffer_, size_ + body.size());
    return;
  }
  mg_write(conn_, buffer_, size_);
  mg_write(conn_, body.data(), body.size());
}

}  // namespace crmscope::crm
