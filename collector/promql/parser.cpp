#include "collector/promql/parser.h"

#include <algorithm>
#include <utility>

#include "collector/promql/functions.h"
#include "collector/promql/go_format.h"
#include "collector/promql/grammar.h"
#include "collector/promql/literals.h"
#include "collector/promql/parse_error.h"
#include "collector/promql/type_check.h"

namespace crmscope::promql {

namespace {

// Prometheus sets no limit, but parsing, checking, printing and evaluating a tree all recurse
// over it; a bound keeps a hostile query from exhausting a server thread's stack.
// Prometheus has no limit, but the parser recurses once per level and queries are parsed on
// CivetWeb worker threads, whose stacks Debian's build makes 100 KiB; ASan builds use several times
// more stack per frame. 256 levels is far beyond any real query.
constexpr int kMaxNesting = 256;

PositionRange RangeOf(const Item& item) { return {item.pos, item.end()}; }

template <typename T>
std::unique_ptr<T> Downcast(ExprPtr e) {
  return std::unique_ptr<T>(static_cast<T*>(e.release()));
}

class Parser {
 public:
  explicit Parser(std::string_view input) : input_(input), lexer_(input) {}

  ExprPtr ParseExpression() {
    if (Peek().type == ItemType::kEof) Fail({0, 0}, "no expression found in input");
    ExprPtr e = ParseBinary(0);
    if (Peek().type != ItemType::kEof) UnexpectedHere();
    return e;
  }

  std::unique_ptr<VectorSelector> ParseSelectorOnly() {
    const Item& t = Peek();
    std::unique_ptr<VectorSelector> vs;
    if (IsMetricIdentifier(t.type)) {
      vs = ParseVectorSelector(Consume());
    } else if (t.type == ItemType::kLeftBrace) {
      vs = ParseLabelMatchers();
    } else {
      UnexpectedHere();
    }
    if (Peek().type != ItemType::kEof) UnexpectedHere();
    return vs;
  }

 private:
  // The lookahead token. Lexer errors surface here, when the parser first asks for the
  // token, which is when Prometheus's generated parser reports them.
  const Item& Peek() {
    if (!have_lookahead_) {
      do {
        lookahead_ = lexer_.NextItem();
      } while (lookahead_.type == ItemType::kComment);
      if (lookahead_.type == ItemType::kError) {
        Fail({lookahead_.pos, static_cast<int>(input_.size())}, lexer_.error());
      }
      have_lookahead_ = true;
    }
    return lookahead_;
  }

  Item Consume() {
    Peek();
    have_lookahead_ = false;
    prev_end_ = lookahead_.end();
    return lookahead_;
  }

  [[noreturn]] void Fail(PositionRange pos, std::string message) {
    throw ParseError{pos, std::move(message)};
  }

  [[noreturn]] void Unexpected(const Item& item, std::string_view context,
                               std::string_view expected) {
    std::string message = "unexpected " + item.Describe();
    if (!context.empty()) message += " in " + std::string(context);
    if (!expected.empty()) message += ", expected " + std::string(expected);
    Fail(RangeOf(item), std::move(message));
  }

  void CheckHeight(int height) {
    if (height > kMaxNesting || nesting_ > kMaxNesting) {
      Fail(RangeOf(Peek()), "expression nesting exceeds the maximum depth of " +
                                std::to_string(kMaxNesting));
    }
  }

  void Expect(ItemType type, std::string_view context, std::string_view expected) {
    if (Peek().type != type) Unexpected(Peek(), context, expected);
    Consume();
  }

  // A token that fits nowhere. Prometheus's grammar recovers from such errors in two places:
  // inside an aggregation ("... in aggregation") and at the top ("unexpected X").
  [[noreturn]] void UnexpectedHere() {
    Unexpected(Peek(), aggregation_depth_ > 0 ? "aggregation" : "", "");
  }

  ExprPtr ParseBinary(int min_precedence);
  ExprPtr ParseUnary();
  ExprPtr ParsePrimary();
  ExprPtr ParsePostfix(ExprPtr e);
  void ParseBinaryModifiers(BinaryExpr& bin);
  std::vector<std::string> ParseGroupingLabels();
  std::unique_ptr<VectorSelector> ParseVectorSelector(const Item& name);
  std::unique_ptr<VectorSelector> ParseLabelMatchers();
  MatcherPtr ParseLabelMatcher();
  std::vector<ExprPtr> ParseCallBody();
  ExprPtr ParseCall(const Item& name);
  ExprPtr ParseAggregate(const Item& op);
  void ParseOffset(Expr& e);
  void ParseAt(Expr& e);
  ExprPtr ParseRangeOrSubquery(ExprPtr e);
  int64_t DurationOf(const Item& item);
  double NumberOf(const Item& item);

