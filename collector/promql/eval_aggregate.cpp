// Aggregation operators, as Prometheus 2.42's aggregation(): groups in order of first
// appearance, each group's labels taken from its first series, topk/bottomk through Go's
// container/heap so that ties resolve the same way.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "collector/promql/eval_evaluator.h"
#include "collector/promql/go_format.h"

namespace crmscope::promql::eval {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct HeapItem {
  double v;
  uint32_t series;
};

// vectorByValueHeap (topk) and vectorByReverseValueHeap (bottomk): NaN sorts as the least.
struct HeapOrder {
  bool reverse;
  bool Less(const std::vector<HeapItem>& h, size_t i, size_t j) const {
    if (std::isnan(h[i].v)) return true;
    return reverse ? h[i].v > h[j].v : h[i].v < h[j].v;
  }
};

// Go's container/heap, so the elements kept among equal values are Prometheus's.
void HeapUp(std::vector<HeapItem>& h, const HeapOrder& o, size_t j) {
  while (j > 0) {
    size_t i = (j - 1) / 2;
    if (!o.Less(h, j, i)) break;
    std::swap(h[i], h[j]);
    j = i;
  }
}

void HeapDown(std::vector<HeapItem>& h, const HeapOrder& o, size_t i, size_t n) {
  for (;;) {
    size_t j = 2 * i + 1;
    if (j >= n) break;
    if (j + 1 < n && o.Less(h, j + 1, j)) ++j;
    if (!o.Less(h, j, i)) break;
    std::swap(h[i], h[j]);
    i = j;
  }
}

void HeapPush(std::vector<HeapItem>& h, const HeapOrder& o, HeapItem item) {
  h.push_back(item);
  HeapUp(h, o, h.size() - 1);
}

void HeapPop(std::vector<HeapItem>& h, const HeapOrder& o) {
  size_t n = h.size() - 1;
  std::swap(h[0], h[n]);
  HeapDown(h, o, 0, n);
  h.pop_back();
}

// sort.Sort(sort.Reverse(heap)). Go's sort runs an insertion sort on up to 12 elements, which
// fixes the order of equal values; longer heaps are ordered by value alone.
void SortHeapReversed(std::vector<HeapItem>& h, const HeapOrder& o) {
  if (h.size() <= 12) {
    for (size_t i = 1; i < h.size(); ++i) {
      for (size_t j = i; j > 0 && o.Less(h, j - 1, j); --j) std::swap(h[j], h[j - 1]);
    }
    return;
  }
  std::stable_sort(h.begin(), h.end(), [&](const HeapItem& a, const HeapItem& b) {
    if (std::isnan(a.v) || std::isnan(b.v)) return !std::isnan(a.v) && std::isnan(b.v);
    return o.reverse ? a.v < b.v : a.v > b.v;
  });
}

// Prometheus's quantile(): linear interpolation between the closest ranks, NaN sorting first.
double Quantile(double q, std::vector<double>& values) {
  if (values.empty()) return kNaN;
  if (q < 0) return -std::numeric_limits<double>::infinity();
  if (q > 1) return std::numeric_limits<double>::infinity();
  if (std::isnan(q)) return kNaN;
  std::sort(values.begin(), values.end(), [](double a, double b) {
    return std::isnan(a) ? !std::isnan(b) : a < b;
  });
  double n = static_cast<double>(values.size());
  double rank = q * (n - 1);
  double lower = std::max(0.0, std::floor(rank));
  double upper = std::min(n - 1, lower + 1);
  double weight = rank - std::floor(rank);
  return values[static_cast<size_t>(lower)] * (1 - weight) + values[static_cast<size_t>(upper)] * weight;
}

// strconv.FormatFloat(v, 'f', -1, 64): the shortest digits that read back as v, written out
// without an exponent and padded with zeros (1e21 is "1" and 21 zeros; std::to_chars in fixed
// notation would print the binary value's exact decimal digits instead).
std::string FormatFloatPlain(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string_view text(buf, static_cast<size_t>(res.ptr - buf));
  size_t e = text.find('e');
  int exponent = std::stoi(std::string(text.substr(e + 1)));
  std::string out = text.front() == '-' ? "-" : "";
  std::string digits;
  for (char c : text.substr(0, e)) {
    if (c >= '0' && c <= '9') digits += c;
  }
  if (exponent < 0) {
    return out + "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
  }
  size_t int_len = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= int_len) return out + digits + std::string(int_len - digits.size(), '0');
  return out + digits.substr(0, int_len) + "." + digits.substr(int_len);
}

