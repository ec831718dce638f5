// The PromQL lexer: turns query text into the tokens of Prometheus 2.42's grammar. It is a
// pull lexer (the parser asks for one token at a time) because token boundaries depend on
// context the way Prometheus's state machine decides them: inside braces every word is a
// label name, right after `[` only a duration may follow, and inside brackets a letter or `:`
// is the subquery colon.
#pragma once

#include <string>
#include <string_view>

namespace crmscope::promql {

enum class ItemType {
  kError,
  kEof,
  kComment,
  kIdentifier,
  kMetricIdentifier,
  kLeftParen,
  kRightParen,
  kLeftBrace,
  kRightBrace,
  kLeftBracket,
  kRightBracket,
  kComma,
  kEql,  // `=` inside braces
  kColon,
  kString,
  kNumber,
  kDuration,

  // Operators.
  kAdd,
  kDiv,
  kEqlc,
  kEqlRegex,
  kGte,
  kGtr,
  kLand,
  kLor,
  kLss,
  kLte,
  kLunless,
  kMod,
  kMul,
  kNeq,
  kNeqRegex,
  kPow,
  kSub,
  kAt,
  kAtan2,

  // Aggregators.
  kAvg,
  kBottomk,
  kCount,
  kCountValues,
  kGroup,
  kMax,
  kMin,
  kQuantile,
  kStddev,
  kStdvar,
  kSum,
  kTopk,

  // Keywords.
  kBool,
  kBy,
  kGroupLeft,
  kGroupRight,
  kIgnoring,
  kOffset,
  kOn,
  kWithout,

  // Preprocessors of the @ modifier.
  kStart,
  kEnd,
};

bool IsOperator(ItemType t);
bool IsAggregator(ItemType t);
bool IsAggregatorWithParam(ItemType t);  // topk, bottomk, count_values, quantile
bool IsKeyword(ItemType t);
bool IsComparisonOperator(ItemType t);
bool IsSetOperator(ItemType t);  // and, or, unless

// The canonical text of a token type ("+", "sum", "group_left"); used to print operators.
std::string_view ItemTypeText(ItemType t);

struct Item {
  ItemType type = ItemType::kEof;
  int pos = 0;            // byte offset of the token in the input
  std::string_view val;   // the token's text; for kError, see Lexer::error()

  int end() const { return pos + static_cast<int>(val.size()); }
  // How Prometheus names a token in "unexpected ..." errors: `identifier "foo"`, `<op:+>`,
  // `"("`, `end of input`.
  std::string Describe() const;
};

class Lexer {
 public:
  explicit Lexer(std::string_view input) : input_(input) {}

  // The next token. After an error (type kError, message in error()) or the end of input,
  // every further call returns kEof.
  Item NextItem();
  const std::string& error() const { return error_; }

 private:
  enum class State { kStatements, kInsideBraces, kDurationAfterBracket, kDone };

  int Next();  // next code point, or -1 at the end; invalid UTF-8 reads as U+FFFD
  int Peek();
  void Backup() { pos_ -= width_; }
  bool Accept(std::string_view valid);
  void AcceptRun(std::string_view valid);
  Item Emit(ItemType t);
  Item Errorf(std::string message);

  Item LexStatements();
  Item LexInsideBraces();
  Item LexDurationAfterBracket();
  Item LexNumberOrDuration();
  Item LexKeywordOrIdentifier();
  Item LexIdentifier();
  Item LexString(int quote);
  Item LexRawString();
  Item LexLineComment();
  bool LexEscape(int quote);  // false after reporting an error
  bool ScanNumber();
  bool AcceptRemainingDuration();
  void SkipSpaces();

  std::string_view input_;
  std::string error_;
  State state_ = State::kStatements;
  int pos_ = 0;
  int start_ = 0;
  int width_ = 0;
  int paren_depth_ = 0;
  bool bracket_open_ = false;
  bool got_colon_ = false;
};

}  // namespace crmscope::promql
