// Binary operators, as Prometheus 2.42's VectorBinop, VectorscalarBinop, scalarBinop and the
// set operators VectorAnd / VectorOr / VectorUnless.
#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "collector/promql/eval_evaluator.h"

namespace crmscope::promql::eval {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Arithmetic drops the metric name; comparisons (without bool), atan2 and set operators keep
// it, as Prometheus's shouldDropMetricName decides.
bool DropsMetricName(ItemType op) {
  switch (op) {
    case ItemType::kAdd:
    case ItemType::kSub:
    case ItemType::kDiv:
    case ItemType::kMul:
    case ItemType::kPow:
    case ItemType::kMod: return true;
    default: return false;
  }
}

struct ElemResult {
  double value;
  bool keep;
};

// vectorElemBinop: a comparison keeps the left value when it holds.
ElemResult ElemBinop(ItemType op, double l, double r) {
  switch (op) {
    case ItemType::kAdd: return {l + r, true};
    case ItemType::kSub: return {l - r, true};
    case ItemType::kMul: return {l * r, true};
    case ItemType::kDiv: return {l / r, true};
    case ItemType::kPow: return {std::pow(l, r), true};
    case ItemType::kMod: return {std::fmod(l, r), true};
    case ItemType::kEqlc: return {l, l == r};
    case ItemType::kNeq: return {l, l != r};
    case ItemType::kGtr: return {l, l > r};
    case ItemType::kLss: return {l, l < r};
    case ItemType::kGte: return {l, l >= r};
    case ItemType::kLte: return {l, l <= r};
    case ItemType::kAtan2: return {std::atan2(l, r), true};
    default: ThrowExecution("operator not allowed for operations between vectors");
  }
}

double ScalarBinop(ItemType op, double l, double r) {
  ElemResult e = ElemBinop(op, l, r);
  if (IsComparisonOperator(op)) return e.keep ? 1 : 0;
  return e.value;
}

double ScalarAt(const StepVector& v) { return v.empty() ? kNaN : v.front().v; }

// The match signature of every series of both sides, interned to small integers.
struct Signatures {
  std::vector<uint32_t> side[2];
  size_t count = 0;

  Signatures(const std::vector<StepArg>& args, const VectorMatching& m) {
    std::vector<std::string> names = m.matching_labels;
    std::sort(names.begin(), names.end());
    std::unordered_map<std::string, uint32_t> ids;
    for (int s = 0; s < 2; ++s) {
      for (const MatrixSeries& series : args[s].matrix) {
        auto [it, added] = ids.emplace(LabelsKey(series.metric, names, m.on),
                                       static_cast<uint32_t>(ids.size()));
        side[s].push_back(it->second);
      }
    }
    count = ids.size();
  }
};

// Marks signatures as seen during one step without clearing between steps.
class SignatureSet {
 public:
  explicit SignatureSet(size_t n) : stamp_(n, 0), index_(n, 0) {}
  void NextStep() { ++current_; }
  bool Has(uint32_t sig) const { return stamp_[sig] == current_; }
  uint32_t IndexOf(uint32_t sig) const { return index_[sig]; }
  void Put(uint32_t sig, uint32_t index) {
    stamp_[sig] = current_;
    index_[sig] = index;
  }

 private:
  std::vector<uint64_t> stamp_;
  std::vector<uint32_t> index_;
  uint64_t current_ = 0;
};

}  // namespace

Matrix Evaluator::EvalBinary(BinaryExpr& b) {
  ValueType lt = b.lhs->Type();
  ValueType rt = b.rhs->Type();
  if (lt == ValueType::kScalar && rt == ValueType::kScalar) return EvalScalarBinary(b);
  if (lt == ValueType::kVector && rt == ValueType::kVector) {
    return IsSetOperator(b.op) ? EvalSetOperation(b) : EvalVectorBinary(b);
  }
  if (lt == ValueType::kVector && rt == ValueType::kScalar) return EvalVectorScalarBinary(b, false);
  if (lt == ValueType::kScalar && rt == ValueType::kVector) return EvalVectorScalarBinary(b, true);
  ThrowExecution("binary expression between unsupported types");
}

Matrix Evaluator::EvalScalarBinary(BinaryExpr& b) {
  int64_t before = q_.current_samples;
  std::vector<StepArg> args = EvalArgs({b.lhs.get(), b.rhs.get()});
  SeriesBuilder builder;
  uint32_t scalar = builder.Intern(Labels{});
  return RunSteps(args, before, builder,
                  [&](TimestampMs, size_t, const std::vector<StepVector>& in,
                      std::vector<StepOutput>& out) {
                    out.push_back({scalar, ScalarBinop(b.op, ScalarAt(in[0]), ScalarAt(in[1]))});
                  });
}

