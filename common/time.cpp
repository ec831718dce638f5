#include "common/time.h"

#include <charconv>
#include <chrono>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <ctime>

namespace crmscope {

namespace {

constexpr int64_t kSecond = 1000, kMinute = 60 * kSecond, kHour = 60 * kMinute, kDay = 24 * kHour,
                  kWeek = 7 * kDay, kYear = 365 * kDay;

struct Unit {
  std::string_view name;
  int64_t ms;
};
// Prometheus's order: a duration lists units from largest to smallest, each at most once.
constexpr Unit kUnits[] = {{"y", kYear}, {"w", kWeek}, {"d", kDay}, {"h", kHour},
                           {"m", kMinute}, {"s", kSecond}, {"ms", 1}};

bool ParseDigits(std::string_view s, size_t* pos, int64_t* out) {
  size_t start = *pos;
  while (*pos < s.size() && s[*pos] >= '0' && s[*pos] <= '9') ++*pos;
  if (*pos == start) return false;
  auto [p, ec] = std::from_chars(s.data() + start, s.data() + *pos, *out);
  return ec == std::errc() && p == s.data() + *pos;
}

}  // namespace

TimestampMs NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

bool ParseDuration(std::string_view text, int64_t* ms, std::string* error) {
  auto fail = [&] {
    if (error) *error = "not a valid duration string: \"" + std::string(text) + "\"";
    return false;
  };
  if (text == "0") { *ms = 0; return true; }
  if (text.empty()) return fail();
  int64_t total = 0;
  size_t pos = 0;
  size_t next_unit = 0;  // units must appear in decreasing order
  while (pos < text.size()) {
    int64_t n;
    if (!ParseDigits(text, &pos, &n)) return fail();
    size_t u = next_unit;
    // "ms" must be tried before "m".
    bool found = false;
    for (; u < std::size(kUnits); ++u) {
      std::string_view name = kUnits[u].name;
      if (text.substr(pos, name.size()) == name &&
          !(name == "m" && text.substr(pos, 2) == "ms")) {
        found = true;
        break;
      }
    }
    if (!found) return fail();
    if (n > INT64_MAX / kUnits[u].ms || total > INT64_MAX - n * kUnits[u].ms) {
      if (error) *error = "duration out of range";
      return false;
    }
    total += n * kUnits[u].ms;
    pos += kUnits[u].name.size();
    next_unit = u + 1;
  }
  *ms = total;
  return true;
}

std::string FormatDuration(int64_t ms) {
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) { out = "-"; ms = -ms; }
  for (const Unit& u : kUnits) {
    // As Prometheus: years and weeks only when exact, since 90d reads better than 12w6d.
    if ((u.name == "y" || u.name == "w") && ms % u.ms != 0) continue;
    if (ms >= u.ms) {
      out += std::to_string(ms / u.ms);
      out += u.name;
      ms %= u.ms;
    }
  }
  return out;
}

namespace {

bool ParseFixed(std::string_view s, size_t pos, size_t len, int* out) {
  if (pos + len > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + len; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// RFC 3339 with optional fractional seconds: 2006-01-02T15:04:05.999999999Z07:00.
bool ParseRfc3339(std::string_view s, TimestampMs* ms) {
  int year, mon, day, hour, min, sec;
  if (!ParseFixed(s, 0, 4, &year) || s.size() < 20 || s[4] != '-' || !ParseFixed(s, 5, 2, &mon) ||
      s[7] != '-' || !ParseFixed(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't') ||
      !ParseFixed(s, 11, 2, &hour) || s[13] != ':' || !ParseFixed(s, 14, 2, &min) ||
      s[16] != ':' || !ParseFixed(s, 17, 2, &sec)) {
    return false;
  }
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) return false;
  size_t pos = 19;
  int64_t frac_ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac_ms += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return false;
  }
  int64_t offset_s = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!ParseFixed(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !ParseFixed(s, pos + 4, 2, &om)) {
      return false;
    }
    offset_s = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return false;
  }
  if (pos != s.size()) return false;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  int64_t secs = static_cast<int64_t>(timegm(&tm)) - offset_s;
  *ms = secs * 1000 + frac_ms;
  return true;
}

}  // namespace

bool ParseApiTime(std::string_view text, TimestampMs* ms, std::string* error) {
  // Unix seconds first, as Prometheus's API does; the fraction is rounded to milliseconds.
  std::string buf(text);
  char* end = nullptr;
  errno = 0;
  double secs = std::strtod(buf.c_str(), &end);
  // As Go's ParseFloat: "1e400" overflows and is an error, while "Inf" is a value.
  bool overflow = errno == ERANGE && std::isinf(secs);
  bool numeric = !buf.empty() && !std::isspace(static_cast<unsigned char>(buf[0])) &&
                 end == buf.c_str() + buf.size() && !std::isnan(secs) && !overflow;
  if (numeric) {
    // Times beyond what int64 milliseconds hold (and +-Inf) clamp to the ends of time.
    constexpr double kLimit = 9.2e15;
    if (secs >= kLimit) { *ms = INT64_MAX; return true; }
    if (secs <= -kLimit) { *ms = INT64_MIN; return true; }
    double whole;
    double frac = std::modf(secs, &whole);
    *ms = static_cast<int64_t>(whole) * 1000 + static_cast<int64_t>(std::round(frac * 1000));
    return true;
  }
  if (ParseRfc3339(text, ms)) return true;
  if (error) *error = "cannot parse \"" + std::string(text) + "\" to a valid timestamp";
  return false;
}

bool ParseByteSize(std::string_view text, int64_t* bytes, std::string* error) {
  static constexpr Unit kByteUnits[] = {{"EB", 1LL << 60}, {"PB", 1LL << 50}, {"TB", 1LL << 40},
                                        {"GB", 1LL << 30}, {"MB", 1LL << 20}, {"KB", 1LL << 10},
                                        {"EiB", 1LL << 60}, {"PiB", 1LL << 50}, {"TiB", 1LL << 40},
                                        {"GiB", 1LL << 30}, {"MiB", 1LL << 20}, {"KiB", 1LL << 10},
                                        {"B", 1}};
  size_t pos = 0;
  int64_t n;
  if (text == "0") { *bytes = 0; return true; }
  if (ParseDigits(text, &pos, &n)) {
    std::string_view unit = text.substr(pos);
    for (const Unit& u : kByteUnits) {
      if (unit == u.name) {
        if (n > INT64_MAX / u.ms) break;
        *bytes = n * u.ms;
        return true;
      }
    }
  }
  if (error) *error = "not a valid byte size: \"" + std::string(text) + "\" (e.g. 512MB, 10GB)";
  return false;
}

}  // namespace crmscope
