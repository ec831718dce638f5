#include "agent/sources/nginx_log/log_format.h"

#include <cstring>
#include <utility>

namespace crmscope::agent::nginx_log {

namespace {

constexpr std::pair<std::string_view, LogVariable> kKnownVariables[] = {
    {"msec", LogVariable::kMsec},
    {"request", LogVariable::kRequest},
    {"request_method", LogVariable::kRequestMethod},
    {"uri", LogVariable::kUri},
    {"document_uri", LogVariable::kUri},
    {"request_uri", LogVariable::kRequestUri},
    {"status", LogVariable::kStatus},
    {"request_time", LogVariable::kRequestTime},
    {"upstream_addr", LogVariable::kUpstreamAddr},
    {"upstream_status", LogVariable::kUpstreamStatus},
    {"upstream_connect_time", LogVariable::kUpstreamConnectTime},
    {"upstream_header_time", LogVariable::kUpstreamHeaderTime},
    {"upstream_response_time", LogVariable::kUpstreamResponseTime},
    {"body_bytes_sent", LogVariable::kBodyBytesSent},
    {"bytes_sent", LogVariable::kBytesSent},
    {"upstream_http_server_timing", LogVariable::kUpstreamHttpServerTiming},
};

LogVariable VariableByName(std::string_view name) {
  for (const auto& [known, variable] : kKnownVariables) {
    if (known == name) return variable;
  }
  return LogVariable::kOther;
}

bool IsListValued(std::string_view name) {
  return name.starts_with("upstream_") || name.starts_with("http_") ||
         name.starts_with("sent_http_");
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// nginx's config reader turns these escapes into bytes in every token (ngx_conf_read_token).
std::string UndoConfigEscapes(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '\\' && i + 1 < token.size()) {
      char next = token[i + 1];
      char replacement = next == 't' ? '\t' : next == 'n' ? '\n' : next == 'r' ? '\r' : next;
      if (next == 't' || next == 'n' || next == 'r' || next == '"' || next == '\'' ||
          next == '\\') {
        out.push_back(replacement);
        ++i;
        continue;
      }
    }
    out.push_back(token[i]);
  }
  return out;
}

// Splits directive text into tokens as nginx does: whitespace separates, quotes group, a
// backslash protects the next byte. Returns false on an unterminated quote.
bool Tokenize(std::string_view text, std::vector<std::string>* tokens) {
  size_t i = 0;
  while (i < text.size()) {
    if (IsSpace(text[i]) || text[i] == ';') {
      ++i;
      continue;
    }
    char quote = (text[i] == '\'' || text[i] == '"') ? text[i] : 0;
    size_t start = quote ? i + 1 : i;
    size_t j = start;
    while (j < text.size()) {
      if (text[j] == '\\' && j + 1 < text.size()) {
        j += 2;
        continue;
      }
      if (quote ? text[j] == quote : (IsSpace(text[j]) || text[j] == ';')) break;
      ++j;
    }
    if (quote && j >= text.size()) return false;
    tokens->push_back(UndoConfigEscapes(text.substr(start, j - start)));
    i = quote ? j + 1 : j;
  }
  return true;
}

bool ParseEscape(std::string_view mode, LogEscape* escape) {
  constexpr std::pair<std::string_view, LogEscape> kModes[] = {
      {"default", LogEscape::kDefault}, {"json", LogEscape::kJson}, {"none", LogEscape::kNone}};
  for (const auto& [name, value] : kModes) {
    if (name == mode) {
      *escape = value;
      return true;
    }
  }
  return false;
}

// The format text from a directive or a bare (possibly quoted) format string.
bool ExtractFormat(std::string_view text, std::string* format, LogEscape* escape,
                   std::string* error) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  bool directive = text.starts_with("log_format") && text.size() > 10 && IsSpace(text[10]);
  if (!directive && !(text.starts_with("'") || text.starts_with("\""))) {
    *format = UndoConfigEscapes(text);
    return true;
  }
  std::vector<std::string> tokens;
  if (!Tokenize(text, &tokens)) {
    *error = "unterminated quote in log_format";
    return false;
  }
  size_t first = 0;
  if (directive) {
    if (tokens.size() < 3) {
      *error = "log_format needs a name and a format";
      return false;
    }
    first = 2;
    if (tokens[first].starts_with("escape=")) {
      std::string_view mode = std::string_view(tokens[first]).substr(7);
      if (!ParseEscape(mode, escape)) {
        *error = "unknown log_format escape=" + std::string(mode);
        return false;
      }
      ++first;
    }
  }
  format->clear();
  for (size_t i = first; i < tokens.size(); ++i) *format += tokens[i];
  return true;
}

// escape=json writes '"' inside a value as \", so a quote after an odd run of backslashes is data.
bool IsEscapedByte(const char* from, const char* p) {
  size_t backslashes = 0;
  while (p > from && p[-1] == '\\') --p, ++backslashes;
  return backslashes % 2 == 1;
}

// nginx escapes bytes below 0x20 in every value, so a raw one (a TAB) in the last value means the
// line has more fields than the format, or is not from it.
bool HasControlByte(const char* begin, const char* end) {
  for (const char* p = begin; p < end; ++p) {
    if (static_cast<unsigned char>(*p) < 0x20) return true;
  }
  return false;
}

}  // namespace

