#include "collector/promql/go_format.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace crmscope::promql {

namespace {

constexpr int kRuneError = 0xFFFD;

// An approximation of Go's unicode.IsPrint without its tables: graphic code points print as
// themselves, while controls, format characters, spaces other than ' ', private use,
// surrogates and noncharacters are escaped. Unassigned code points are treated as printable.
bool IsPrint(int r) {
  if (r < 0x20 || (r >= 0x7F && r < 0xA0)) return false;
  if (r < 0x7F) return true;
  if (r == 0xA0 || r == 0xAD || r == 0x1680 || (r >= 0x2000 && r <= 0x200F) ||
      (r >= 0x2028 && r <= 0x202F) || (r >= 0x205F && r <= 0x206F) || r == 0x3000 ||
      r == 0xFEFF || (r >= 0xFFF9 && r <= 0xFFFB)) {
    return false;
  }
  if (r >= 0xD800 && r < 0xE000) return false;
  if (r >= 0xE000 && r <= 0xF8FF) return false;
  if ((r & 0xFFFE) == 0xFFFE) return false;
  if (r >= 0xF0000) return false;
  return r <= 0x10FFFF;
}

void AppendHex(std::string* out, unsigned value, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) out->push_back(kHex[(value >> (4 * i)) & 0xF]);
}

void AppendEscapedRune(std::string* out, int r, char quote) {
  if (r == quote || r == '\\') {
    out->push_back('\\');
    out->push_back(static_cast<char>(r));
    return;
  }
  if (IsPrint(r)) {
    AppendRune(out, r);
    return;
  }
  switch (r) {
    case '\a': *out += "\\a"; return;
    case '\b': *out += "\\b"; return;
    case '\f': *out += "\\f"; return;
    case '\n': *out += "\\n"; return;
    case '\r': *out += "\\r"; return;
    case '\t': *out += "\\t"; return;
    case '\v': *out += "\\v"; return;
    default: break;
  }
  if (r < ' ' || r == 0x7F) {
    *out += "\\x";
    AppendHex(out, static_cast<unsigned>(r), 2);
  } else if (r < 0x10000) {
    *out += "\\u";
    AppendHex(out, static_cast<unsigned>(r), 4);
  } else {
    *out += "\\U";
    AppendHex(out, static_cast<unsigned>(r), 8);
  }
}

}  // namespace

int DecodeRune(std::string_view s, size_t* pos) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  size_t i = *pos;
  unsigned b0 = byte(i);
  if (b0 < 0x80) {
    *pos = i + 1;
    return static_cast<int>(b0);
  }
  int need;
  unsigned min, r;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1, min = 0x80, r = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2, min = 0x800, r = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3, min = 0x10000, r = b0 & 0x07;
  } else {
    *pos = i + 1;
    return kRuneError;
  }
  for (int k = 1; k <= need; ++k) {
    if (i + k >= s.size() || (byte(i + k) & 0xC0) != 0x80) {
      *pos = i + 1;
      return kRuneError;
    }
    r = (r << 6) | (byte(i + k) & 0x3F);
  }
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r < 0xE000)) {
    *pos = i + 1;
    return kRuneError;
  }
  *pos = i + need + 1;
  return static_cast<int>(r);
}

void AppendRune(std::string* out, int r) {
  unsigned u = static_cast<unsigned>(r);
  if (r < 0 || u > 0x10FFFF || (u >= 0xD800 && u < 0xE000)) u = kRuneError;
  if (u < 0x80) {
    out->push_back(static_cast<char>(u));
  } else if (u < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (u >> 6)));
    out->push_back(static_cast<char>(0x80 | (u & 0x3F)));
  } else if (u < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (u >> 12)));
    out->push_back(static_cast<char>(0x80 | ((u >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (u & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (u >> 18)));
    out->push_back(static_cast<char>(0x80 | ((u >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((u >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (u & 0x3F)));
  }
}

std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  size_t pos = 0;
  while (pos < s.size()) {
    size_t start = pos;
    int r = DecodeRune(s, &pos);
    if (r == kRuneError && pos - start == 1) {
      out += "\\x";
      AppendHex(&out, static_cast<unsigned char>(s[start]), 2);
      continue;
    }
    AppendEscapedRune(&out, r, '"');
  }
  out.push_back('"');
  return out;
}

std::string GoQuoteRune(int r) {
  if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r < 0xE000)) r = kRuneError;
  std::string out = "'";
  AppendEscapedRune(&out, r, '\'');
  out.push_back('\'');
  return out;
}

std::string GoUnicodeRune(int r) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(r));
  std::string out = buf;
  if (IsPrint(r)) {
    out += " '";
    AppendRune(&out, r);
    out += "'";
  }
  return out;
}

std::string GoFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Shortest round-trip digits, then Go's %g layout: exponent form when the decimal exponent
  // is below -4 or at least 6 (the precision %g uses for shortest formatting).
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, end);
  std::string out;
  size_t i = 0;
  if (sci[0] == '-') {
    out.push_back('-');
    i = 1;
  }
  size_t e = sci.find('e');
  std::string digits;
  for (size_t k = i; k < e; ++k) {
    if (sci[k] != '.') digits.push_back(sci[k]);
  }
  int exp = std::atoi(sci.c_str() + e + 1);
  if (exp < -4 || exp >= 6) {
    out.push_back(digits[0]);
    if (digits.size() > 1) {
      out.push_back('.');
      out.append(digits, 1);
    }
    out += exp < 0 ? "e-" : "e+";
    int a = exp < 0 ? -exp : exp;
    if (a < 10) out.push_back('0');
    out += std::to_string(a);
    return out;
  }
  if (exp < 0) {
    out += "0.";
    out.append(static_cast<size_t>(-exp - 1), '0');
    out += digits;
    return out;
  }
  size_t int_len = static_cast<size_t>(exp) + 1;
  if (digits.size() <= int_len) {
    out += digits + std::string(int_len - digits.size(), '0');
  } else {
    out += digits.substr(0, int_len) + "." + digits.substr(int_len);
  }
  return out;
}

std::string GoFixed(double v, int decimals) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[400];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

}  // namespace crmscope::promql
