#include "agent/sources/scrape/exposition_parser.h"

#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>

namespace crmscope::agent {

namespace {

// Go's math.NaN(): Prometheus stores a scraped NaN with these bits.
constexpr uint64_t kGoNaNBits = 0x7ff8000000000001ULL;

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Byte classes for the name scans, which run over every byte of every series: one table load per
// byte instead of a chain of range comparisons (a third fewer instructions per sample, callgrind).
enum : uint8_t { kLabelFirst = 1, kLabelRest = 2, kMetricFirst = 4, kMetricRest = 8 };
constexpr std::array<uint8_t, 256> kNameClass = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (letter) t[c] |= kLabelFirst | kLabelRest | kMetricFirst | kMetricRest;
    if (digit) t[c] |= kLabelRest | kMetricRest;
    if (c == ':') t[c] |= kMetricFirst | kMetricRest;
  }
  return t;
}();

bool HasClass(char c, uint8_t cls) { return kNameClass[static_cast<uint8_t>(c)] & cls; }

// A position in one line; never reads past its end.
struct Cursor {
  const char* p;
  const char* end;

  explicit Cursor(std::string_view line) : p(line.data()), end(line.data() + line.size()) {}
  bool done() const { return p == end; }
  bool At(char c) const { return p != end && *p == c; }
  bool AtBlank() const { return p != end && IsBlank(*p); }
  void SkipBlanks() {
    while (p != end && IsBlank(*p)) ++p;
  }
  std::string_view Name(uint8_t first, uint8_t rest) {
    const char* start = p;
    if (p != end && HasClass(*p, first)) {
      ++p;
      while (p != end && HasClass(*p, rest)) ++p;
    }
    return {start, static_cast<size_t>(p - start)};
  }
  std::string_view MetricName() { return Name(kMetricFirst, kMetricRest); }
  std::string_view LabelName() { return Name(kLabelFirst, kLabelRest); }
  // Up to the next blank or the end of the line.
  std::string_view Token() {
    const char* start = p;
    while (p != end && !IsBlank(*p)) ++p;
    return {start, static_cast<size_t>(p - start)};
  }
  std::string_view Rest() const { return {p, static_cast<size_t>(end - p)}; }
};

// Go's strconv.ParseFloat for the spellings expositions use: decimals with exponents, NaN, Inf,
// +Inf, -Inf (case-insensitive), a leading '+'.
bool ParseGoFloat(std::string_view text, double* out) {
  if (!text.empty() && text[0] == '+') {
    text.remove_prefix(1);
    if (text.empty() || text[0] == '-' || text[0] == '+') return false;
  }
  if (text.empty()) return false;
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return false;
  if (std::isnan(v)) {
    // from_chars also takes "nan(payload)", which Go refuses.
    if (text.size() != 3) return false;
    v = std::bit_cast<double>(kGoNaNBits);
  }
  *out = v;
  return true;
}

bool ParseGoInt64(std::string_view text, int64_t* out) {
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  if (text.empty() || text[0] == '+') return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

// Appends `raw` to `out` with \\ and \n (and \" when `quote`) replaced; returns the appended part.
// Other sequences stay as written, as Prometheus's strings.Replacer leaves them. `out` must
// have room for `raw` already, so earlier views into it stay valid.
std::string_view AppendUnescaped(std::string_view raw, bool quote, std::string& out) {
  size_t start = out.size();
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\\' && i + 1 < raw.size()) {
      char next = raw[i + 1];
      if (next == '\\' || next == 'n' || (quote && next == '"')) {
        out.push_back(next == 'n' ? '\n' : next);
        ++i;
        continue;
      }
    }
    out.push_back(c);
  }
  return {out.data() + start, out.size() - start};
}

