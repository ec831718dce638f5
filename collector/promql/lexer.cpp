#include "collector/promql/lexer.h"

#include <array>
#include <optional>
#include <utility>

#include "collector/promql/go_format.h"

namespace crmscope::promql {

namespace {

constexpr int kEofRune = -1;
constexpr int kRuneError = 0xFFFD;

bool IsSpace(int r) { return r == ' ' || r == '\t' || r == '\n' || r == '\r'; }
bool IsDigit(int r) { return r >= '0' && r <= '9'; }
bool IsAlpha(int r) { return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'); }
bool IsAlphaNumeric(int r) { return IsAlpha(r) || IsDigit(r); }

int DigitVal(int r) {
  if (r >= '0' && r <= '9') return r - '0';
  if (r >= 'a' && r <= 'f') return r - 'a' + 10;
  if (r >= 'A' && r <= 'F') return r - 'A' + 10;
  return 16;
}

struct Keyword {
  std::string_view word;
  ItemType type;
};

// Words the lexer turns into tokens outside braces, matched case-insensitively as Prometheus
// does ("SUM" is the aggregator, "Inf" a number).
constexpr std::array kKeywords = {
    Keyword{"and", ItemType::kLand},          Keyword{"or", ItemType::kLor},
    Keyword{"unless", ItemType::kLunless},    Keyword{"atan2", ItemType::kAtan2},
    Keyword{"sum", ItemType::kSum},           Keyword{"avg", ItemType::kAvg},
    Keyword{"count", ItemType::kCount},       Keyword{"min", ItemType::kMin},
    Keyword{"max", ItemType::kMax},           Keyword{"group", ItemType::kGroup},
    Keyword{"stddev", ItemType::kStddev},     Keyword{"stdvar", ItemType::kStdvar},
    Keyword{"topk", ItemType::kTopk},         Keyword{"bottomk", ItemType::kBottomk},
    Keyword{"count_values", ItemType::kCountValues}, Keyword{"quantile", ItemType::kQuantile},
    Keyword{"offset", ItemType::kOffset},     Keyword{"by", ItemType::kBy},
    Keyword{"without", ItemType::kWithout},   Keyword{"on", ItemType::kOn},
    Keyword{"ignoring", ItemType::kIgnoring}, Keyword{"group_left", ItemType::kGroupLeft},
    Keyword{"group_right", ItemType::kGroupRight}, Keyword{"bool", ItemType::kBool},
    Keyword{"start", ItemType::kStart},       Keyword{"end", ItemType::kEnd},
    Keyword{"inf", ItemType::kNumber},        Keyword{"nan", ItemType::kNumber},
};

std::optional<ItemType> LookupKeyword(std::string_view word) {
  std::string lower(word);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  for (const Keyword& k : kKeywords) {
    if (k.word == lower) return k.type;
  }
  return std::nullopt;
}

// Go's %.10q: the first ten code points, quoted.
std::string QuoteTruncated(std::string_view s, int runes) {
  size_t pos = 0;
  for (int i = 0; i < runes && pos < s.size(); ++i) DecodeRune(s, &pos);
  return GoQuote(s.substr(0, pos));
}

}  // namespace

bool IsOperator(ItemType t) { return t >= ItemType::kAdd && t <= ItemType::kAtan2; }
bool IsAggregator(ItemType t) { return t >= ItemType::kAvg && t <= ItemType::kTopk; }
bool IsAggregatorWithParam(ItemType t) {
  return t == ItemType::kTopk || t == ItemType::kBottomk || t == ItemType::kCountValues ||
         t == ItemType::kQuantile;
}
bool IsKeyword(ItemType t) { return t >= ItemType::kBool && t <= ItemType::kWithout; }
bool IsComparisonOperator(ItemType t) {
  return t == ItemType::kEqlc || t == ItemType::kNeq || t == ItemType::kLte ||
         t == ItemType::kLss || t == ItemType::kGte || t == ItemType::kGtr;
}
bool IsSetOperator(ItemType t) {
  return t == ItemType::kLand || t == ItemType::kLor || t == ItemType::kLunless;
}

std::string_view ItemTypeText(ItemType t) {
  switch (t) {
    case ItemType::kLeftParen: return "(";
    case ItemType::kRightParen: return ")";
    case ItemType::kLeftBrace: return "{";
    case ItemType::kRightBrace: return "}";
    case ItemType::kLeftBracket: return "[";
    case ItemType::kRightBracket: return "]";
    case ItemType::kComma: return ",";
    case ItemType::kEql: return "=";
    case ItemType::kColon: return ":";
    case ItemType::kAdd: return "+";
    case ItemType::kDiv: return "/";
    case ItemType::kEqlc: return "==";
    case ItemType::kEqlRegex: return "=~";
    case ItemType::kGte: return ">=";
    case ItemType::kGtr: return ">";
    case ItemType::kLss: return "<";
    case ItemType::kLte: return "<=";
    case ItemType::kMod: return "%";
    case ItemType::kMul: return "*";
    case ItemType::kNeq: return "!=";
    case ItemType::kNeqRegex: return "!~";
    case ItemType::kPow: return "^";
    case ItemType::kSub: return "-";
    case ItemType::kAt: return "@";
    default: break;
  }
  for (const Keyword& k : kKeywords) {
    if (k.type == t) return k.word;
  }
  return "";
}

std::string Item::Describe() const {
  switch (type) {
    case ItemType::kEof: return "end of input";
    case ItemType::kError: return "error " + std::string(val);
    case ItemType::kComment: return "comment " + QuoteTruncated(val, 10) + (val.size() > 10 ? "..." : "");
    case ItemType::kIdentifier: return "identifier " + GoQuote(val);
    case ItemType::kMetricIdentifier: return "metric identifier " + GoQuote(val);
    default: break;
  }
  std::string v(val);
  // Prometheus 2.42 forgot `@` in its table of token names, so it prints the raw token number.
  if (type == ItemType::kAt) return "\"<Item 57385>\" <op:" + v + ">";
  if (IsKeyword(type)) return "<" + v + ">";
  if (IsOperator(type)) return "<op:" + v + ">";
  if (IsAggregator(type)) return "<aggr:" + v + ">";
  std::string text = val.size() > 10 ? QuoteTruncated(val, 10) + "..." : GoQuote(val);
  switch (type) {
    case ItemType::kString: return "string " + text;
    case ItemType::kNumber: return "number " + text;
    case ItemType::kDuration: return "duration " + text;
    default: return text;
  }
}

int Lexer::Next() {
  if (pos_ >= static_cast<int>(input_.size())) {
    width_ = 0;
    return kEofRune;
  }
  size_t p = static_cast<size_t>(pos_);
  int r = DecodeRune(input_, &p);
  width_ = static_cast<int>(p) - pos_;
  pos_ = static_cast<int>(p);
  return r;
}

int Lexer::Peek() {
  int r = Next();
  Backup();
  return r;
}

bool Lexer::Accept(std::string_view valid) {
  int r = Next();
  if (r >= 0 && r < 0x80 && valid.find(static_cast<char>(r)) != std::string_view::npos) return true;
  Backup();
  return false;
}

void Lexer::AcceptRun(std::string_view valid) {
  while (Accept(valid)) {
  }
}

Item Lexer::Emit(ItemType t) {
  Item item{t, start_, input_.substr(start_, pos_ - start_)};
  start_ = pos_;
  return item;
}

Item Lexer::Errorf(std::string message) {
  error_ = std::move(message);
  state_ = State::kDone;
  return Item{ItemType::kError, start_, {}};
}

void Lexer::SkipSpaces() {
  while (IsSpace(Peek())) Next();
  start_ = pos_;
}

Item Lexer::NextItem() {
  switch (state_) {
    case State::kDone: return Item{ItemType::kEof, pos_, {}};
    case State::kDurationAfterBracket:
      state_ = State::kStatements;
      return LexDurationAfterBracket();
    case State::kStatements:
    case State::kInsideBraces: break;
  }
  if (input_.substr(pos_).starts_with('#')) return LexLineComment();
  return state_ == State::kInsideBraces ? LexInsideBraces() : LexStatements();
}

Item Lexer::LexLineComment() {
  pos_ += 1;
  int r = Next();
  while (r != '\n' && r != '\r' && r != kEofRune) r = Next();
  Backup();
  return Emit(ItemType::kComment);
}

Item Lexer::LexStatements() {
  int r = Next();
  switch (r) {
    case kEofRune:
      if (paren_depth_ != 0) return Errorf("unclosed left parenthesis");
      if (bracket_open_) return Errorf("unclosed left bracket");
      state_ = State::kDone;
      return Emit(ItemType::kEof);
    case ',': return Emit(ItemType::kComma);
    case '*': return Emit(ItemType::kMul);
    case '/': return Emit(ItemType::kDiv);
    case '%': return Emit(ItemType::kMod);
    case '+': return Emit(ItemType::kAdd);
    case '-': return Emit(ItemType::kSub);
    case '^': return Emit(ItemType::kPow);
    case '@': return Emit(ItemType::kAt);
    case '=': {
      int t = Peek();
      if (t == '=') {
        Next();
        return Emit(ItemType::kEqlc);
      }
      if (t == '~') return Errorf("unexpected character after '=': " + GoQuoteRune(t));
      return Emit(ItemType::kEql);
    }
    case '!': {
      int t = Next();
      if (t != '=') return Errorf("unexpected character after '!': " + GoQuoteRune(t));
      return Emit(ItemType::kNeq);
    }
    case '<':
    case '>': {
      bool eq = Peek() == '=';
      if (eq) Next();
      if (r == '<') return Emit(eq ? ItemType::kLte : ItemType::kLss);
      return Emit(eq ? ItemType::kGte : ItemType::kGtr);
    }
    case '"':
    case '\'': return LexString(r);
    case '`': return LexRawString();
    case '(':
      ++paren_depth_;
      return Emit(ItemType::kLeftParen);
    case ')': {
      Item item = Emit(ItemType::kRightParen);
      // Prometheus reports the stray parenthesis at the position after it.
      if (--paren_depth_ < 0) return Errorf("unexpected right parenthesis ')'");
      return item;
    }
    case '{':
      state_ = State::kInsideBraces;
      return Emit(ItemType::kLeftBrace);
    case '[': {
      if (bracket_open_) return Errorf("unexpected left bracket '['");
      got_colon_ = false;
      Item item = Emit(ItemType::kLeftBracket);
      if (IsSpace(Peek())) SkipSpaces();
      bracket_open_ = true;
      state_ = State::kDurationAfterBracket;
      return item;
    }
    case ']':
      if (!bracket_open_) return Errorf("unexpected right bracket ']'");
      bracket_open_ = false;
      return Emit(ItemType::kRightBracket);
    default: break;
  }
  if (IsSpace(r)) {
    SkipSpaces();
    return NextItem();
  }
  if (IsDigit(r) || (r == '.' && IsDigit(Peek()))) {
    Backup();
    return LexNumberOrDuration();
  }
  if (IsAlpha(r) || r == ':') {
    if (!bracket_open_) {
      Backup();
      return LexKeywordOrIdentifier();
    }
    // Inside brackets Prometheus 2.42 takes any letter as the subquery colon: `foo[5m x]`
    // parses as `foo[5m:]`.
    if (got_colon_) return Errorf("unexpected colon " + GoQuoteRune(r));
    got_colon_ = true;
    return Emit(ItemType::kColon);
  }
  return Errorf("unexpected character: " + GoQuoteRune(r));
}

Item Lexer::LexInsideBraces() {
  int r = Next();
  switch (r) {
    case kEofRune: return Errorf("unexpected end of input inside braces");
    case ',': return Emit(ItemType::kComma);
    case '"':
    case '\'': return LexString(r);
    case '`': return LexRawString();
    case '=':
      if (Next() == '~') return Emit(ItemType::kEqlRegex);
      Backup();
      return Emit(ItemType::kEql);
    case '!': {
      int nr = Next();
      if (nr == '~') return Emit(ItemType::kNeqRegex);
      if (nr == '=') return Emit(ItemType::kNeq);
      return Errorf("unexpected character after '!' inside braces: " + GoQuoteRune(nr));
    }
    case '{': return Errorf("unexpected left brace '{'");
    case '}':
      state_ = State::kStatements;
      return Emit(ItemType::kRightBrace);
    default: break;
  }
  if (IsSpace(r)) {
    SkipSpaces();
    return NextItem();
  }
  if (IsAlpha(r)) {
    Backup();
    return LexIdentifier();
  }
  return Errorf("unexpected character inside braces: " + GoQuoteRune(r));
}

Item Lexer::LexIdentifier() {
  while (IsAlphaNumeric(Next())) {
  }
  Backup();
  return Emit(ItemType::kIdentifier);
}

Item Lexer::LexKeywordOrIdentifier() {
  for (int r = Next(); IsAlphaNumeric(r) || r == ':'; r = Next()) {
  }
  Backup();
  std::string_view word = input_.substr(start_, pos_ - start_);
  if (auto kw = LookupKeyword(word)) return Emit(*kw);
  return Emit(word.find(':') == std::string_view::npos ? ItemType::kIdentifier
                                                       : ItemType::kMetricIdentifier);
}

Item Lexer::LexString(int quote) {
  for (;;) {
    int r = Next();
    if (r == '\\') {
      if (!LexEscape(quote)) return Item{ItemType::kError, start_, {}};
      continue;
    }
    if (r == kRuneError) return Errorf("invalid UTF-8 rune");
    if (r == kEofRune || r == '\n') return Errorf("unterminated quoted string");
    if (r == quote) break;
  }
  return Emit(ItemType::kString);
}

Item Lexer::LexRawString() {
  for (;;) {
    int r = Next();
    if (r == kRuneError) return Errorf("invalid UTF-8 rune");
    if (r == kEofRune) return Errorf("unterminated raw string");
    if (r == '`') break;
  }
  return Emit(ItemType::kString);
}

bool Lexer::LexEscape(int quote) {
  int ch = Next();
  int n;
  unsigned base, max;
  switch (ch) {
    case 'a': case 'b': case 'f': case 'n': case 'r': case 't': case 'v': case '\\':
      return true;
    case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
      n = 3, base = 8, max = 255;
      break;
    case 'x':
      ch = Next();
      n = 2, base = 16, max = 255;
      break;
    case 'u':
      ch = Next();
      n = 4, base = 16, max = 0x10FFFF;
      break;
    case 'U':
      ch = Next();
      n = 8, base = 16, max = 0x10FFFF;
      break;
    case kEofRune:
      Errorf("escape sequence not terminated");
      return false;
    default:
      if (ch == quote) return true;
      Errorf("unknown escape sequence " + GoUnicodeRune(ch));
      return false;
  }
  unsigned x = 0;
  while (n > 0) {
    unsigned d = static_cast<unsigned>(DigitVal(ch));
    if (d >= base) {
      if (ch == kEofRune) {
        Errorf("escape sequence not terminated");
      } else {
        Errorf("illegal character " + GoUnicodeRune(ch) + " in escape sequence");
      }
      return false;
    }
    x = x * base + d;
    if (--n > 0) ch = Next();
  }
  if (x > max || (x >= 0xD800 && x < 0xE000)) {
    Errorf("escape sequence is an invalid Unicode code point");
    return false;
  }
  return true;
}

bool Lexer::ScanNumber() {
  std::string_view digits = "0123456789";
  if (Accept("0") && Accept("xX")) digits = "0123456789abcdefABCDEF";
  AcceptRun(digits);
  if (Accept(".")) AcceptRun(digits);
  if (Accept("eE")) {
    Accept("+-");
    AcceptRun("0123456789");
  }
  return !IsAlphaNumeric(Peek());
}

bool Lexer::AcceptRemainingDuration() {
  if (!Accept("smhdwy")) return false;
  Accept("s");  // "ms"; bad units such as "hs" are rejected when the duration is parsed
  while (Accept("0123456789")) {
    AcceptRun("0123456789");
    if (!Accept("smhdw")) return false;  // "y" may only come first
    Accept("s");
  }
  return !IsAlphaNumeric(Next());
}

Item Lexer::LexNumberOrDuration() {
  if (ScanNumber()) return Emit(ItemType::kNumber);
  if (AcceptRemainingDuration()) {
    Backup();
    return Emit(ItemType::kDuration);
  }
  return Errorf("bad number or duration syntax: " +
                GoQuote(input_.substr(start_, pos_ - start_)));
}

Item Lexer::LexDurationAfterBracket() {
  if (ScanNumber()) return Errorf("missing unit character in duration");
  if (!AcceptRemainingDuration()) {
    return Errorf("bad duration syntax: " + GoQuote(input_.substr(start_, pos_ - start_)));
  }
  Backup();
  return Emit(ItemType::kDuration);
}

}  // namespace crmscope::promql