bool ConvertibleToInt64(double v) { return v <= 9223372036854774784.0 && v >= -9223372036854775808.0; }

struct Group {
  double value = 0;
  double mean = 0;
  int64_t count = 0;
  std::vector<HeapItem> heap;
  std::vector<double> values;  // quantile
};

// One aggregation node over the steps: the groups of its input series, and per step the
// accumulators of the groups present in that step.
class Aggregation {
 public:
  Aggregation(const AggregateExpr& a, const Matrix& input, SeriesBuilder& builder)
      : a_(a), input_(input), builder_(builder), order_by_{a.op == ItemType::kBottomk} {
    grouping_ = a.grouping;
    std::sort(grouping_.begin(), grouping_.end());
    label_ = a.param ? UnwrapParens(*a.param).As<StringLiteral>() : nullptr;
    value_grouping_ = grouping_;
    if (a.op == ItemType::kCountValues && !a.without) {
      // count_values groups by the label it adds, so `by` gains that label.
      value_grouping_.push_back(label_->val);
      std::sort(value_grouping_.begin(), value_grouping_.end());
    }
    series_group_.resize(input.size());
    series_output_.assign(input.size(), -1);
    if (a.op != ItemType::kCountValues) {
      for (size_t i = 0; i < input.size(); ++i) series_group_[i] = GroupOf(input[i].metric, grouping_);
    }
  }

  void Step(size_t step, const StepVector& param_in, const StepVector& in, std::vector<StepOutput>& out) {
    double param = a_.param && !label_ ? (param_in.empty() ? kNaN : param_in[0].v) : 0;
    int64_t k = 0;
    if (a_.op == ItemType::kTopk || a_.op == ItemType::kBottomk) {
      if (!ConvertibleToInt64(param)) ThrowExecution("Scalar value " + GoFloat(param) + " overflows int64");
      k = static_cast<int64_t>(param);
      if (k < 1) return;
    }
    if (a_.op == ItemType::kCountValues && !IsValidLabelName(label_->val)) {
      ThrowExecution("invalid label name " + GoQuote(label_->val));
    }
    order_.clear();
    for (const StepSample& s : in) {
      uint32_t gid = StepGroupOf(s);
      if (gid >= groups_.size()) {
        groups_.resize(gid + 1);
        group_step_.resize(gid + 1, 0);
        group_output_.resize(gid + 1, -1);
      }
      if (group_step_[gid] != step + 1) {
        group_step_[gid] = step + 1;
        order_.push_back(gid);
        Start(groups_[gid], s);
      } else {
        Accumulate(groups_[gid], s, k);
      }
    }
    for (uint32_t gid : order_) Emit(gid, param, out);
  }

 private:
  // The group of a label set: its labels without the `without` ones (and __name__), or only
  // the `by` ones; interned so that a step looks groups up by index.
  uint32_t GroupOf(const Labels& metric, const std::vector<std::string>& names) {
    std::string key = a_.without || !names.empty() ? LabelsKey(metric, names, !a_.without) : "";
    auto [it, added] = group_ids_.emplace(std::move(key), static_cast<uint32_t>(group_ids_.size()));
    if (added) {
      group_labels_.push_back(a_.without ? DeleteLabels(WithoutMetricName(metric), names)
                                         : KeepLabels(metric, names));
    }
    return it->second;
  }

  uint32_t StepGroupOf(const StepSample& s) {
    if (a_.op != ItemType::kCountValues) return series_group_[s.series];
    counted_ = input_[s.series].metric;
    SetLabel(counted_, label_->val, FormatFloatPlain(s.v));
    return GroupOf(counted_, a_.without ? grouping_ : value_grouping_);
  }

  void Start(Group& g, const StepSample& s) {
    g.value = s.v;
    g.mean = s.v;
    g.count = 1;
    g.heap.assign(1, HeapItem{s.v, s.series});
    g.values.assign(1, s.v);
    if (a_.op == ItemType::kStdvar || a_.op == ItemType::kStddev) g.value = 0;
    if (a_.op == ItemType::kGroup) g.value = 1;
  }