// Reads `name="value", ...}` after a '{'. Returns nullptr, or what was wrong.
const char* ParseLabelSet(Cursor& c, std::vector<LabelView>& out, std::string& unescaped) {
  while (true) {
    c.SkipBlanks();
    if (c.At('}')) {
      ++c.p;
      return nullptr;
    }
    std::string_view name = c.LabelName();
    if (name.empty()) return c.done() ? "unterminated label set" : "invalid label name";
    c.SkipBlanks();
    if (!c.At('=')) return "expected '=' after label name";
    ++c.p;
    c.SkipBlanks();
    if (!c.At('"')) return "expected '\"' to open a label value";
    ++c.p;
    const char* start = c.p;
    bool escaped = false;
    // Most values hold no backslash: then the first quote ends them, found by memchr.
    const auto* quote = static_cast<const char*>(std::memchr(c.p, '"', c.end - c.p));
    if (quote != nullptr && std::memchr(c.p, '\\', quote - c.p) == nullptr) {
      c.p = quote;
    } else {
      while (!c.done() && *c.p != '"') {
        if (*c.p == '\\') {
          escaped = true;
          if (++c.p == c.end) break;
        }
        ++c.p;
      }
    }
    if (c.done()) return "unterminated label value";
    std::string_view raw(start, static_cast<size_t>(c.p - start));
    ++c.p;
    out.push_back({name, escaped ? AppendUnescaped(raw, true, unescaped) : raw});
    c.SkipBlanks();
    if (c.At(',')) {
      ++c.p;
    } else if (!c.At('}')) {
      return "expected ',' or '}' after a label";
    }
  }
}

std::optional<MetricKind> TextFormatKind(std::string_view type) {
  if (type == "counter") return MetricKind::kCounter;
  if (type == "gauge") return MetricKind::kGauge;
  if (type == "histogram") return MetricKind::kHistogram;
  if (type == "summary") return MetricKind::kSummary;
  if (type == "untyped") return MetricKind::kUnknown;
  return std::nullopt;
}

std::optional<MetricKind> OpenMetricsKind(std::string_view type) {
  if (type == "counter") return MetricKind::kCounter;
  if (type == "gauge") return MetricKind::kGauge;
  if (type == "histogram") return MetricKind::kHistogram;
  if (type == "summary") return MetricKind::kSummary;
  if (type == "info") return MetricKind::kInfo;
  if (type == "stateset") return MetricKind::kStateset;
  // MetricKind has no gauge histogram; unknown is the honest remote-write type for it here.
  if (type == "gaugehistogram" || type == "unknown") return MetricKind::kUnknown;
  return std::nullopt;
}

}  // namespace

ExpositionFormat ExpositionFormatFor(std::string_view content_type) {
  size_t semicolon = content_type.find(';');
  std::string_view media = content_type.substr(0, semicolon);
  while (!media.empty() && IsBlank(media.front())) media.remove_prefix(1);
  while (!media.empty() && IsBlank(media.back())) media.remove_suffix(1);
  constexpr std::string_view kOpenMetrics = "application/openmetrics-text";
  if (media.size() != kOpenMetrics.size()) return ExpositionFormat::kText004;
  for (size_t i = 0; i < media.size(); ++i) {
    char c = media[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kOpenMetrics[i]) return ExpositionFormat::kText004;
  }
  return ExpositionFormat::kOpenMetrics1;
}

void ExpositionParser::Reset(std::string_view body, ExpositionFormat format) {
  body_ = body;
  format_ = format;
  pos_ = 0;
  line_number_ = 0;
  eof_seen_ = false;
  failed_ = false;
  om_family_ = {};
  om_family_kind_ = MetricKind::kUnknown;
  om_family_is_gauge_histogram_ = false;
  error_.clear();
}

ExpositionParser::Entry ExpositionParser::Next() {
  if (failed_) return Entry::kError;
  while (pos_ < body_.size()) {
    size_t end = body_.find('\n', pos_);
    if (end == std::string_view::npos) end = body_.size();
    std::string_view line = body_.substr(pos_, end - pos_);
    pos_ = end + 1;
    ++line_number_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::optional<Entry> entry = ParseLine(line);
    if (entry) return *entry;
  }
  if (format_ == ExpositionFormat::kOpenMetrics1 && !eof_seen_) {
    return Fail("data does not end with # EOF");
  }
  return Entry::kEnd;
}

