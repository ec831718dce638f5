// Reading the values nginx writes into an access log: numbers, the lists of the $upstream_*
// variables, Server-Timing headers and request methods. Nothing here allocates.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace crmscope::agent::nginx_log {

// nginx writes "-" for an empty or unset value, and for an attempt that has none in a list.
inline bool IsEmptyValue(std::string_view value) { return value.empty() || value == "-"; }

// A non-negative decimal as nginx prints times and sizes ("0.123", "1732698000.123", "512").
// Exact (one correctly rounded division) for up to 15 significant digits, the cost of a loop.
bool ParseDecimal(std::string_view text, double* out);
bool ParseUnsigned(std::string_view text, uint64_t* out);
// An HTTP status: three digits, 100..999.
bool ParseStatus(std::string_view text, int* out);

// The lists nginx writes in $upstream_addr, $upstream_status and the $upstream_*_time variables
// when a request went to more than one server: ", " between the attempts within one upstream
// group and " : " between groups (after an X-Accel-Redirect or error_page to another group). All
// those variables list the same attempts in the same order.
// Walks such a list item by item; "-" (no upstream at all) has no items, while "-" as one item
// is an attempt without that value (a connect time of a server that never answered).
class AttemptCursor {
 public:
  explicit AttemptCursor(std::string_view list) : rest_(list), done_(IsEmptyValue(list)) {}
  bool Next(std::string_view* item);

 private:
  std::string_view rest_;
  bool done_;
};
// The last item: the server whose answer nginx passed on.
std::string_view LastAttempt(std::string_view value);

// Request methods are a closed set so that a client sending junk cannot create label values.
inline constexpr std::array<std::string_view, 11> kMethodLabels = {
    "", "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE", "other"};
// Index into kMethodLabels; 0 for "-" or "".
uint8_t MethodIndex(std::string_view method);

// Calls on_stage(name, seconds) for each metric of a Server-Timing header value that has a dur
// ("cache;dur=0.012, db;dur=1.532;desc=\"x\""): dur is milliseconds by the W3C definition.
template <typename OnStage>
void ForEachServerTimingStage(std::string_view header, OnStage&& on_stage);

// Implementation details below.

std::string_view TrimSpaces(std::string_view s);
// Splits `entry` (one comma-separated metric) into name and dur; false when it has no dur.
bool ParseServerTimingEntry(std::string_view entry, std::string_view* name, double* seconds);

// The end of the metric starting at `header`: the first comma outside a quoted parameter.
size_t ServerTimingEntryEnd(std::string_view header);

template <typename OnStage>
void ForEachServerTimingStage(std::string_view header, OnStage&& on_stage) {
  while (!header.empty()) {
    size_t end = ServerTimingEntryEnd(header);
    std::string_view name;
    double seconds = 0;
    if (ParseServerTimingEntry(header.substr(0, end), &name, &seconds)) on_stage(name, seconds);
    if (end >= header.size()) break;
    header.remove_prefix(end + 1);
  }
}

}  // namespace crmscope::agent::nginx_log
