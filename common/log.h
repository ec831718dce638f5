// Log lines on stderr in logfmt, as Prometheus writes them (go-kit log):
//   ts=2026-11-27T09:00:00.123Z level=info msg="Listening" address=127.0.0.1:9300
// so the same grep and log shippers work for crmscope and Prometheus. Every crmscope process
// logs through it; the launcher finds a process's port by grepping "msg=Listening address=".
#pragma once

#include <initializer_list>
#include <string_view>
#include <utility>

namespace crmscope::log {

enum class Level { kDebug = 0, kInfo, kWarn, kError };

// A field written on every line right after the level ("node=node1"), naming the process among
// its peers in a shared log; set once at startup, before any other thread logs.
void SetProcessField(std::string_view name, std::string_view value);

// Lines below this level are dropped (--log.level). Thread-safe; defaults to info.
void SetLevel(Level level);
bool ParseLevel(std::string_view text, Level* level);  // "debug", "info", "warn", "error"

using Field = std::pair<std::string_view, std::string_view>;

// Writes one line atomically (one write(2)), quoting values that need it.
void Write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});

inline void Info(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kInfo, msg, fields);
}
inline void Warn(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kWarn, msg, fields);
}
inline void Error(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kError, msg, fields);
}
inline void Debug(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kDebug, msg, fields);
}

}  // namespace crmscope::log