Matrix Evaluator::EvalVectorScalarBinary(BinaryExpr& b, bool scalar_on_left) {
  int64_t before = q_.current_samples;
  std::vector<StepArg> args = EvalArgs({b.lhs.get(), b.rhs.get()});
  size_t vec = scalar_on_left ? 1 : 0;
  const Matrix& series = args[vec].matrix;
  bool drop_name = DropsMetricName(b.op) || b.return_bool;
  std::vector<int64_t> output_of(series.size(), -1);
  SeriesBuilder builder;
  return RunSteps(args, before, builder, [&](TimestampMs, size_t, const std::vector<StepVector>& in,
                                             std::vector<StepOutput>& out) {
    double scalar = ScalarAt(in[1 - vec]);
    for (const StepSample& s : in[vec]) {
      double l = scalar_on_left ? scalar : s.v;
      double r = scalar_on_left ? s.v : scalar;
      auto [value, keep] = ElemBinop(b.op, l, r);
      // A comparison with the scalar on the left still yields the vector's value.
      if (IsComparisonOperator(b.op) && scalar_on_left) value = r;
      if (b.return_bool) {
        value = keep ? 1 : 0;
        keep = true;
      }
      if (!keep) continue;
      int64_t& o = output_of[s.series];
      if (o < 0) {
        const Labels& metric = series[s.series].metric;
        o = builder.Intern(drop_name ? WithoutMetricName(metric) : metric);
      }
      out.push_back({static_cast<uint32_t>(o), value});
    }
  });
}

namespace {

// VectorBinop over the steps: pairs each series of the "many" side with the series of the
// "one" side that has its signature. One-to-many is evaluated as many-to-one with the sides
// swapped, as in Prometheus.
class VectorMatcher {
 public:
  VectorMatcher(const BinaryExpr& b, const std::vector<StepArg>& args, SeriesBuilder& builder)
      : b_(b),
        m_(*b.matching),
        sigs_(args, m_),
        swapped_(m_.card == VectorMatchCardinality::kOneToMany),
        many_(swapped_ ? 1 : 0),
        one_(1 - many_),
        many_series_(args[many_].matrix),
        one_series_(args[one_].matrix),
        one_side_(sigs_.count),
        matched_(sigs_.count),
        builder_(builder) {}

  void Step(const std::vector<StepVector>& in, std::vector<StepOutput>& out) {
    if (in[0].empty() || in[1].empty()) return;
    IndexOneSide(in[one_]);
    matched_.NextStep();
    matched_outputs_.clear();
    const StepVector& rhs = in[one_];
    for (const StepSample& ls : in[many_]) {
      uint32_t sig = sigs_.side[many_][ls.series];
      if (!one_side_.Has(sig)) continue;
      const StepSample& rs = rhs[one_side_.IndexOf(sig)];
      auto [value, keep] = ElemBinop(b_.op, swapped_ ? rs.v : ls.v, swapped_ ? ls.v : rs.v);
      if (b_.return_bool) {
        value = keep ? 1 : 0;
      } else if (!keep) {
        continue;
      }
      uint32_t series = ResultSeries(ls.series, rs.series);
      if (m_.card == VectorMatchCardinality::kOneToOne) {
        if (matched_.Has(sig)) {
          ThrowExecution("multiple matches for labels: many-to-one matching must be explicit "
                         "(group_left/group_right)");
        }
        matched_.Put(sig, 0);
      } else if (!matched_outputs_.insert((static_cast<uint64_t>(sig) << 32) | series).second) {
        ThrowExecution("multiple matches for labels: grouping labels must ensure unique matches");
      }
      out.push_back({series, value});
    }
  }

 private:
  // The "one" side's samples by signature; two with one signature make the match ambiguous.
  void IndexOneSide(const StepVector& rhs) {
    one_side_.NextStep();
    for (uint32_t j = 0; j < rhs.size(); ++j) {
      uint32_t sig = sigs_.side[one_][rhs[j].series];
      if (one_side_.Has(sig)) {
        const Labels& current = one_series_[rhs[j].series].metric;
        const Labels& earlier = one_series_[rhs[one_side_.IndexOf(sig)].series].metric;
        ThrowExecution("found duplicate series for the match group " +
                       GoLabelsString(MatchLabels(current, m_.matching_labels, m_.on)) + " on the " +
                       (swapped_ ? "left" : "right") + " hand-side of the operation: [" +
                       GoLabelsString(current) + ", " + GoLabelsString(earlier) +
                       "];many-to-many matching not allowed: matching labels must be unique on one side");
      }
      one_side_.Put(sig, j);
    }
  }

