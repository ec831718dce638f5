// Which tokens may stand where in Prometheus 2.42's PromQL grammar: the sets its yacc grammar
// spells out as alternatives, needed by the recursive-descent parser to decide as it does.
#pragma once

#include <string_view>

#include "collector/promql/lexer.h"

namespace crmscope::promql {

// Binding strength of binary operators, loosest first; ^ is the only right-associative one.
inline int Precedence(ItemType t) {
  switch (t) {
    case ItemType::kLor: return 1;
    case ItemType::kLand:
    case ItemType::kLunless: return 2;
    case ItemType::kEqlc:
    case ItemType::kNeq:
    case ItemType::kLte:
    case ItemType::kLss:
    case ItemType::kGte:
    case ItemType::kGtr: return 3;
    case ItemType::kAdd:
    case ItemType::kSub: return 4;
    case ItemType::kMul:
    case ItemType::kDiv:
    case ItemType::kMod:
    case ItemType::kAtan2: return 5;
    case ItemType::kPow: return 6;
    default: return 0;
  }
}
inline constexpr int kPowPrecedence = 6;

// Tokens that may name a metric: identifiers, and the keywords Prometheus's grammar lets
// double as metric names (`sum`, `by`, `offset`, ...).
inline bool IsMetricIdentifier(ItemType t) {
  switch (t) {
    case ItemType::kIdentifier:
    case ItemType::kMetricIdentifier:
    case ItemType::kBy:
    case ItemType::kLand:
    case ItemType::kLor:
    case ItemType::kLunless:
    case ItemType::kOffset:
    case ItemType::kWithout:
    case ItemType::kStart:
    case ItemType::kEnd: return true;
    default: return IsAggregator(t);
  }
}

// Tokens accepted as a label in by(), without(), on(), ignoring() and group_x(); keywords
// other than `without` may name labels there.
inline bool IsMaybeLabel(ItemType t) {
  switch (t) {
    case ItemType::kBool:
    case ItemType::kGroupLeft:
    case ItemType::kGroupRight:
    case ItemType::kIgnoring:
    case ItemType::kOn:
    case ItemType::kAtan2: return true;
    case ItemType::kWithout: return false;
    default: return IsMetricIdentifier(t);
  }
}

inline bool CanStartExpr(ItemType t) {
  switch (t) {
    case ItemType::kNumber:
    case ItemType::kString:
    case ItemType::kLeftParen:
    case ItemType::kLeftBrace:
    case ItemType::kAdd:
    case ItemType::kSub: return true;
    default: return IsMetricIdentifier(t);
  }
}

inline bool IsLabelName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

}  // namespace crmscope::promql
