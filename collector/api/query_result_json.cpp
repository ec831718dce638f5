#include "collector/api/query_result_json.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

#include "collector/api/api_response.h"

namespace crmscope::api {

namespace {

// Characters Go's encoding/json writes as they are (HTML escaping on, Prometheus's setting).
constexpr bool IsPlainJsonByte(unsigned char c) {
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&';
}

// "00", "01", ... "99": two digits per division, half the divisions of one at a time.
constexpr std::array<char, 200> kDigitPairs = [] {
  std::array<char, 200> pairs{};
  for (int i = 0; i < 100; ++i) {
    pairs[2 * i] = static_cast<char>('0' + i / 10);
    pairs[2 * i + 1] = static_cast<char>('0' + i % 10);
  }
  return pairs;
}();

// Writes v's digits so that they end at `end`; returns where they start.
char* WriteUnsignedBackward(uint64_t v, char* end) {
  while (v >= 100) {
    end -= 2;
    std::memcpy(end, &kDigitPairs[2 * (v % 100)], 2);
    v /= 100;
  }
  if (v >= 10) {
    end -= 2;
    std::memcpy(end, &kDigitPairs[2 * v], 2);
  } else {
    *--end = static_cast<char>('0' + v);
  }
  return end;
}

char* WriteLiteral(std::string_view text, char* p) {
  std::memcpy(p, text.data(), text.size());
  return p + text.size();
}

char* WriteNonFinite(double v, char* p) {
  return WriteLiteral(std::isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf", p);
}

// The longest sample text: a 21-character timestamp and a value of at most 27 characters
// (values outside [1e-6, 1e21) are in 'e' form) with the brackets, commas and quotes.
constexpr size_t kMaxPointChars = 64;

char* WriteSampleTimestamp(TimestampMs t, char* p) {
  // Integer arithmetic, as Prometheus's marshalTimestamp: no float rounding of the seconds.
  char buf[24];
  char* end = buf + sizeof buf;
  char* begin = end;
  uint64_t abs = t < 0 ? 0 - static_cast<uint64_t>(t) : static_cast<uint64_t>(t);
  if (uint64_t fraction = abs % 1000; fraction != 0) {
    begin -= 4;
    begin[0] = '.';
    begin[1] = static_cast<char>('0' + fraction / 100);
    std::memcpy(begin + 2, &kDigitPairs[2 * (fraction % 100)], 2);
  }
  begin = WriteUnsignedBackward(abs / 1000, begin);
  if (t < 0) *--begin = '-';
  return WriteLiteral({begin, static_cast<size_t>(end - begin)}, p);
}

char* WriteSampleValue(double v, char* p) {
  if (!std::isfinite(v)) return WriteNonFinite(v, p);
  double abs = std::fabs(v);
  // Counters and gauges are mostly whole numbers. Below 2^53 a whole double's shortest
  // round-trip digits are its integer digits, printed here without to_chars's search for the
  // shortest digits. -0 keeps its sign through to_chars.
  if (abs < 0x1p53 && v == std::trunc(v) && !(v == 0 && std::signbit(v))) {
    char buf[24];
    char* begin = WriteUnsignedBackward(static_cast<uint64_t>(abs), buf + sizeof buf);
    if (v < 0) *--begin = '-';
    return WriteLiteral({begin, static_cast<size_t>(buf + sizeof buf - begin)}, p);
  }
  bool exponent = abs != 0 && (abs < 1e-6 || abs >= 1e21);
  auto format = exponent ? std::chars_format::scientific : std::chars_format::fixed;
  return std::to_chars(p, p + 32, v, format).ptr;
}

// [<time>,"<value>"] (after a comma unless first), composed on the stack and appended once:
// appending its pieces one by one cost more than formatting them. With the whole-number path
// above, a range query's point costs 352 instructions instead of 702 when whole and 909 instead
// of 1056 otherwise (callgrind, 100 series x 1000 points).
void AppendPoint(const Sample& s, bool first, std::string* out) {
  char buf[kMaxPointChars];
  char* p = buf;
  if (!first) *p++ = ',';
  *p++ = '[';
  p = WriteSampleTimestamp(s.t, p);
  p = WriteLiteral(",\"", p);
  p = WriteSampleValue(s.v, p);
  p = WriteLiteral("\"]", p);
  out->append(buf, p);
}

// Shortest round-trip digits in the given layout; large enough for any double in 'f' form.
void AppendDouble(double v, std::chars_format format, std::string* out) {
  char buf[400];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, format);
  out->append(buf, end);
}

void AppendVector(const promql::Vector& vector, std::string* out) {
  out->reserve(out->size() + vector.size() * 96);
  *out += R"({"resultType":"vector","result":[)";
  for (size_t i = 0; i < vector.size(); ++i) {
    if (i > 0) *out += ',';
    *out += R"({"metric":)";
    AppendMetricJson(vector[i].metric, out);
    *out += R"(,"value":)";
    AppendPoint({vector[i].t, vector[i].v}, true, out);
    *out += '}';
  }
  *out += "]}";
}

void AppendMatrix(const promql::Matrix& matrix, std::string* out) {
  size_t points = 0;
  for (const promql::MatrixSeries& series : matrix) points += series.points.size();
  out->reserve(out->size() + points * 26 + matrix.size() * 80);
  *out += R"({"resultType":"matrix","result":[)";
  for (size_t i = 0; i < matrix.size(); ++i) {
    if (i > 0) *out += ',';
    *out += R"({"metric":)";
    AppendMetricJson(matrix[i].metric, out);
    // Prometheus leaves out "values" for a series without float points.
    const std::vector<Sample>& series_points = matrix[i].points;
    if (!series_points.empty()) {
      *out += R"(,"values":[)";
      for (size_t k = 0; k < series_points.size(); ++k) {
        AppendPoint(series_points[k], k == 0, out);
      }
      *out += ']';
    }
    *out += '}';
  }
  *out += "]}";
}

}  // namespace

void AppendSampleTimestamp(TimestampMs t, std::string* out) {
  char buf[kMaxPointChars];
  out->append(buf, WriteSampleTimestamp(t, buf));
}

void AppendSampleValue(double v, std::string* out) {
  char buf[kMaxPointChars];
  out->append(buf, WriteSampleValue(v, buf));
}

void AppendScalarTimestamp(TimestampMs t, std::string* out) {
  // float64(t)/1000 through encoding/json: 'f' form, since |t| >= 1 ms is never below 1e-6 s
  // and no int64 of milliseconds reaches 1e21 s.
  AppendDouble(static_cast<double>(t) / 1000, std::chars_format::fixed, out);
}

void AppendScalarValue(double v, std::string* out) {
  if (!std::isfinite(v)) {
    char buf[8];
    out->append(buf, WriteNonFinite(v, buf));
    return;
  }
  AppendDouble(v, std::chars_format::fixed, out);  // strconv.FormatFloat(v, 'f', -1, 64)
}

void AppendJsonText(std::string_view s, std::string* out) {
  for (char c : s) {
    if (!IsPlainJsonByte(static_cast<unsigned char>(c))) return AppendJsonString(s, out);
  }
  *out += '"';
  out->append(s);
  *out += '"';
}

void AppendMetricJson(const Labels& metric, std::string* out) {
  *out += '{';
  for (size_t i = 0; i < metric.size(); ++i) {
    if (i > 0) *out += ',';
    AppendJsonText(metric[i].name, out);
    *out += ':';
    AppendJsonText(metric[i].value, out);
  }
  *out += '}';
}

bool AppendQueryResultJson(const promql::Value& value, std::string* out) {
  if (const auto* vector = std::get_if<promql::Vector>(&value)) {
    AppendVector(*vector, out);
  } else if (const auto* matrix = std::get_if<promql::Matrix>(&value)) {
    AppendMatrix(*matrix, out);
  } else if (const auto* scalar = std::get_if<promql::Scalar>(&value)) {
    *out += R"({"resultType":"scalar","result":[)";
    AppendScalarTimestamp(scalar->t, out);
    *out += ",\"";
    AppendScalarValue(scalar->v, out);
    *out += "\"]}";
  } else if (const auto* string = std::get_if<promql::String>(&value)) {
    *out += R"({"resultType":"string","result":[)";
    AppendScalarTimestamp(string->t, out);
    *out += ',';
    AppendJsonText(string->v, out);
    *out += "]}";
  } else {
    return false;
  }
  return true;
}

}  // namespace crmscope::api