bool LogFormat::Compile(std::string_view text, LogFormat* out, std::string* error) {
  *out = LogFormat();
  std::string format;
  if (!ExtractFormat(text, &format, &out->escape_, error)) return false;
  if (format.empty()) {
    *error = "empty log_format";
    return false;
  }
  std::string literal;
  for (size_t i = 0; i < format.size();) {
    if (format[i] != '$') {
      literal.push_back(format[i++]);
      continue;
    }
    size_t start = i + 1, end = start;
    bool braced = start < format.size() && format[start] == '{';
    if (braced) ++start, ++end;
    while (end < format.size() && IsNameChar(format[end])) ++end;
    std::string name = format.substr(start, end - start);
    if (name.empty() || (braced && (end >= format.size() || format[end] != '}'))) {
      *error = "invalid variable name at byte " + std::to_string(i + 1) + " of the log_format";
      return false;
    }
    i = braced ? end + 1 : end;
    if (out->steps_.empty()) {
      out->leading_literal_ = std::move(literal);
    } else if (literal.empty()) {
      *error = "$" + out->steps_.back().name + " and $" + name +
               " follow each other with nothing between them: their values cannot be told apart";
      return false;
    } else {
      out->steps_.back().literal_after = std::move(literal);
    }
    literal.clear();
    Step step;
    step.variable = VariableByName(name);
    step.list_valued = IsListValued(name);
    step.name = std::move(name);
    out->present_[static_cast<size_t>(step.variable)] = true;
    out->steps_.push_back(std::move(step));
  }
  if (out->steps_.empty()) {
    *error = "log_format has no variable";
    return false;
  }
  out->steps_.back().literal_after = std::move(literal);
  out->present_[static_cast<size_t>(LogVariable::kOther)] = false;
  return true;
}

std::vector<std::string> LogFormat::VariableNames() const {
  std::vector<std::string> names;
  for (const Step& step : steps_) names.push_back(step.name);
  return names;
}

const char* LogFormat::FindLiteral(const Step& step, const char* from, const char* end) const {
  const std::string& literal = step.literal_after;
  const size_t size = literal.size();
  const char* p = from;
  while (static_cast<size_t>(end - p) >= size) {
    p = static_cast<const char*>(std::memchr(p, literal[0], static_cast<size_t>(end - p)));
    if (p == nullptr || static_cast<size_t>(end - p) < size) return nullptr;
    if (std::memcmp(p, literal.data(), size) == 0) {
      // ", " between attempts and " : " between upstream groups belong to the value.
      bool separator =
          step.list_valued && literal[0] == ' ' &&
          ((p > from && p[-1] == ',') || (end - p >= 3 && p[1] == ':' && p[2] == ' ') ||
           (p - from >= 2 && p[-1] == ':' && p[-2] == ' '));
      if (!separator && !(escape_ == LogEscape::kJson && IsEscapedByte(from, p))) return p;
    }
    ++p;
  }
  return nullptr;
}

bool LogFormat::Match(std::string_view line, LogFields* fields) const {
  if (line.size() < leading_literal_.size() ||
      std::memcmp(line.data(), leading_literal_.data(), leading_literal_.size()) != 0) {
    return false;
  }
  const char* p = line.data() + leading_literal_.size();
  const char* const end = line.data() + line.size();
  const size_t last = steps_.size() - 1;
  for (size_t i = 0; i < steps_.size(); ++i) {
    const Step& step = steps_[i];
    const std::string& literal = step.literal_after;
    const char* value_end;
    if (i == last) {
      // The last literal ends the line, wherever else it may occur.
      if (static_cast<size_t>(end - p) < literal.size() ||
          std::memcmp(end - literal.size(), literal.data(), literal.size()) != 0) {
        return false;
      }
      value_end = end - literal.size();
      if (escape_ != LogEscape::kNone && HasControlByte(p, value_end)) return false;
    } else {
      value_end = FindLiteral(step, p, end);
      if (value_end == nullptr) return false;
    }
    fields->values[static_cast<size_t>(step.variable)] =
        std::string_view(p, static_cast<size_t>(value_end - p));
    p = value_end + literal.size();
  }
  return true;
}

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// escape=default writes \xHH; escape=json writes \" \\ \n \r \t \b \f and \u00HH.
size_t UnescapeOne(std::string_view raw, size_t i, LogEscape escape, std::string* out) {
  if (escape == LogEscape::kDefault && i + 3 < raw.size() && raw[i + 1] == 'x') {
    int hi = HexDigit(raw[i + 2]), lo = HexDigit(raw[i + 3]);
    if (hi >= 0 && lo >= 0) {
      out->push_back(static_cast<char>(hi * 16 + lo));
      return 4;
    }
  }
  if (escape == LogEscape::kJson && i + 1 < raw.size()) {
    char c = raw[i + 1];
    char byte = 0;
    switch (c) {
      case '"':
      case '\\':
      case '/':
        byte = c;
        break;
      case 'n':
        byte = '\n';
        break;
      case 'r':
        byte = '\r';
        break;
      case 't':
        byte = '\t';
        break;
      case 'b':
        byte = '\b';
        break;
      case 'f':
        byte = '\f';
        break;
      default:
        break;
    }
    if (byte != 0) {
      out->push_back(byte);
      return 2;
    }
    if (c == 'u' && i + 5 < raw.size() && raw[i + 2] == '0' && raw[i + 3] == '0') {
      int hi = HexDigit(raw[i + 4]), lo = HexDigit(raw[i + 5]);
      if (hi >= 0 && lo >= 0) {
        out->push_back(static_cast<char>(hi * 16 + lo));
        return 6;
      }
    }
  }
  out->push_back('\\');
  return 1;
}

}  // namespace

std::string_view UnescapeLogValue(std::string_view raw, LogEscape escape, std::string* scratch) {
  if (escape == LogEscape::kNone || raw.find('\\') == std::string_view::npos) return raw;
  scratch->clear();
  for (size_t i = 0; i < raw.size();) {
    if (raw[i] == '\\') {
      i += UnescapeOne(raw, i, escape, scratch);
    } else {
      scratch->push_back(raw[i++]);
    }
  }
  return *scratch;
}

}  // namespace crmscope::agent::nginx_log
