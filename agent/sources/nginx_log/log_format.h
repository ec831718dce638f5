// nginx's log_format, compiled into a line parser that needs no regular expression.
//
// The user gives the format exactly as nginx.conf holds it: either the bare format string
// ('$remote_addr - $remote_user [$time_local] "$request" ...', quoted or not) or the whole
// directive (log_format main escape=json '...' '...';). nginx's configuration escapes (\t \n
// \r \" \' \\) are undone first, as nginx's own config reader does, so a format copied from
// nginx.conf matches the bytes nginx writes.
//
// The format compiles into a leading literal and a sequence of steps (variable, literal after
// it). A line is matched left to right: each variable's value runs up to the next occurrence of
// the literal that follows it (memchr on its first byte, then a compare). That is unambiguous
// because nginx escapes what it writes: with the default escaping a value never holds '"', '\'
// or a control byte (TAB included), so a literal made of those always ends the value. A value
// may hold spaces, so a variable followed by a bare space must be one whose value has none,
// except for the lists nginx writes: the $upstream_* variables and header values ($http_*,
// $sent_http_*, $upstream_http_*) separate their items with ", " (and " : " between upstream
// groups), which a following space literal skips over.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crmscope::agent::nginx_log {

// The variables the derivation reads; any other variable is matched and skipped.
enum class LogVariable : uint8_t {
  kOther,
  kMsec,
  kRequest,  // "GET /path?q HTTP/1.1": method and path when the format has no better source
  kRequestMethod,
  kUri,         // normalised path without the query string
  kRequestUri,  // the original path with its query string
  kStatus,
  kRequestTime,
  kUpstreamAddr,
  kUpstreamStatus,
  kUpstreamConnectTime,
  kUpstreamHeaderTime,
  kUpstreamResponseTime,
  kBodyBytesSent,
  kBytesSent,
  kUpstreamHttpServerTiming,
  kCount
};

// log_format's escape= parameter.
enum class LogEscape : uint8_t { kDefault, kJson, kNone };

// The raw (still escaped) value of each known variable in one line; "" when the format lacks it.
struct LogFields {
  std::array<std::string_view, static_cast<size_t>(LogVariable::kCount)> values{};
  std::string_view operator[](LogVariable v) const { return values[static_cast<size_t>(v)]; }
};

class LogFormat {
 public:
  // Returns false with *error set on a format that cannot be parsed unambiguously (two variables
  // with nothing between them, a bad variable name, an unknown escape=).
  static bool Compile(std::string_view format, LogFormat* out, std::string* error);

  // Matches one line (without its newline). False when the line does not follow the format;
  // *fields is then unspecified.
  bool Match(std::string_view line, LogFields* fields) const;

  bool Has(LogVariable v) const { return present_[static_cast<size_t>(v)]; }
  LogEscape escape() const { return escape_; }
  // The variable names in format order, for messages.
  std::vector<std::string> VariableNames() const;

 private:
  struct Step {
    LogVariable variable = LogVariable::kOther;
    bool list_valued = false;  // may hold ", " and " : " (see the header comment)
    std::string name;
    std::string literal_after;  // empty only for the last step: the value runs to the end
  };
  const char* FindLiteral(const Step& step, const char* from, const char* end) const;

  std::string leading_literal_;
  std::vector<Step> steps_;
  std::array<bool, static_cast<size_t>(LogVariable::kCount)> present_{};
  LogEscape escape_ = LogEscape::kDefault;
};

// Undoes nginx's escaping of one value. Returns `raw` itself when it holds no backslash, else a
// view of *scratch (whose capacity is reused, so a steady stream costs no allocation).
std::string_view UnescapeLogValue(std::string_view raw, LogEscape escape, std::string* scratch);

}  // namespace crmscope::agent::nginx_log