std::optional<ExpositionParser::Entry> ExpositionParser::ParseLine(std::string_view line) {
  if (eof_seen_) return Fail("unexpected data after # EOF");
  if (format_ == ExpositionFormat::kOpenMetrics1) {
    if (line.empty()) return Fail("empty line");
    if (line[0] == '#') return ParseOpenMetricsComment(line);
    return ParseSample(line);
  }
  size_t first = 0;
  while (first < line.size() && IsBlank(line[first])) ++first;
  if (first == line.size()) return std::nullopt;
  line.remove_prefix(first);
  if (line[0] == '#') return ParseTextComment(line);
  return ParseSample(line);
}

// 0.0.4: "# HELP name text" and "# TYPE name type" are metadata; any other comment is ignored.
std::optional<ExpositionParser::Entry> ExpositionParser::ParseTextComment(std::string_view line) {
  Cursor c(line.substr(1));
  c.SkipBlanks();
  std::string_view keyword = c.Token();
  if ((keyword != "HELP" && keyword != "TYPE") || !c.AtBlank()) return std::nullopt;
  return ParseMetadata(keyword == "HELP" ? Entry::kHelp : Entry::kType, c.Rest());
}

std::optional<ExpositionParser::Entry> ExpositionParser::ParseOpenMetricsComment(
    std::string_view line) {
  if (line == "# EOF") {
    eof_seen_ = true;
    return std::nullopt;
  }
  Cursor c(line.substr(1));
  if (!c.AtBlank()) return Fail("expected a space after '#'");
  c.SkipBlanks();
  std::string_view keyword = c.Token();
  Entry entry;
  if (keyword == "HELP") {
    entry = Entry::kHelp;
  } else if (keyword == "TYPE") {
    entry = Entry::kType;
  } else if (keyword == "UNIT") {
    entry = Entry::kUnit;
  } else {
    return Fail("expected HELP, TYPE, UNIT or EOF after '#', got", keyword);
  }
  if (!c.AtBlank()) return Fail("expected a metric name after", keyword);
  return ParseMetadata(entry, c.Rest());
}

// `rest` is what follows the keyword: blanks, the family name, then its text.
std::optional<ExpositionParser::Entry> ExpositionParser::ParseMetadata(Entry entry,
                                                                       std::string_view rest) {
  Cursor c(rest);
  c.SkipBlanks();
  family_ = c.MetricName();
  if (family_.empty() || (!c.done() && !c.AtBlank())) {
    return Fail("invalid metric name in metadata", c.Token());
  }
  c.SkipBlanks();
  std::string_view text = c.Rest();
  kind_ = MetricKind::kUnknown;
  text_ = {};
  switch (entry) {
    case Entry::kHelp:
      if (text.find('\\') == std::string_view::npos) {
        text_ = text;
      } else {
        unescaped_.clear();
        unescaped_.reserve(text.size());
        text_ = AppendUnescaped(text, format_ == ExpositionFormat::kOpenMetrics1, unescaped_);
      }
      break;
    case Entry::kType: {
      while (!text.empty() && IsBlank(text.back())) text.remove_suffix(1);
      std::optional<MetricKind> kind = format_ == ExpositionFormat::kOpenMetrics1
                                           ? OpenMetricsKind(text)
                                           : TextFormatKind(text);
      if (!kind) return Fail("invalid metric type", text);
      kind_ = *kind;
      om_family_ = family_;
      om_family_kind_ = kind_;
      om_family_is_gauge_histogram_ = text == "gaugehistogram";
      break;
    }
    default:
      text_ = text;
      break;
  }
  return entry;
}