  // resultMetric: the "many" side's labels, without the name for arithmetic, reduced to the
  // on() labels (or without the ignoring() ones) for one-to-one matching, plus the group_x
  // labels copied from the "one" side; cached per pair of series.
  uint32_t ResultSeries(uint32_t ls, uint32_t rs) {
    uint64_t key = (static_cast<uint64_t>(ls) << 32) | rs;
    if (auto it = output_of_.find(key); it != output_of_.end()) return it->second;
    Labels metric = many_series_[ls].metric;
    if (DropsMetricName(b_.op)) metric = WithoutMetricName(metric);
    if (m_.card == VectorMatchCardinality::kOneToOne) {
      metric = m_.on ? KeepLabels(metric, m_.matching_labels) : DeleteLabels(metric, m_.matching_labels);
    }
    for (const std::string& name : m_.include) {
      SetLabel(metric, name, GetLabel(one_series_[rs].metric, name));
    }
    if (b_.return_bool) metric = WithoutMetricName(metric);
    uint32_t id = builder_.Intern(std::move(metric));
    output_of_.emplace(key, id);
    return id;
  }

  const BinaryExpr& b_;
  const VectorMatching& m_;
  Signatures sigs_;
  const bool swapped_;
  const int many_, one_;
  const Matrix& many_series_;
  const Matrix& one_series_;
  SignatureSet one_side_;
  SignatureSet matched_;
  std::unordered_set<uint64_t> matched_outputs_;     // (signature, output series) of a step
  std::unordered_map<uint64_t, uint32_t> output_of_;  // (many series, one series) -> output
  SeriesBuilder& builder_;
};

}  // namespace

Matrix Evaluator::EvalVectorBinary(BinaryExpr& b) {
  int64_t before = q_.current_samples;
  std::vector<StepArg> args = EvalArgs({b.lhs.get(), b.rhs.get()});
  SeriesBuilder builder;
  VectorMatcher matcher(b, args, builder);
  return RunSteps(args, before, builder,
                  [&](TimestampMs, size_t, const std::vector<StepVector>& in,
                      std::vector<StepOutput>& out) { matcher.Step(in, out); });
}

// and, or, unless: filter the left side by the presence of a matching series on the right (or
// add the right's unmatched series), keeping every label.
Matrix Evaluator::EvalSetOperation(BinaryExpr& b) {
  int64_t before = q_.current_samples;
  std::vector<StepArg> args = EvalArgs({b.lhs.get(), b.rhs.get()});
  Signatures sigs(args, *b.matching);
  SignatureSet seen(sigs.count);
  std::vector<int64_t> output_of[2] = {std::vector<int64_t>(args[0].matrix.size(), -1),
                                       std::vector<int64_t>(args[1].matrix.size(), -1)};
  SeriesBuilder builder;
  auto emit = [&](int side, const StepSample& s, std::vector<StepOutput>& out) {
    int64_t& o = output_of[side][s.series];
    if (o < 0) o = builder.Intern(args[side].matrix[s.series].metric);
    out.push_back({static_cast<uint32_t>(o), s.v});
  };
  return RunSteps(args, before, builder, [&](TimestampMs, size_t, const std::vector<StepVector>& in,
                                             std::vector<StepOutput>& out) {
    const StepVector& lhs = in[0];
    const StepVector& rhs = in[1];
    seen.NextStep();
    switch (b.op) {
      case ItemType::kLand:
        if (lhs.empty() || rhs.empty()) return;
        for (const StepSample& s : rhs) seen.Put(sigs.side[1][s.series], 0);
        for (const StepSample& s : lhs) {
          if (seen.Has(sigs.side[0][s.series])) emit(0, s, out);
        }
        return;
      case ItemType::kLor:
        for (const StepSample& s : lhs) {
          seen.Put(sigs.side[0][s.series], 0);
          emit(0, s, out);
        }
        for (const StepSample& s : rhs) {
          if (lhs.empty() || !seen.Has(sigs.side[1][s.series])) emit(1, s, out);
        }
        return;
      case ItemType::kLunless:
        if (!lhs.empty() && !rhs.empty()) {
          for (const StepSample& s : rhs) seen.Put(sigs.side[1][s.series], 0);
        }
        for (const StepSample& s : lhs) {
          if (!seen.Has(sigs.side[0][s.series])) emit(0, s, out);
        }
        return;
      default: ThrowExecution("unknown set operator");
    }
  });
}

}  // namespace crmscope::promql::eval
