#include "collector/api/api_response.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace crmscope::api {

namespace {

constexpr char kHex[] = "0123456789abcdef";

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  if (len == 1) return 1;
  uint32_t cp = c & (0xff >> (len + 1));
  for (size_t k = 1; k < len; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

uint32_t DecodeRune(std::string_view s, size_t i, size_t len) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  uint32_t cp = len == 1 ? c : c & (0xff >> (len + 1));
  for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
  return cp;
}

void AppendUnicodeEscape(uint32_t cp, std::string* out) {
  *out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) *out += kHex[(cp >> shift) & 0xf];
}

}  // namespace

std::string_view ErrorTypeName(ErrorType type) {
  switch (type) {
    case ErrorType::kBadData:
      return "bad_data";
    case ErrorType::kExecution:
      return "execution";
    case ErrorType::kInternal:
      return "internal";
    case ErrorType::kUnavailable:
      return "unavailable";
    case ErrorType::kNotFound:
      return "not_found";
    case ErrorType::kTimeout:
      return "timeout";
    case ErrorType::kCanceled:
      return "canceled";
  }
  return "internal";
}

int ErrorTypeStatus(ErrorType type) {
  switch (type) {
    case ErrorType::kBadData:
      return 400;
    case ErrorType::kExecution:
      return 422;
    case ErrorType::kInternal:
      return 500;
    case ErrorType::kUnavailable:
      return 503;
    case ErrorType::kNotFound:
      return 404;
    case ErrorType::kTimeout:
      return 503;
    case ErrorType::kCanceled:
      return 503;
  }
  return 500;
}

HttpResponse SuccessResponse(std::string_view data_json, const std::vector<std::string>& warnings) {
  HttpResponse response;
  response.content_type = "application/json";
  std::string& body = response.body;
  body.reserve(data_json.size() + 40);
  body += R"({"status":"success","data":)";
  body += data_json;
  if (!warnings.empty()) {
    body += R"(,"warnings":)";
    AppendJsonStringArray(warnings, &body);
  }
  body += '}';
  return response;
}

HttpResponse ErrorResponse(const ApiError& error) {
  HttpResponse response;
  response.status = ErrorTypeStatus(error.type);
  response.content_type = "application/json";
  std::string& body = response.body;
  body += R"({"status":"error","errorType":")";
  body += ErrorTypeName(error.type);
  body += R"(","error":)";
  AppendJsonString(error.message, &body);
  body += '}';
  return response;
}

void AppendJsonString(std::string_view s, std::string* out) {
  *out += '"';
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t len = Utf8SequenceLength(s, i);
      if (len == 0) {
        *out += "\\ufffd";
        ++i;
        continue;
      }
      uint32_t cp = DecodeRune(s, i, len);
      // JavaScript line terminators, escaped by Go for JSONP safety.
      if (cp == 0x2028 || cp == 0x2029)
        AppendUnicodeEscape(cp, out);
      else
        out->append(s.substr(i, len));
      i += len;
      continue;
    }
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
        if (c < 0x20 || c == '<' || c == '>' || c == '&')
          AppendUnicodeEscape(c, out);
        else
          *out += static_cast<char>(c);
    }
    ++i;
  }
  *out += '"';
}

void AppendJsonStringArray(const std::vector<std::string>& values, std::string* out) {
  *out += '[';
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) *out += ',';
    AppendJsonString(values[i], out);
  }
  *out += ']';
}

void AppendLabelsJson(const Labels& labels, std::string* out) {
  *out += '{';
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) *out += ',';
    AppendJsonString(labels[i].name, out);
    *out += ':';
    AppendJsonString(labels[i].value, out);
  }
  *out += '}';
}

std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = Utf8SequenceLength(s, i);
    if (len == 0) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
      ++i;
      continue;
    }
    if (len > 1) {
      uint32_t cp = DecodeRune(s, i, len);
      // Go prints printable runes as they are; C1 controls and line separators are not.
      if (cp < 0xa0 || cp == 0x2028 || cp == 0x2029 || cp == 0xfeff)
        AppendUnicodeEscape(cp, &out);
      else
        out.append(s.substr(i, len));
      i += len;
      continue;
    }
    switch (c) {
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\v':
        out += "\\v";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
  return out;
}

void AppendApiTimestamp(TimestampMs t, std::string* out) {
  // Integer arithmetic, as Prometheus's marshalPointJSON: no float rounding of the seconds.
  uint64_t abs = t < 0 ? 0 - static_cast<uint64_t>(t) : static_cast<uint64_t>(t);
  if (t < 0) *out += '-';
  *out += std::to_string(abs / 1000);
  uint64_t fraction = abs % 1000;
  if (fraction != 0) {
    char buf[8];
    std::snprintf(buf, sizeof buf, ".%03u", static_cast<unsigned>(fraction));
    *out += buf;
  }
}

void AppendApiValue(double v, std::string* out) {
  if (std::isnan(v)) {
    *out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    *out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  double abs = std::fabs(v);
  auto format = (abs != 0 && (abs < 1e-6 || abs >= 1e21)) ? std::chars_format::scientific
                                                          : std::chars_format::fixed;
  char buf[400];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, format);
  out->append(buf, end);
}

}  // namespace crmscope::api
