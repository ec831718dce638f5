// Quantile estimation shared by quantile_over_time (and usable by the quantile aggregation):
// Prometheus 2.42's quantile(), which interpolates linearly between the two closest ranks.
#pragma once

#include <vector>

namespace crmscope::promql {

// φ < 0 gives -Inf and φ > 1 +Inf, as in Prometheus; NaN φ or no values give NaN. Sorts
// `values` in place, NaNs first (where Prometheus's comparator puts them).
double Quantile(double q, std::vector<double>& values);

}  // namespace crmscope::promql
