#include "collector/api/query_params.h"

#include <cerrno>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "common/time.h"

namespace crmscope::api {

namespace {

constexpr int64_t kNsPerMs = 1'000'000;
constexpr int64_t kNsPerSecond = 1'000'000'000;

// Go's strconv.ParseFloat as API clients use it. strtod would skip leading space; Go does not.
bool ParseFloatText(std::string_view text, double* out) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text.front()))) return false;
  std::string buf(text);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(buf.c_str(), &end);
  if (end != buf.c_str() + buf.size()) return false;
  if (errno == ERANGE && std::fabs(v) > 1) return false;  // Go refuses overflow only
  *out = v;
  return true;
}

ApiError InvalidParam(std::string_view name, std::string_view problem) {
  return {ErrorType::kBadData, "invalid parameter " + GoQuote(name) + ": " + std::string(problem)};
}

// Prometheus's parseTime, whose messages carry no "Invalid time value for" (parseTimeParam's).
bool ParseRequiredTime(const FormValues& form, std::string_view name, TimestampMs* out,
                       ApiError* error) {
  std::string_view text = form.Get(name);
  if (ParseApiTimeValue(text, out)) return true;
  *error = InvalidParam(name, "cannot parse " + GoQuote(text) + " to a valid timestamp");
  return false;
}

bool ParseTimeoutParam(const FormValues& form, std::optional<int64_t>* out, ApiError* error) {
  std::string_view text = form.Get("timeout");
  if (text.empty()) return true;
  int64_t ns = 0;
  std::string problem;
  if (!ParseDurationNs(text, &ns, &problem)) {
    *error = InvalidParam("timeout", problem);
    return false;
  }
  *out = ns;
  return true;
}

// time.Time.Sub of Prometheus's times, which saturates instead of overflowing.
int64_t SaturatingSpanNs(TimestampMs start, TimestampMs end) {
  __int128 ns = (static_cast<__int128>(end) - start) * kNsPerMs;
  if (ns > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
  if (ns < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(ns);
}

}  // namespace

bool ParseDurationNs(std::string_view text, int64_t* ns, std::string* error) {
  double seconds = 0;
  if (ParseFloatText(text, &seconds)) {
    double value = seconds * static_cast<double>(kNsPerSecond);
    if (value > static_cast<double>(std::numeric_limits<int64_t>::max()) ||
        value < static_cast<double>(std::numeric_limits<int64_t>::min())) {
      *error = "cannot parse " + GoQuote(text) + " to a valid duration. It overflows int64";
      return false;
    }
    // Go converts NaN (and 2^63, which passes the check above) to the minimum int64 on amd64.
    *ns = std::isnan(value) || value >= 0x1p63 ? std::numeric_limits<int64_t>::min()
                                                : static_cast<int64_t>(value);
    return true;
  }
  int64_t ms = 0;
  std::string ignored;
  if (ParseDuration(text, &ms, &ignored) && ms <= std::numeric_limits<int64_t>::max() / kNsPerMs) {
    *ns = ms * kNsPerMs;
    return true;
  }
  *error = "cannot parse " + GoQuote(text) + " to a valid duration";
  return false;
}

bool ParseInstantQueryParams(const FormValues& form, TimestampMs now, InstantQueryParams* out,
                             ApiError* error) {
  if (!ParseTimeParam(form, "time", now, &out->time, error)) return false;
  if (!ParseTimeoutParam(form, &out->timeout_ns, error)) return false;
  out->query = form.Get("query");
  return true;
}

bool ParseRangeQueryParams(const FormValues& form, RangeQueryParams* out, ApiError* error) {
  if (!ParseRequiredTime(form, "start", &out->start, error) ||
      !ParseRequiredTime(form, "end", &out->end, error)) {
    return false;
  }
  if (out->end < out->start) {
    *error = InvalidParam("end", "end timestamp must not be before start time");
    return false;
  }
  std::string problem;
  if (!ParseDurationNs(form.Get("step"), &out->step_ns, &problem)) {
    *error = InvalidParam("step", problem);
    return false;
  }
  if (out->step_ns <= 0) {
    *error = InvalidParam("step",
                          "zero or negative query resolution step widths are not accepted. "
                          "Try a positive integer");
    return false;
  }
  if (SaturatingSpanNs(out->start, out->end) / out->step_ns > kMaxPointsPerSeries) {
    *error = {ErrorType::kBadData,
              "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the "
              "query resolution (?step=XX)"};
    return false;
  }
  if (!ParseTimeoutParam(form, &out->timeout_ns, error)) return false;
  out->query = form.Get("query");
  return true;
}

int64_t EffectiveTimeoutMs(int64_t timeout_ns, int64_t engine_timeout_ms) {
  if (timeout_ns <= 0) return 0;
  int64_t ms = timeout_ns / kNsPerMs + (timeout_ns % kNsPerMs != 0 ? 1 : 0);
  return engine_timeout_ms > 0 && engine_timeout_ms < ms ? engine_timeout_ms : ms;
}

}  // namespace crmscope::api