bool ExpositionParser::IsOpenMetricsCreated() const {
  constexpr std::string_view kCreated = "_created";
  bool has_created = !om_family_is_gauge_histogram_ &&
                     (om_family_kind_ == MetricKind::kCounter ||
                      om_family_kind_ == MetricKind::kHistogram ||
                      om_family_kind_ == MetricKind::kSummary);
  return has_created && metric_name_.size() == om_family_.size() + kCreated.size() &&
         metric_name_.starts_with(om_family_) && metric_name_.ends_with(kCreated);
}

std::optional<ExpositionParser::Entry> ExpositionParser::ParseSample(std::string_view line) {
  bool open_metrics = format_ == ExpositionFormat::kOpenMetrics1;
  Cursor c(line);
  metric_name_ = c.MetricName();
  if (metric_name_.empty()) return Fail("invalid metric name", c.Token());
  if (open_metrics && IsOpenMetricsCreated()) return std::nullopt;
  labels_.clear();
  unescaped_.clear();
  if (unescaped_.capacity() < line.size()) unescaped_.reserve(line.size());
  c.SkipBlanks();
  if (c.At('{')) {
    ++c.p;
    if (const char* why = ParseLabelSet(c, labels_, unescaped_)) {
      return Fail(why, metric_name_);
    }
    series_ = std::string_view(line.data(), static_cast<size_t>(c.p - line.data()));
    c.SkipBlanks();
  } else {
    series_ = metric_name_;
  }
  std::string_view value = c.Token();
  if (value.empty()) return Fail("expected a value after", series_);
  if (!ParseGoFloat(value, &value_)) return Fail("invalid value", value);
  c.SkipBlanks();
  has_timestamp_ = false;
  if (!c.done() && !c.At('#')) {
    std::string_view ts = c.Token();
    if (open_metrics) {
      double seconds = 0;
      if (!ParseGoFloat(ts, &seconds) || !std::isfinite(seconds) || std::fabs(seconds) > 9.2e15) {
        return Fail("invalid timestamp", ts);
      }
      timestamp_ = static_cast<TimestampMs>(seconds * 1000);
    } else if (!ParseGoInt64(ts, &timestamp_)) {
      return Fail("invalid timestamp", ts);
    }
    has_timestamp_ = true;
    c.SkipBlanks();
  }
  if (c.done()) return Entry::kSample;
  if (!open_metrics) return Fail("unexpected text after the sample", c.Rest());
  // An exemplar: "# {labels} value [timestamp]". Read to be checked, then dropped.
  ++c.p;
  c.SkipBlanks();
  if (!c.At('{')) return Fail("expected '{' to open an exemplar's labels", c.Rest());
  ++c.p;
  exemplar_labels_.clear();
  if (const char* why = ParseLabelSet(c, exemplar_labels_, unescaped_)) {
    return Fail(why, "exemplar");
  }
  c.SkipBlanks();
  double ignored = 0;
  if (!ParseGoFloat(c.Token(), &ignored)) return Fail("invalid exemplar value", c.Rest());
  c.SkipBlanks();
  if (!c.done() && !ParseGoFloat(c.Token(), &ignored)) {
    return Fail("invalid exemplar timestamp", c.Rest());
  }
  c.SkipBlanks();
  if (!c.done()) return Fail("unexpected text after the exemplar", c.Rest());
  return Entry::kSample;
}

ExpositionParser::Entry ExpositionParser::Fail(std::string_view what) {
  failed_ = true;
  error_ = "line " + std::to_string(line_number_) + ": ";
  error_.append(what);
  return Entry::kError;
}

ExpositionParser::Entry ExpositionParser::Fail(std::string_view what, std::string_view token) {
  Fail(what);
  // Enough of the offending text to find it, not a whole line of labels.
  constexpr size_t kMaxQuoted = 60;
  error_.append(" \"");
  error_.append(token.substr(0, kMaxQuoted));
  if (token.size() > kMaxQuoted) error_.append("...");
  error_.push_back('"');
  return Entry::kError;
}

}  // namespace crmscope::agent