  std::string_view input_;
  Lexer lexer_;
  Item lookahead_;
  bool have_lookahead_ = false;
  int prev_end_ = 0;  // end of the last consumed token, where a finished node ends
  int aggregation_depth_ = 0;
  int nesting_ = 0;  // current recursion depth of ParseBinary
  int height_ = 0;   // height of the tree the last Parse* call returned
};

ExprPtr Parser::ParseBinary(int min_precedence) {
  ++nesting_;
  CheckHeight(0);
  ExprPtr lhs = ParseUnary();
  int height = height_;
  for (;;) {
    ItemType type = Peek().type;
    int precedence = Precedence(type);
    if (precedence == 0 || precedence < min_precedence) {
      --nesting_;
      height_ = height;
      return lhs;
    }
    Consume();
    auto bin = std::make_unique<BinaryExpr>();
    bin->op = type;
    bin->matching.emplace();
    ParseBinaryModifiers(*bin);
    bin->lhs = std::move(lhs);
    bin->rhs = ParseBinary(type == ItemType::kPow ? precedence : precedence + 1);
    height = 1 + std::max(height, height_);
    CheckHeight(height);
    lhs = std::move(bin);
  }
}

ExprPtr Parser::ParseUnary() {
  ItemType type = Peek().type;
  if (type != ItemType::kAdd && type != ItemType::kSub) return ParsePostfix(ParsePrimary());
  Item op = Consume();
  // Unary minus binds like multiplication: looser than ^, so -a^b is -(a^b).
  ExprPtr operand = ParseBinary(kPowPrecedence);
  if (auto* number = operand->As<NumberLiteral>()) {
    if (type == ItemType::kSub) number->val = -number->val;
    number->pos.start = op.pos;
    return operand;
  }
  ++height_;
  auto unary = std::make_unique<UnaryExpr>();
  unary->op = type;
  unary->expr = std::move(operand);
  unary->start_pos = op.pos;
  return unary;
}

ExprPtr Parser::ParsePrimary() {
  height_ = 1;
  const Item& t = Peek();
  switch (t.type) {
    case ItemType::kNumber: {
      Item item = Consume();
      auto n = std::make_unique<NumberLiteral>();
      n->val = NumberOf(item);
      n->pos = RangeOf(item);
      return n;
    }
    case ItemType::kString: {
      Item item = Consume();
      auto s = std::make_unique<StringLiteral>();
      s->val = UnquoteString(item.val);
      s->pos = RangeOf(item);
      return s;
    }
    case ItemType::kLeftParen: {
      Item open = Consume();
      auto paren = std::make_unique<ParenExpr>();
      paren->expr = ParseBinary(0);
      if (Peek().type != ItemType::kRightParen) UnexpectedHere();
      paren->pos = {open.pos, Consume().end()};
      ++height_;
      return paren;
    }
    case ItemType::kLeftBrace: return ParseLabelMatchers();
    default: break;
  }
  if (!IsMetricIdentifier(t.type)) UnexpectedHere();
  Item name = Consume();
  ItemType next = Peek().type;
  if (name.type == ItemType::kIdentifier && next == ItemType::kLeftParen) return ParseCall(name);
  if (IsAggregator(name.type) &&
      (next == ItemType::kLeftParen || next == ItemType::kBy || next == ItemType::kWithout)) {
    return ParseAggregate(name);
  }
  return ParseVectorSelector(name);
}

ExprPtr Parser::ParsePostfix(ExprPtr e) {
  for (;;) {
    switch (Peek().type) {
      case ItemType::kOffset:
        Consume();
        ParseOffset(*e);
        break;
      case ItemType::kAt:
        Consume();
        ParseAt(*e);
        break;
      case ItemType::kLeftBracket:
        e = ParseRangeOrSubquery(std::move(e));
        CheckHeight(++height_);
        break;
      default: return e;
    }
  }
}

void Parser::ParseBinaryModifiers(BinaryExpr& bin) {
  if (Peek().type == ItemType::kBool) {
    Consume();
    bin.return_bool = true;
  }
  ItemType t = Peek().type;
  if (t != ItemType::kOn && t != ItemType::kIgnoring) return;
  Consume();
  bin.matching->on = t == ItemType::kOn;
  bin.matching->matching_labels = ParseGroupingLabels();
  t = Peek().type;
  if (t != ItemType::kGroupLeft && t != ItemType::kGroupRight) return;
  Consume();
  bin.matching->card = t == ItemType::kGroupLeft ? VectorMatchCardinality::kManyToOne
                                                 : VectorMatchCardinality::kOneToMany;
  // The label list is optional; a `(` right after group_x always opens it, and a token that
  // can start neither it nor the right operand is reported as a bad label list.
  if (Peek().type == ItemType::kLeftParen || !CanStartExpr(Peek().type)) {
    bin.matching->include = ParseGroupingLabels();
  }
}

std::vector<std::string> Parser::ParseGroupingLabels() {
  Expect(ItemType::kLeftParen, "grouping opts", "\"(\"");
  std::vector<std::string> labels;
  if (Peek().type == ItemType::kRightParen) {
    Consume();
    return labels;
  }
  for (;;) {
    if (!IsMaybeLabel(Peek().type)) Unexpected(Peek(), "grouping opts", "label");
    Item label = Consume();
    if (!IsLabelName(label.val)) Unexpected(label, "grouping opts", "label");
    labels.emplace_back(label.val);
    ItemType t = Peek().type;
    if (t == ItemType::kComma) {
      Consume();
      if (Peek().type == ItemType::kRightParen) t = ItemType::kRightParen;
    } else if (t != ItemType::kRightParen) {
      Unexpected(Peek(), "grouping opts", "\",\" or \")\"");
    }
    if (t == ItemType::kRightParen) {
      Consume();
      return labels;
    }
  }
}

std::unique_ptr<VectorSelector> Parser::ParseVectorSelector(const Item& name) {
  std::unique_ptr<VectorSelector> vs;
  if (Peek().type == ItemType::kLeftBrace) {
    vs = ParseLabelMatchers();
  } else {
    vs = std::make_unique<VectorSelector>();
    vs->pos.end = name.end();
  }
  vs->pos.start = name.pos;
  vs->name = std::string(name.val);
  std::string unused;
  vs->matchers.push_back(
      LabelMatcher::Make(LabelMatcher::Type::kEqual, "__name__", vs->name, &unused));
  return vs;
}

std::unique_ptr<VectorSelector> Parser::ParseLabelMatchers() {
  auto vs = std::make_unique<VectorSelector>();
  vs->pos.start = Consume().pos;
  for (;;) {
    if (Peek().type == ItemType::kRightBrace) break;
    vs->matchers.push_back(ParseLabelMatcher());
    ItemType t = Peek().type;
    if (t == ItemType::kComma) {
      Consume();
    } else if (t != ItemType::kRightBrace) {
      Unexpected(Peek(), "label matching", "\",\" or \"}\"");
    }
  }
  vs->pos.end = Consume().end();
  return vs;
}

MatcherPtr Parser::ParseLabelMatcher() {
  if (Peek().type != ItemType::kIdentifier) {
    Unexpected(Peek(), "label matching", "identifier or \"}\"");
  }
  Item name = Consume();
  LabelMatcher::Type type;
  switch (Peek().type) {
    case ItemType::kEql: type = LabelMatcher::Type::kEqual; break;
    case ItemType::kNeq: type = LabelMatcher::Type::kNotEqual; break;
    case ItemType::kEqlRegex: type = LabelMatcher::Type::kRegexMatch; break;
    case ItemType::kNeqRegex: type = LabelMatcher::Type::kRegexNoMatch; break;
    default: Unexpected(Peek(), "label matching", "label matching operator");
  }
  Consume();
  if (Peek().type != ItemType::kString) Unexpected(Peek(), "label matching", "string");
  Item value = Consume();
  std::string error;
  MatcherPtr m = LabelMatcher::Make(type, std::string(name.val), UnquoteString(value.val), &error);
  if (!m) Fail({name.pos, value.end()}, error);
  return m;
}

std::vector<ExprPtr> Parser::ParseCallBody() {
  Consume();  // (
  std::vector<ExprPtr> args;
  int height = 0;
  if (Peek().type == ItemType::kRightParen) {
    Consume();
    height_ = 1;
    return args;
  }
  for (;;) {
    args.push_back(ParseBinary(0));
    height = std::max(height, height_);
    ItemType t = Peek().type;
    if (t == ItemType::kRightParen) {
      Consume();
      height_ = height + 1;
      return args;
    }
    if (t != ItemType::kComma) UnexpectedHere();
    Item comma = Consume();
    if (!CanStartExpr(Peek().type)) {
      Fail(RangeOf(comma), "trailing commas not allowed in function call args");
    }
  }
}

ExprPtr Parser::ParseCall(const Item& name) {
  auto call = std::make_unique<Call>();
  call->args = ParseCallBody();
  call->pos = {name.pos, prev_end_};
  call->func = FindFunction(name.val);
  if (!call->func) Fail(RangeOf(name), "unknown function with name " + GoQuote(name.val));
  return call;
}

ExprPtr Parser::ParseAggregate(const Item& op) {
  auto agg = std::make_unique<AggregateExpr>();
  agg->op = op.type;
  ++aggregation_depth_;
  auto parse_modifier = [&] {
    agg->without = Consume().type == ItemType::kWithout;
    agg->grouping = ParseGroupingLabels();
  };
  bool modifier_first = Peek().type == ItemType::kBy || Peek().type == ItemType::kWithout;
  if (modifier_first) parse_modifier();
  if (Peek().type != ItemType::kLeftParen) UnexpectedHere();
  std::vector<ExprPtr> args = ParseCallBody();
  if (!modifier_first && (Peek().type == ItemType::kBy || Peek().type == ItemType::kWithout)) {
    parse_modifier();
  }
  --aggregation_depth_;
  agg->pos = {op.pos, prev_end_};
  if (args.empty()) Fail(agg->pos, "no arguments for aggregate expression provided");
  size_t want = IsAggregatorWithParam(op.type) ? 2 : 1;
  if (args.size() != want) {
    Fail(agg->pos, "wrong number of arguments for aggregate expression provided, expected " +
                       std::to_string(want) + ", got " + std::to_string(args.size()));
  }
  if (want == 2) agg->param = std::move(args[0]);
  agg->expr = std::move(args[want - 1]);
  return agg;
}

void Parser::ParseOffset(Expr& e) {
  bool negative = Peek().type == ItemType::kSub;
  if (negative) Consume();
  if (Peek().type != ItemType::kDuration) Unexpected(Peek(), "offset", "duration");
  int64_t offset = DurationOf(Consume());
  if (negative) offset = -offset;
  int64_t* target = nullptr;
  int* end = nullptr;
  if (auto* vs = e.As<VectorSelector>()) {
    target = &vs->original_offset_ms, end = &vs->pos.end;
  } else if (auto* ms = e.As<MatrixSelector>()) {
    target = &ms->vector_selector->original_offset_ms, end = &ms->end_pos;
  } else if (auto* sq = e.As<SubqueryExpr>()) {
    target = &sq->original_offset_ms, end = &sq->end_pos;
  } else {
    Fail(e.Range(), "offset modifier must be preceded by an instant vector selector or range "
                    "vector selector or a subquery");
  }
  if (*target != 0) Fail(e.Range(), "offset may not be set multiple times");
  *target = offset;
  *end = prev_end_;
}

void Parser::ParseAt(Expr& e) {
  std::optional<double> timestamp;
  AtPreprocessor preprocessor = AtPreprocessor::kNone;
  ItemType t = Peek().type;
  if (t == ItemType::kAdd || t == ItemType::kSub) {
    Consume();
    if (Peek().type != ItemType::kNumber) Unexpected(Peek(), "@", "timestamp");
    double v = NumberOf(Consume());
    timestamp = t == ItemType::kSub ? -v : v;
  } else if (t == ItemType::kNumber) {
    timestamp = NumberOf(Consume());
  } else if (t == ItemType::kStart || t == ItemType::kEnd) {
    Consume();
    if (Peek().type != ItemType::kLeftParen) Unexpected(Peek(), "@", "timestamp");
    Consume();
    if (Peek().type != ItemType::kRightParen) Unexpected(Peek(), "@", "timestamp");
    Consume();
    preprocessor = t == ItemType::kStart ? AtPreprocessor::kStart : AtPreprocessor::kEnd;
  } else {
    Unexpected(Peek(), "@", "timestamp");
  }
  if (timestamp && !TimestampInRange(*timestamp)) {
    Fail(e.Range(), "timestamp out of bounds for @ modifier: " + GoFixed(*timestamp, 6));
  }
  std::optional<int64_t>* target_ts = nullptr;
  AtPreprocessor* target_pre = nullptr;
  int* end = nullptr;
  if (auto* vs = e.As<VectorSelector>()) {
    target_ts = &vs->timestamp_ms, target_pre = &vs->start_or_end, end = &vs->pos.end;
  } else if (auto* ms = e.As<MatrixSelector>()) {
    VectorSelector& inner = *ms->vector_selector;
    target_ts = &inner.timestamp_ms, target_pre = &inner.start_or_end, end = &ms->end_pos;
  } else if (auto* sq = e.As<SubqueryExpr>()) {
    target_ts = &sq->timestamp_ms, target_pre = &sq->start_or_end, end = &sq->end_pos;
  } else {
    Fail(e.Range(), "@ modifier must be preceded by an instant vector selector or range vector "
                    "selector or a subquery");
  }
  if (target_ts->has_value() || *target_pre != AtPreprocessor::kNone) {
    Fail(e.Range(), "@ <timestamp> may not be set multiple times");
  }
  if (timestamp) *target_ts = SecondsToMs(*timestamp);
  *target_pre = preprocessor;
  *end = prev_end_;
}

ExprPtr Parser::ParseRangeOrSubquery(ExprPtr e) {
  Item open = Consume();
  if (Peek().type != ItemType::kDuration) Unexpected(Peek(), "subquery selector", "duration");
  int64_t range = DurationOf(Consume());
  ItemType t = Peek().type;
  if (t == ItemType::kRightBracket) {
    Item close = Consume();
    PositionRange brackets{open.pos, close.end()};
    auto* vs = e->As<VectorSelector>();
    if (!vs) Fail(brackets, "ranges only allowed for vector selectors");
    if (vs->original_offset_ms != 0) Fail(brackets, "no offset modifiers allowed before range");
    if (vs->timestamp_ms) Fail(brackets, "no @ modifiers allowed before range");
    auto matrix = std::make_unique<MatrixSelector>();
    matrix->vector_selector = Downcast<VectorSelector>(std::move(e));
    matrix->range_ms = range;
    matrix->end_pos = close.end();
    return matrix;
  }
  if (t != ItemType::kColon) Unexpected(Peek(), "subquery or range", "\":\" or \"]\"");
  Consume();
  int64_t step = 0;
  if (Peek().type == ItemType::kDuration) {
    step = DurationOf(Consume());
    if (Peek().type != ItemType::kRightBracket) Unexpected(Peek(), "subquery selector", "\"]\"");
  } else if (Peek().type != ItemType::kRightBracket) {
    Unexpected(Peek(), "subquery selector", "duration or \"]\"");
  }
  auto subquery = std::make_unique<SubqueryExpr>();
  subquery->expr = std::move(e);
  subquery->range_ms = range;
  subquery->step_ms = step;
  subquery->end_pos = Consume().end();
  return subquery;
}

int64_t Parser::DurationOf(const Item& item) {
  std::string error;
  std::optional<int64_t> ms = ParsePromDuration(item.val, &error);
  if (!ms) Fail(RangeOf(item), error);
  if (*ms == 0) Fail(RangeOf(item), "duration must be greater than 0");
  return *ms;
}

double Parser::NumberOf(const Item& item) {
  std::string error;
  std::optional<double> v = ParseNumberLiteral(item.val, &error);
  if (!v) Fail(RangeOf(item), "error parsing number: " + error);
  return *v;
}

template <typename Fn>
bool RunParser(std::string_view input, std::string* error, Fn&& fn) {
  try {
    fn();
    return true;
  } catch (const ParseError& e) {
    if (error) *error = FormatParseError(input, e);
    return false;
  }
}

}  // namespace

ExprPtr ParseExpr(std::string_view input, std::string* error) {
  ExprPtr result;
  RunParser(input, error, [&] {
    ExprPtr e = Parser(input).ParseExpression();
    CheckTypes(*e, input);
    result = std::move(e);
  });
  return result;
}

bool ParseMetricSelector(std::string_view input, Matchers* out, std::string* error) {
  return RunParser(input, error, [&] { *out = Parser(input).ParseSelectorOnly()->matchers; });
}

bool ParseMatchersParam(const std::vector<std::string>& inputs, std::vector<Matchers>* out,
                        std::string* error) {
  std::vector<Matchers> sets;
  for (const std::string& input : inputs) {
    Matchers m;
    if (!ParseMetricSelector(input, &m, error)) return false;
    sets.push_back(std::move(m));
  }
  for (const Matchers& set : sets) {
    bool selective = false;
    for (const MatcherPtr& m : set) selective = selective || !m->MatchesEmpty();
    if (!selective) {
      if (error) *error = "match[] must contain at least one non-empty matcher";
      return false;
    }
  }
  *out = std::move(sets);
  return true;
}

}  // namespace crmscope::promql
