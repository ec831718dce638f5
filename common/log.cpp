#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace crmscope::log {

namespace {

std::atomic<int> min_level{static_cast<int>(Level::kInfo)};
std::string process_field;  // " node=node1", or empty

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

void AppendTimestamp(std::string* out) {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t secs = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];  // room for any int the compiler cannot rule out
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  *out += buf;
}

// logfmt quotes a value holding spaces, quotes, '=' or control bytes, and an empty value.
void AppendValue(std::string_view value, std::string* out) {
  bool needs_quotes = value.empty();
  for (unsigned char c : value) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) needs_quotes = true;
  }
  if (!needs_quotes) {
    *out += value;
    return;
  }
  *out += '"';
  for (unsigned char c : value) {
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char hex[8];
          std::snprintf(hex, sizeof hex, "\\u%04x", c);
          *out += hex;
        } else {
          *out += static_cast<char>(c);
        }
    }
  }
  *out += '"';
}

}  // namespace

void SetProcessField(std::string_view name, std::string_view value) {
  process_field = " ";
  process_field += name;
  process_field += '=';
  AppendValue(value, &process_field);
}

void SetLevel(Level level) { min_level.store(static_cast<int>(level)); }

bool ParseLevel(std::string_view text, Level* level) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (text == LevelName(l)) {
      *level = l;
      return true;
    }
  }
  return false;
}

void Write(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  if (static_cast<int>(level) < min_level.load(std::memory_order_relaxed)) return;
  std::string line = "ts=";
  AppendTimestamp(&line);
  line += " level=";
  line += LevelName(level);
  line += process_field;
  line += " msg=";
  AppendValue(msg, &line);
  for (const Field& f : fields) {
    line += ' ';
    line += f.first;
    line += '=';
    AppendValue(f.second, &line);
  }
  line += '\n';
  // One write(2) per line keeps lines from concurrent request threads whole.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace crmscope::log
