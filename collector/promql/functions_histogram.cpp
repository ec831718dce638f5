// histogram_quantile over classic histograms (series of cumulative `le` buckets), as
// Prometheus 2.42's funcHistogramQuantile and bucketQuantile.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "collector/promql/functions_impl.h"

namespace crmscope::promql {

namespace {

constexpr std::string_view kBucketLabel = "le";

struct Bucket {
  double upper_bound;
  double count;
};

bool EqualFoldAscii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Go's strconv.ParseFloat(s, 64): no surrounding space, "inf"/"infinity"/"nan" in any case with
// an optional sign, decimal or hex mantissas; a value too large for a double is an error (the
// bucket is then skipped, as Prometheus skips it).
bool ParseGoFloat(std::string_view s, double* out) {
  if (s.empty()) return false;
  std::string_view body = s[0] == '+' || s[0] == '-' ? s.substr(1) : s;
  bool negative = s[0] == '-';
  if (EqualFoldAscii(body, "inf") || EqualFoldAscii(body, "infinity")) {
    *out = negative ? -INFINITY : INFINITY;
    return true;
  }
  if (EqualFoldAscii(body, "nan")) {
    if (body.size() != s.size()) return false;  // Go accepts no sign on NaN
    *out = std::nan("");
    return true;
  }
  // Only digits, '.', exponents, hex digits and signs are left to strtod; anything else
  // (spaces, "nan(...)", underscores) is refused as Go would refuse it here.
  for (char c : body) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
              c == '.' || c == 'x' || c == 'X' || c == 'p' || c == 'P' || c == '+' || c == '-';
    if (!ok) return false;
  }
  bool hex = body.size() > 1 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X');
  if (hex && body.find_first_of("pP") == std::string_view::npos) return false;  // Go needs 'p'
  std::string copy(s);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return false;
  if (std::isinf(v)) return false;  // overflow: Go's ErrRange
  *out = v;
  return true;
}

// Buckets with the same bound (the same series written twice, e.g. le="1" and le="1.0") are
// summed; counts that decrease with the bound (possible with rate() on imprecise float data) are
// raised to the largest count seen below them, as 2.42's coalesceBuckets and ensureMonotonic.
double BucketQuantile(double q, std::vector<Bucket>& buckets) {
  if (std::isnan(q)) return std::nan("");
  if (q < 0) return -INFINITY;
  if (q > 1) return INFINITY;
  // NaN bounds sort last (so the +Inf check fails) to keep the ordering strict and weak.
  std::sort(buckets.begin(), buckets.end(), [](const Bucket& a, const Bucket& b) {
    if (std::isnan(a.upper_bound)) return false;
    return std::isnan(b.upper_bound) || a.upper_bound < b.upper_bound;
  });
  if (!(std::isinf(buckets.back().upper_bound) && buckets.back().upper_bound > 0)) {
    return std::nan("");
  }
  size_t n = 0;
  for (size_t i = 1; i < buckets.size(); ++i) {
    if (buckets[i].upper_bound == buckets[n].upper_bound) {
      buckets[n].count += buckets[i].count;
    } else {
      buckets[++n] = buckets[i];
    }
  }
  buckets.resize(n + 1);
  double max = -INFINITY;
  for (Bucket& b : buckets) {
    if (b.count > max) {
      max = b.count;
    } else if (b.count < max) {
      b.count = max;
    }
  }
  if (buckets.size() < 2) return std::nan("");
  double observations = buckets.back().count;
  if (observations == 0) return std::nan("");
  double rank = q * observations;
  // Go's sort.Search over all buckets but +Inf: the first whose count reaches the rank.
  size_t b = 0, hi = buckets.size() - 1;
  while (b < hi) {
    size_t mid = (b + hi) / 2;
    if (buckets[mid].count >= rank) {
      hi = mid;
    } else {
      b = mid + 1;
    }
  }
  if (b == buckets.size() - 1) return buckets[buckets.size() - 2].upper_bound;
  // The lowest bucket is interpolated from 0, unless its bound is not above 0.
  if (b == 0 && buckets[0].upper_bound <= 0) return buckets[0].upper_bound;
  double bucket_start = 0;
  double bucket_end = buckets[b].upper_bound;
  double count = buckets[b].count;
  if (b > 0) {
    bucket_start = buckets[b - 1].upper_bound;
    count -= buckets[b - 1].count;
    rank -= buckets[b - 1].count;
  }
  return bucket_start + (bucket_end - bucket_start) * (rank / count);
}

Labels WithoutLabel(const Labels& labels, std::string_view name) {
  Labels out;
  out.reserve(labels.size());
  for (const Label& l : labels) {
    if (l.name != name) out.push_back(l);
  }
  return out;
}

// Buckets are grouped by all their labels but `le` (__name__ included, as in 2.42); each
// group's result drops both.
Value HistogramQuantile(const FunctionCallContext& ctx, std::string*) {
  double q = ScalarArg(ctx, 0);
  struct Group {
    Labels labels;
    std::vector<Bucket> buckets;
  };
  std::vector<Group> groups;
  std::unordered_map<uint64_t, std::vector<size_t>> by_hash;
  for (const VectorElement& e : VectorArg(ctx, 1)) {
    double upper_bound = 0;
    if (!ParseGoFloat(GetLabel(e.metric, kBucketLabel), &upper_bound)) continue;
    Labels signature = WithoutLabel(e.metric, kBucketLabel);
    std::vector<size_t>& candidates = by_hash[HashLabels(signature)];
    Group* group = nullptr;
    for (size_t i : candidates) {
      if (groups[i].labels == signature) group = &groups[i];
    }
    if (group == nullptr) {
      candidates.push_back(groups.size());
      groups.push_back({std::move(signature), {}});
      group = &groups.back();
    }
    group->buckets.push_back({upper_bound, e.v});
  }
  Vector out;
  out.reserve(groups.size());
  for (Group& g : groups) {
    out.push_back({DropMetricName(g.labels), ctx.ts_ms, BucketQuantile(q, g.buckets)});
  }
  return out;
}

// histogram_count/sum/fraction read native histograms only and skip float samples; the
// collector stores no native histograms, so their result is always empty, as Prometheus's is
// over the same (float) data.
Value NativeHistogramOnly(const FunctionCallContext&, std::string*) { return Vector{}; }

}  // namespace

const FunctionImplEntry kHistogramFunctions[] = {
    {"histogram_quantile", HistogramQuantile},
    {"histogram_count", NativeHistogramOnly},
    {"histogram_sum", NativeHistogramOnly},
    {"histogram_fraction", NativeHistogramOnly},
    {"", nullptr},
};

}  // namespace crmscope::promql
