// The PromQL syntax tree, shaped as Prometheus 2.42's promql/parser AST so the engine can
// follow Prometheus's evaluation rules node by node. Durations and timestamps are in
// milliseconds, the resolution of PromQL's duration syntax and of sample timestamps.
//
// String() prints a node back as PromQL the way Prometheus's printer does: canonical
// spacing, sorted label matchers, `by (a, b)`, numbers as Go prints float64.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collector/promql/lexer.h"
#include "common/label_matcher.h"

namespace crmscope::promql {

struct Function;

enum class ValueType { kNone, kVector, kScalar, kMatrix, kString };

std::string_view ValueTypeName(ValueType t);   // "vector", "matrix" (Prometheus's ValueType)
std::string_view DocumentedType(ValueType t);  // "instant vector", "range vector" (its docs)

// Byte offsets into the query text; errors report the start as line:column.
struct PositionRange {
  int start = 0;
  int end = 0;
};

enum class ExprKind {
  kNumberLiteral,
  kStringLiteral,
  kVectorSelector,
  kMatrixSelector,
  kSubquery,
  kParen,
  kUnary,
  kBinary,
  kAggregate,
  kCall,
};

class Expr {
 public:
  explicit Expr(ExprKind kind) : kind_(kind) {}
  virtual ~Expr() = default;
  Expr(const Expr&) = delete;
  Expr& operator=(const Expr&) = delete;

  ExprKind kind() const { return kind_; }
  virtual ValueType Type() const = 0;
  virtual PositionRange Range() const = 0;
  virtual std::string String() const = 0;

  // Downcasts by kind: `if (auto* vs = e->As<VectorSelector>())`.
  template <typename T>
  T* As() { return kind_ == T::kKind ? static_cast<T*>(this) : nullptr; }
  template <typename T>
  const T* As() const { return kind_ == T::kKind ? static_cast<const T*>(this) : nullptr; }

 private:
  ExprKind kind_;
};

using ExprPtr = std::unique_ptr<Expr>;

// The @ modifier: a fixed timestamp, or the start or end of the query's range.
enum class AtPreprocessor { kNone, kStart, kEnd };

struct NumberLiteral final : Expr {
  static constexpr ExprKind kKind = ExprKind::kNumberLiteral;
  NumberLiteral() : Expr(kKind) {}
  ValueType Type() const override { return ValueType::kScalar; }
  PositionRange Range() const override { return pos; }
  std::string String() const override;

  double val = 0;
  PositionRange pos;
};

struct StringLiteral final : Expr {
  static constexpr ExprKind kKind = ExprKind::kStringLiteral;
  StringLiteral() : Expr(kKind) {}
  ValueType Type() const override { return ValueType::kString; }
  PositionRange Range() const override { return pos; }
  std::string String() const override;

  std::string val;
  PositionRange pos;
};

struct VectorSelector final : Expr {
  static constexpr ExprKind kKind = ExprKind::kVectorSelector;
  VectorSelector() : Expr(kKind) {}
  ValueType Type() const override { return ValueType::kVector; }
  PositionRange Range() const override { return pos; }
  std::string String() const override;

  std::string name;  // the metric name written before the braces, or ""
  // The matchers in braces, then __name__="<name>" when a name was written before them.
  Matchers matchers;
  int64_t original_offset_ms = 0;  // as written: `offset 5m` is 300000, `offset -5m` -300000
  // The offset evaluation uses, which the engine derives from the original one and the @
  // modifier as Prometheus's does; the parser leaves it 0.
  int64_t offset_ms = 0;
  std::optional<int64_t> timestamp_ms;  // `@ <timestamp>`
  AtPreprocessor start_or_end = AtPreprocessor::kNone;
  PositionRange pos;
};

struct MatrixSelector final : Expr {
  static constexpr ExprKind kKind = ExprKind::kMatrixSelector;
  MatrixSelector() : Expr(kKind) {}
  ValueType Type() const override { return ValueType::kMatrix; }
  PositionRange Range() const override { return {vector_selector->pos.start, end_pos}; }
  std::string String() const override;

  // Offset and @ of a range selector live on its vector selector, as in Prometheus.
  std::unique_ptr<VectorSelector> vector_selector;
  int64_t range_ms = 0;
  int end_pos = 0;
};

struct SubqueryExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kSubquery;
  SubqueryExpr() : Expr(kKind) {}
  ValueType Type() const override { return ValueType::kMatrix; }
  PositionRange Range() const override { return {expr->Range().start, end_pos}; }
  std::string String() const override;

  ExprPtr expr;
  int64_t range_ms = 0;
  int64_t step_ms = 0;  // 0: the engine's default evaluation interval
  int64_t original_offset_ms = 0;
  int64_t offset_ms = 0;  // set by the engine, as VectorSelector::offset_ms
  std::optional<int64_t> timestamp_ms;
  AtPreprocessor start_or_end = AtPreprocessor::kNone;
  int end_pos = 0;
};

struct ParenExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kParen;
  ParenExpr() : Expr(kKind) {}
  ValueType Type() const override { return expr->Type(); }
  PositionRange Range() const override { return pos; }
  std::string String() const override;

  ExprPtr expr;
  PositionRange pos;
};

struct UnaryExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kUnary;
  UnaryExpr() : Expr(kKind) {}
  ValueType Type() const override { return expr->Type(); }
  PositionRange Range() const override { return {start_pos, expr->Range().end}; }
  std::string String() const override;

  ItemType op = ItemType::kSub;  // kAdd or kSub
  ExprPtr expr;
  int start_pos = 0;
};

enum class VectorMatchCardinality { kOneToOne, kManyToOne, kOneToMany, kManyToMany };

// How the series of the two sides of a binary operation between instant vectors are paired.
struct VectorMatching {
  VectorMatchCardinality card = VectorMatchCardinality::kOneToOne;
  // The labels given to on()/ignoring(); with on == false they are the ignored ones.
  std::vector<std::string> matching_labels;
  bool on = false;
  // The labels of group_left()/group_right() copied from the "one" side.
  std::vector<std::string> include;
};

struct BinaryExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kBinary;
  BinaryExpr() : Expr(kKind) {}
  ValueType Type() const override;
  PositionRange Range() const override { return {lhs->Range().start, rhs->Range().end}; }
  std::string String() const override;

  ItemType op = ItemType::kAdd;
  ExprPtr lhs;
  ExprPtr rhs;
  // Present only when both sides are instant vectors (the type checker drops it otherwise).
  std::optional<VectorMatching> matching;
  bool return_bool = false;  // the `bool` modifier of comparisons
};

struct AggregateExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kAggregate;
  AggregateExpr() : Expr(kKind) {}
  ValueType Type() const override { return ValueType::kVector; }
  PositionRange Range() const override { return pos; }
  std::string String() const override;

  ItemType op = ItemType::kSum;
  ExprPtr expr;
  ExprPtr param;  // topk/bottomk/quantile's number, count_values's label; else null
  std::vector<std::string> grouping;
  bool without = false;
  PositionRange pos;
};

struct Call final : Expr {
  static constexpr ExprKind kKind = ExprKind::kCall;
  Call() : Expr(kKind) {}
  ValueType Type() const override;
  PositionRange Range() const override { return pos; }
  std::string String() const override;

  const Function* func = nullptr;
  std::vector<ExprPtr> args;
  PositionRange pos;
};

// Prometheus's model.Duration text: "1h30m", "2w", "366d", "0s" (years and weeks only when
// they divide the duration exactly).
std::string FormatPromDuration(int64_t ms);

}  // namespace crmscope::promql
