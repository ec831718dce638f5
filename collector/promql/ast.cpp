#include "collector/promql/ast.h"

#include <algorithm>

#include "collector/promql/functions.h"
#include "collector/promql/go_format.h"

namespace crmscope::promql {

namespace {

std::string Join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += sep;
    out += items[i];
  }
  return out;
}

std::string MatcherString(const LabelMatcher& m) {
  static constexpr std::string_view kOps[] = {"=", "!=", "=~", "!~"};
  return m.name() + std::string(kOps[static_cast<int>(m.type())]) + GoQuote(m.value());
}

std::string AtSuffix(const std::optional<int64_t>& timestamp_ms, AtPreprocessor start_or_end) {
  if (timestamp_ms) return " @ " + GoFixed(static_cast<double>(*timestamp_ms) / 1000.0, 3);
  if (start_or_end == AtPreprocessor::kStart) return " @ start()";
  if (start_or_end == AtPreprocessor::kEnd) return " @ end()";
  return "";
}

std::string OffsetSuffix(int64_t offset_ms) {
  if (offset_ms > 0) return " offset " + FormatPromDuration(offset_ms);
  if (offset_ms < 0) return " offset -" + FormatPromDuration(-offset_ms);
  return "";
}

}  // namespace

std::string_view ValueTypeName(ValueType t) {
  switch (t) {
    case ValueType::kNone: return "none";
    case ValueType::kVector: return "vector";
    case ValueType::kScalar: return "scalar";
    case ValueType::kMatrix: return "matrix";
    case ValueType::kString: return "string";
  }
  return "none";
}

std::string_view DocumentedType(ValueType t) {
  switch (t) {
    case ValueType::kVector: return "instant vector";
    case ValueType::kMatrix: return "range vector";
    default: return ValueTypeName(t);
  }
}

std::string FormatPromDuration(int64_t ms) {
  if (ms == 0) return "0s";
  struct Unit {
    const char* name;
    int64_t ms;
    bool exact_only;
  };
  // Years and weeks only when exact: "90d" reads better than "12w6d".
  static constexpr Unit kUnits[] = {
      {"y", 365LL * 24 * 3600 * 1000, true}, {"w", 7LL * 24 * 3600 * 1000, true},
      {"d", 24LL * 3600 * 1000, false},      {"h", 3600LL * 1000, false},
      {"m", 60LL * 1000, false},             {"s", 1000, false},
      {"ms", 1, false},
  };
  std::string out;
  for (const Unit& u : kUnits) {
    if (u.exact_only && ms % u.ms != 0) continue;
    if (int64_t v = ms / u.ms; v > 0) {
      out += std::to_string(v) + u.name;
      ms -= v * u.ms;
    }
  }
  return out;
}

std::string NumberLiteral::String() const { return GoFloat(val); }

std::string StringLiteral::String() const { return GoQuote(val); }

std::string VectorSelector::String() const {
  std::vector<std::string> parts;
  for (const MatcherPtr& m : matchers) {
    // The name written before the braces is printed there, not as a matcher.
    if (m->name() == "__name__" && m->type() == LabelMatcher::Type::kEqual && m->value() == name) {
      continue;
    }
    parts.push_back(MatcherString(*m));
  }
  std::string out = name;
  if (!parts.empty()) {
    std::sort(parts.begin(), parts.end());
    out += "{";
    out += Join(parts, ",");
    out += "}";
  }
  return out + AtSuffix(timestamp_ms, start_or_end) + OffsetSuffix(original_offset_ms);
}

std::string MatrixSelector::String() const {
  const VectorSelector& vs = *vector_selector;
  // The selector's @ and offset are printed after the range.
  VectorSelector bare;
  bare.name = vs.name;
  bare.matchers = vs.matchers;
  return bare.String() + "[" + FormatPromDuration(range_ms) + "]" +
         AtSuffix(vs.timestamp_ms, vs.start_or_end) + OffsetSuffix(vs.original_offset_ms);
}

std::string SubqueryExpr::String() const {
  std::string step = step_ms != 0 ? FormatPromDuration(step_ms) : "";
  return expr->String() + "[" + FormatPromDuration(range_ms) + ":" + step + "]" +
         AtSuffix(timestamp_ms, start_or_end) + OffsetSuffix(original_offset_ms);
}

std::string ParenExpr::String() const {
  std::string out = "(";
  out += expr->String();
  out += ")";
  return out;
}

std::string UnaryExpr::String() const { return std::string(ItemTypeText(op)) + expr->String(); }

ValueType BinaryExpr::Type() const {
  if (lhs->Type() == ValueType::kScalar && rhs->Type() == ValueType::kScalar) {
    return ValueType::kScalar;
  }
  return ValueType::kVector;
}

std::string BinaryExpr::String() const {
  std::string modifiers = return_bool ? " bool" : "";
  // As Prometheus 2.42 prints it: matching clauses only when on() was given or ignoring()
  // has labels, so `ignoring() group_left` prints as nothing.
  if (matching && (!matching->matching_labels.empty() || matching->on)) {
    modifiers += matching->on ? " on (" : " ignoring (";
    modifiers += Join(matching->matching_labels, ", ") + ")";
    if (matching->card == VectorMatchCardinality::kManyToOne ||
        matching->card == VectorMatchCardinality::kOneToMany) {
      modifiers += matching->card == VectorMatchCardinality::kManyToOne ? " group_left (" : " group_right (";
      modifiers += Join(matching->include, ", ") + ")";
    }
  }
  return lhs->String() + " " + std::string(ItemTypeText(op)) + modifiers + " " + rhs->String();
}

std::string AggregateExpr::String() const {
  std::string out(ItemTypeText(op));
  if (without) {
    out += " without (" + Join(grouping, ", ") + ") ";
  } else if (!grouping.empty()) {
    out += " by (" + Join(grouping, ", ") + ") ";
  }
  out += "(";
  if (param) out += param->String() + ", ";
  return out + expr->String() + ")";
}

ValueType Call::Type() const { return func ? func->return_type : ValueType::kNone; }

std::string Call::String() const {
  std::string out(func ? func->name : "");
  out += "(";
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out += ", ";
    out += args[i]->String();
  }
  return out + ")";
}

}  // namespace crmscope::promql
