#include "agent/sources/nginx_log/field_values.h"

#include <charconv>
#include <system_error>

namespace crmscope::agent::nginx_log {

namespace {

constexpr double kPowersOfTen[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

bool ParseDecimalSlowly(std::string_view text, double* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && *out >= 0;
}

}  // namespace

bool ParseDecimal(std::string_view text, double* out) {
  uint64_t mantissa = 0;
  int digits = 0, fraction_digits = -1;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      mantissa = mantissa * 10 + static_cast<uint64_t>(c - '0');
      ++digits;
      if (fraction_digits >= 0) ++fraction_digits;
    } else if (c == '.' && fraction_digits < 0) {
      fraction_digits = 0;
    } else {
      return false;
    }
    // Past 15 digits the mantissa or the power of ten stops being exact in a double.
    if (digits > 15) return ParseDecimalSlowly(text, out);
  }
  if (digits == 0) return false;
  // Both operands are exact, so the one division rounds correctly, as strtod would.
  *out = fraction_digits > 0 ? static_cast<double>(mantissa) / kPowersOfTen[fraction_digits]
                             : static_cast<double>(mantissa);
  return true;
}

bool ParseUnsigned(std::string_view text, uint64_t* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

bool ParseStatus(std::string_view text, int* out) {
  if (text.size() != 3) return false;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value < 100) return false;
  *out = value;
  return true;
}

bool AttemptCursor::Next(std::string_view* item) {
  if (done_) return false;
  for (size_t i = 0; i + 1 < rest_.size(); ++i) {
    size_t separator = 0;
    if (rest_[i] == ',' && rest_[i + 1] == ' ') separator = 2;
    if (rest_[i] == ' ' && rest_[i + 1] == ':' && i + 2 < rest_.size() && rest_[i + 2] == ' ') {
      separator = 3;
    }
    if (separator != 0) {
      *item = rest_.substr(0, i);
      rest_.remove_prefix(i + separator);
      return true;
    }
  }
  *item = rest_;
  done_ = true;
  return true;
}

std::string_view LastAttempt(std::string_view value) {
  if (IsEmptyValue(value)) return {};
  for (size_t i = value.size(); i-- > 1;) {
    // ", " and " : " both end in a space preceded by ',' or ':'.
    if (value[i] == ' ' &&
        (value[i - 1] == ',' || (value[i - 1] == ':' && i >= 2 && value[i - 2] == ' '))) {
      return value.substr(i + 1);
    }
  }
  return value;
}

uint8_t MethodIndex(std::string_view method) {
  if (IsEmptyValue(method)) return 0;
  for (size_t i = 1; i + 1 < kMethodLabels.size(); ++i) {
    if (kMethodLabels[i] == method) return static_cast<uint8_t>(i);
  }
  return static_cast<uint8_t>(kMethodLabels.size() - 1);
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

size_t ServerTimingEntryEnd(std::string_view header) {
  bool quoted = false;
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == '"') quoted = !quoted;
    if (header[i] == '\\' && quoted)
      ++i;
    else if (header[i] == ',' && !quoted)
      return i;
  }
  return header.size();
}

bool ParseServerTimingEntry(std::string_view entry, std::string_view* name, double* seconds) {
  size_t semicolon = entry.find(';');
  *name = TrimSpaces(entry.substr(0, semicolon));
  if (name->empty()) return false;
  while (semicolon != std::string_view::npos) {
    entry.remove_prefix(semicolon + 1);
    semicolon = entry.find(';');
    std::string_view param = TrimSpaces(entry.substr(0, semicolon));
    size_t equals = param.find('=');
    if (equals == std::string_view::npos) continue;
    if (TrimSpaces(param.substr(0, equals)) != "dur") continue;
    std::string_view value = TrimSpaces(param.substr(equals + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    double ms = 0;
    if (!ParseDecimal(value, &ms)) return false;
    *seconds = ms / 1000;
    return true;
  }
  return false;
}

}  // namespace crmscope::agent::nginx_log
