// Editing a sorted label set in place, with Prometheus's labels.Builder semantics: setting an
// empty value removes the label, since an empty label and an absent one are the same series.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

#include "common/labels.h"

namespace crmscope::agent {

inline void SetLabel(Labels& labels, std::string_view name, std::string_view value) {
  auto it = std::lower_bound(labels.begin(), labels.end(), name,
                             [](const Label& l, std::string_view n) { return l.name < n; });
  bool present = it != labels.end() && it->name == name;
  if (value.empty()) {
    if (present) labels.erase(it);
  } else if (present) {
    it->value.assign(value);
  } else {
    labels.insert(it, Label{std::string(name), std::string(value)});
  }
}

inline bool HasLabel(const Labels& labels, std::string_view name) {
  return std::any_of(labels.begin(), labels.end(), [&](const Label& l) { return l.name == name; });
}

}  // namespace crmscope::agent