  void Accumulate(Group& g, const StepSample& s, int64_t k) {
    switch (a_.op) {
      case ItemType::kSum: g.value += s.v; break;
      case ItemType::kAvg: AccumulateMean(g, s.v); break;
      case ItemType::kGroup: break;
      case ItemType::kMax:
        if (g.value < s.v || std::isnan(g.value)) g.value = s.v;
        break;
      case ItemType::kMin:
        if (g.value > s.v || std::isnan(g.value)) g.value = s.v;
        break;
      case ItemType::kCount:
      case ItemType::kCountValues: ++g.count; break;
      case ItemType::kStdvar:
      case ItemType::kStddev: {
        ++g.count;
        double delta = s.v - g.mean;
        g.mean += delta / static_cast<double>(g.count);
        g.value += delta * (s.v - g.mean);
        break;
      }
      case ItemType::kTopk:
      case ItemType::kBottomk: AccumulateHeap(g, s, k); break;
      case ItemType::kQuantile: g.values.push_back(s.v); break;
      default: ThrowExecution("expected aggregation operator");
    }
  }

  static void AccumulateMean(Group& g, double v) {
    ++g.count;
    if (std::isinf(g.mean)) {
      // An infinite mean stays as it is unless an opposite infinity or NaN arrives; the
      // incremental update below would turn Inf into NaN.
      if (std::isinf(v) && (g.mean > 0) == (v > 0)) return;
      if (!std::isinf(v) && !std::isnan(v)) return;
    }
    // Both terms divided by the count so that large values do not overflow.
    g.mean += v / static_cast<double>(g.count) - g.mean / static_cast<double>(g.count);
  }

  void AccumulateHeap(Group& g, const StepSample& s, int64_t k) {
    double top = g.heap[0].v;
    bool better = a_.op == ItemType::kTopk ? top < s.v : top > s.v;
    if (static_cast<int64_t>(g.heap.size()) >= k && !better && !std::isnan(top)) return;
    if (static_cast<int64_t>(g.heap.size()) == k) {
      if (k == 1) {
        g.heap[0] = HeapItem{s.v, s.series};
        return;
      }
      HeapPop(g.heap, order_by_);
    }
    HeapPush(g.heap, order_by_, HeapItem{s.v, s.series});
  }

  void Emit(uint32_t gid, double param, std::vector<StepOutput>& out) {
    Group& g = groups_[gid];
    if (a_.op == ItemType::kTopk || a_.op == ItemType::kBottomk) {
      if (g.heap.size() > 1) SortHeapReversed(g.heap, order_by_);
      for (const HeapItem& item : g.heap) {
        int64_t& o = series_output_[item.series];
        if (o < 0) o = builder_.Intern(input_[item.series].metric);
        out.push_back({static_cast<uint32_t>(o), item.v});
      }
      return;
    }
    double v = g.value;
    switch (a_.op) {
      case ItemType::kAvg: v = g.mean; break;
      case ItemType::kCount:
      case ItemType::kCountValues: v = static_cast<double>(g.count); break;
      case ItemType::kStdvar: v = g.value / static_cast<double>(g.count); break;
      case ItemType::kStddev: v = std::sqrt(g.value / static_cast<double>(g.count)); break;
      case ItemType::kQuantile: v = Quantile(param, g.values); break;
      default: break;
    }
    int64_t& o = group_output_[gid];
    if (o < 0) o = builder_.Intern(group_labels_[gid]);
    out.push_back({static_cast<uint32_t>(o), v});
  }

  const AggregateExpr& a_;
  const Matrix& input_;
  SeriesBuilder& builder_;
  const HeapOrder order_by_;
  const StringLiteral* label_ = nullptr;  // count_values's label
  std::vector<std::string> grouping_, value_grouping_;
  std::unordered_map<std::string, uint32_t> group_ids_;
  std::vector<Labels> group_labels_;
  std::vector<uint32_t> series_group_;
  std::vector<int64_t> series_output_;  // topk, bottomk: output series of an input series
  std::vector<int64_t> group_output_;
  std::vector<Group> groups_;
  std::vector<uint64_t> group_step_;  // the step (+1) a group was last started in
  std::vector<uint32_t> order_;       // the groups of the step, in order of appearance
  Labels counted_;
};

}  // namespace

Matrix Evaluator::EvalAggregate(AggregateExpr& a) {
  bool label_param = a.param && UnwrapParens(*a.param).kind() == ExprKind::kStringLiteral;
  int64_t before = q_.current_samples;
  std::vector<StepArg> args = EvalArgs({label_param ? nullptr : a.param.get(), a.expr.get()});
  SeriesBuilder builder;
  Aggregation aggregation(a, args[1].matrix, builder);
  return RunSteps(args, before, builder,
                  [&](TimestampMs, size_t step, const std::vector<StepVector>& in,
                      std::vector<StepOutput>& out) { aggregation.Step(step, in[0], in[1], out); });
}

}  // namespace crmscope::promql::eval
