#include "crm_demo/launcher/access_log.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <system_error>

namespace crmscope::launcher {

namespace {

bool ParseDouble(std::string_view text, double* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string AccessLogFormatString() {
  std::string format;
  for (std::string_view field : kAccessLogFields) {
    if (!format.empty()) format += "\\t";
    format += "$" + std::string(field);
  }
  return format;
}

std::string AccessLogFormatDirective() {
  return "log_format " + std::string(kAccessLogFormatName) + " '" + AccessLogFormatString() + "';";
}

std::string AccessLogFormatJson() {
  nlohmann::json fields = nlohmann::json::array();
  for (std::string_view field : kAccessLogFields) fields.push_back(field);
  return nlohmann::json{
             {"name", kAccessLogFormatName},
             {"nginx_log_format", AccessLogFormatDirective()},
             {"delimiter", "\t"},
             {"empty_value", "-"},
             {"multi_value_separator", ", "},
             {"escaping", "nginx default: \" and \\ and bytes outside 0x20-0x7e as \\xHH"},
             {"fields", fields}}
             .dump(2) +
         "\n";
}

bool ParseAccessLogLine(std::string_view line, AccessLogRecord* record) {
  std::array<std::string_view, kAccessLogFields.size()> values;
  size_t count = 0;
  while (true) {
    size_t tab = line.find('\t');
    if (count == values.size()) return false;  // a thirteenth field
    values[count++] = line.substr(0, tab);
    if (tab == std::string_view::npos) break;
    line.remove_prefix(tab + 1);
  }
  if (count != values.size()) return false;
  double status = 0;
  if (!ParseDouble(values[0], &record->msec) || !ParseDouble(values[3], &status) ||
      !ParseDouble(values[4], &record->request_time)) {
    return false;
  }
  record->method = values[1];
  record->uri = values[2];
  record->status = static_cast<int>(status);
  record->upstream_addr = values[5];
  return true;
}

void AccessLogFollower::SkipToEnd() {
  std::error_code ec;
  uintmax_t size = std::filesystem::file_size(path_, ec);
  offset_ = ec ? 0 : size;
  partial_.clear();
}

void AccessLogFollower::Poll(const std::function<void(std::string_view line)>& on_line) {
  std::error_code ec;
  uintmax_t size = std::filesystem::file_size(path_, ec);
  if (ec) return;
  if (size < offset_) {
    offset_ = 0;
    partial_.clear();
  }
  if (size == offset_) return;
  std::ifstream in(path_, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset_));
  std::string chunk(size - offset_, '\0');
  in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  chunk.resize(static_cast<size_t>(in.gcount()));
  offset_ += chunk.size();
  partial_ += chunk;
  std::string_view rest = partial_;
  for (size_t newline; (newline = rest.find('\n')) != std::string_view::npos;) {
    on_line(rest.substr(0, newline));
    rest.remove_prefix(newline + 1);
  }
  partial_ = std::string(rest);
}

}  // namespace crmscope::launcher
