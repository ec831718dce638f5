#include "collector/api/api_params.h"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "common/time.h"

namespace crmscope::api {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsFormEncoded(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  return media == "application/x-www-form-urlencoded";
}

// Go's strconv.ParseFloat as far as API clients use it: decimal or exponent form, "Inf" and
// "NaN" in any case. The caller has refused leading space, which strtod would skip.
bool ParseGoFloat(std::string_view text, double* out) {
  std::string buf(text);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(buf.c_str(), &end);
  if (end != buf.c_str() + buf.size()) return false;
  // Go refuses overflow (ErrRange) but rounds underflow to zero.
  if (errno == ERANGE && std::fabs(v) > 1) return false;
  *out = v;
  return true;
}

}  // namespace

bool DecodeFormComponent(std::string_view in, std::string* out, std::string_view* bad_escape) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      *out += ' ';
    } else if (c == '%') {
      if (i + 2 >= in.size() || HexValue(in[i + 1]) < 0 || HexValue(in[i + 2]) < 0) {
        if (bad_escape) *bad_escape = in.substr(i, 3);
        return false;
      }
      *out += static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2]));
      i += 2;
    } else {
      *out += c;
    }
  }
  return true;
}

void FormValues::AddEncoded(std::string_view encoded) {
  while (!encoded.empty()) {
    size_t amp = encoded.find('&');
    std::string_view pair = encoded.substr(0, amp);
    encoded = amp == std::string_view::npos ? std::string_view() : encoded.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    std::string decoded_key, decoded_value;
    std::string_view bad_escape;
    if (!DecodeFormComponent(key, &decoded_key, &bad_escape) ||
        !DecodeFormComponent(value, &decoded_value, &bad_escape)) {
      if (parse_error_.empty()) parse_error_ = "invalid URL escape " + GoQuote(bad_escape);
      continue;
    }
    values_.emplace_back(std::move(decoded_key), std::move(decoded_value));
  }
}

FormValues FormValues::FromQueryString(std::string_view query) {
  FormValues form;
  form.AddEncoded(query);
  return form;
}

FormValues FormValues::FromRequest(HttpRequest& request) {
  FormValues form;
  std::string_view method = request.method();
  if ((method == "POST" || method == "PUT" || method == "PATCH") &&
      IsFormEncoded(request.Header("Content-Type"))) {
    std::string body;
    switch (request.ReadBody(kMaxFormBodyBytes, &body)) {
      case HttpRequest::BodyStatus::kOk:
        form.AddEncoded(body);
        break;
      case HttpRequest::BodyStatus::kTooLarge:
        form.parse_error_ = "http: POST too large";
        break;
      case HttpRequest::BodyStatus::kReadError:
        form.parse_error_ = "error reading body";
        break;
    }
  }
  form.AddEncoded(request.query_string());
  return form;
}

std::string_view FormValues::Get(std::string_view name) const {
  for (const auto& [key, value] : values_) {
    if (key == name) return value;
  }
  return {};
}

std::vector<std::string_view> FormValues::GetAll(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& [key, value] : values_) {
    if (key == name) out.push_back(value);
  }
  return out;
}

bool ParseApiTimeValue(std::string_view text, TimestampMs* out) {
  // Go parses neither form with surrounding space; strtod, underneath ParseApiTime, would.
  if (text.empty() || std::isspace(static_cast<unsigned char>(text.front()))) return false;
  double secs;
  if (ParseGoFloat(text, &secs)) {
    // Beyond Prometheus's representable range a time is its minimum or maximum.
    if (std::isnan(secs) || secs * 1000 <= static_cast<double>(kMinApiTime)) {
      *out = kMinApiTime;
    } else if (secs * 1000 >= static_cast<double>(kMaxApiTime)) {
      *out = kMaxApiTime;
    } else {
      double whole;
      double fraction = std::modf(secs, &whole);
      *out = static_cast<TimestampMs>(whole) * 1000 +
             static_cast<TimestampMs>(std::round(fraction * 1000));
    }
    return true;
  }
  if (text == kMinApiTimeText) {
    *out = kMinApiTime;
    return true;
  }
  if (text == kMaxApiTimeText) {
    *out = kMaxApiTime;
    return true;
  }
  std::string ignored;
  return ParseApiTime(text, out, &ignored);
}

bool ParseTimeParam(const FormValues& form, std::string_view name, TimestampMs default_time,
                    TimestampMs* out, ApiError* error) {
  std::string_view text = form.Get(name);
  if (text.empty()) {
    *out = default_time;
    return true;
  }
  if (ParseApiTimeValue(text, out)) return true;
  *error = {ErrorType::kBadData, "invalid parameter " + GoQuote(name) +
                                     ": Invalid time value for '" + std::string(name) +
                                     "': cannot parse " + GoQuote(text) + " to a valid timestamp"};
  return false;
}

bool ParseLimitParam(const FormValues& form, size_t* limit, ApiError* error) {
  std::string_view text = form.Get("limit");
  *limit = 0;
  if (text.empty()) return true;
  int64_t value = 0;
  // Go's strconv.Atoi also takes a leading '+'.
  std::string_view digits =
      text.size() > 1 && text[0] == '+' && text[1] != '-' ? text.substr(1) : text;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  std::string problem;
  if (ec == std::errc::result_out_of_range) {
    problem = "strconv.Atoi: parsing " + GoQuote(text) + ": value out of range";
  } else if (ec != std::errc() || end != digits.data() + digits.size()) {
    problem = "strconv.Atoi: parsing " + GoQuote(text) + ": invalid syntax";
  } else if (value < 0) {
    problem = "limit must be non-negative";
  }
  if (!problem.empty()) {
    *error = {ErrorType::kBadData, "invalid parameter \"limit\": " + problem};
    return false;
  }
  *limit = static_cast<size_t>(value);
  return true;
}

}  // namespace crmscope::api
