#include "crm_demo/node/log.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace crmscope::crm::log {

namespace {

std::string& NodeName() {
  static std::string name;
  return name;
}

// logfmt quotes empty values and values holding spaces, quotes, '=' or control bytes.
void AppendValue(std::string_view value, std::string* out) {
  bool quote = value.empty();
  for (unsigned char c : value) quote = quote || c <= ' ' || c == '"' || c == '=' || c == 0x7f;
  if (!quote) {
    *out += value;
    return;
  }
  *out += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') {
      *out += '\\';
      *out += c;
    } else if (c == '\n') {
      *out += "\\n";
    } else {
      *out += c;
    }
  }
  *out += '"';
}

void Write(std::string_view level, std::string_view msg, std::initializer_list<Field> fields) {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t secs = system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[64];
  std::snprintf(
      ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
      static_cast<int>(duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000));
  std::string line = "ts=";
  line += ts;
  line += " level=";
  line += level;
  if (!NodeName().empty()) {
    line += " node=";
    AppendValue(NodeName(), &line);
  }
  line += " msg=";
  AppendValue(msg, &line);
  for (const Field& field : fields) {
    line += ' ';
    line += field.first;
    line += '=';
    AppendValue(field.second, &line);
  }
  line += '\n';
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace

void SetNodeName(std::string name) { NodeName() = std::move(name); }
void Info(std::string_view msg, std::initializer_list<Field> fields) { Write("info", msg, fields); }
void Warn(std::string_view msg, std::initializer_list<Field> fields) { Write("warn", msg, fields); }
void Error(std::string_view msg, std::initializer_list<Field> fields) {
  Write("error", msg, fields);
}

}  // namespace crmscope::crm::log
