#include "collector/promql/literals.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "collector/promql/go_format.h"
#include "common/time.h"

namespace crmscope::promql {

namespace {

// strconv.ParseInt(text, 0, 64) for the unsigned forms the lexer produces.
bool ParseGoInt(std::string_view s, int64_t* out) {
  int base = 10;
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  } else if (s.size() >= 2 && s[0] == '0') {
    base = 8;
    s.remove_prefix(1);
  }
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out, base);
  return ec == std::errc() && end == s.data() + s.size();
}

bool EqualsLower(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

// strconv.ParseFloat for the texts the lexer produces: decimal floats, inf and nan. A hex
// mantissa needs a 'p' exponent in Go, which the lexer never lets through.
std::optional<double> ParseGoFloat(std::string_view s, std::string* error) {
  auto fail = [&](const char* why) -> std::optional<double> {
    *error = "strconv.ParseFloat: parsing " + GoQuote(s) + ": " + why;
    return std::nullopt;
  };
  std::string_view body = s;
  bool negative = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (EqualsLower(body, "inf") || EqualsLower(body, "infinity")) {
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  if (EqualsLower(body, "nan")) return std::numeric_limits<double>::quiet_NaN();
  size_t i = 0, mantissa_digits = 0;
  while (i < body.size() && body[i] >= '0' && body[i] <= '9') ++i, ++mantissa_digits;
  if (i < body.size() && body[i] == '.') {
    ++i;
    while (i < body.size() && body[i] >= '0' && body[i] <= '9') ++i, ++mantissa_digits;
  }
  if (mantissa_digits == 0) return fail("invalid syntax");
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    ++i;
    if (i < body.size() && (body[i] == '+' || body[i] == '-')) ++i;
    size_t exp_start = i;
    while (i < body.size() && body[i] >= '0' && body[i] <= '9') ++i;
    if (i == exp_start) return fail("invalid syntax");
  }
  if (i != body.size()) return fail("invalid syntax");
  std::string copy(s);
  double v = std::strtod(copy.c_str(), nullptr);
  if (std::isinf(v)) return fail("value out of range");
  return v;
}

}  // namespace

std::optional<double> ParseNumberLiteral(std::string_view text, std::string* error) {
  int64_t n;
  if (ParseGoInt(text, &n)) return static_cast<double>(n);
  return ParseGoFloat(text, error);
}

std::optional<int64_t> ParsePromDuration(std::string_view text, std::string* error) {
  int64_t ms;
  if (!ParseDuration(text, &ms, error)) {
    if (error->starts_with("duration out of range")) *error = "duration out of range";
    return std::nullopt;
  }
  // Prometheus holds durations as Go time.Duration: int64 nanoseconds.
  if (ms > std::numeric_limits<int64_t>::max() / 1000000) {
    *error = "duration out of range";
    return std::nullopt;
  }
  return ms;
}

std::string UnquoteString(std::string_view token) {
  if (token.size() < 2) return std::string();
  char quote = token[0];
  std::string_view body = token.substr(1, token.size() - 2);
  if (quote == '`') return std::string(body);
  std::string out;
  out.reserve(body.size());
  auto hex = [](char c) {
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
  };
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '\\') {
      out.push_back(body[i]);
      continue;
    }
    char c = body[++i];
    switch (c) {
      case 'a': out.push_back('\a'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'v': out.push_back('\v'); break;
      case 'x':
        out.push_back(static_cast<char>(hex(body[i + 1]) * 16 + hex(body[i + 2])));
        i += 2;
        break;
      case 'u':
      case 'U': {
        int digits = c == 'u' ? 4 : 8;
        int r = 0;
        for (int k = 1; k <= digits; ++k) r = r * 16 + hex(body[i + k]);
        AppendRune(&out, r);
        i += digits;
        break;
      }
      default:
        if (c >= '0' && c <= '7') {
          out.push_back(static_cast<char>((c - '0') * 64 + (body[i + 1] - '0') * 8 + (body[i + 2] - '0')));
          i += 2;
        } else {
          out.push_back(c);  // \\ and the escaped quote
        }
    }
  }
  return out;
}

bool TimestampInRange(double seconds) {
  constexpr double kMax = static_cast<double>(std::numeric_limits<int64_t>::max());
  constexpr double kMin = static_cast<double>(std::numeric_limits<int64_t>::min());
  return std::isfinite(seconds) && seconds < kMax && seconds > kMin;
}

int64_t SecondsToMs(double seconds) {
  double ms = std::round(seconds * 1000);
  // Go converts an out-of-range float to int64's minimum on amd64; Prometheus inherits that.
  if (!(ms > -9.223372036854775808e18 && ms < 9.223372036854775808e18)) {
    return std::numeric_limits<int64_t>::min();
  }
  return static_cast<int64_t>(ms);
}

}  // namespace crmscope::promql
