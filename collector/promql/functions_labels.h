// Label derivation shared by absent() and absent_over_time().
#pragma once

#include "collector/promql/ast.h"
#include "common/labels.h"

namespace crmscope::promql {

// The labels absent() gives its result, as Prometheus 2.42's createLabelsForAbsentFunction: the
// equality matchers of the argument's selector (parentheses looked through), except __name__;
// a label named by a second matcher, or by any other kind of matcher, is left out. Anything but
// a selector yields no labels.
Labels LabelsForAbsent(const Expr* arg);

}  // namespace crmscope::promql
