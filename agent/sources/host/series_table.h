// The label sets of a table's rows (a CPU, a disk, an interface, a process), built the first time
// a row is seen and dropped once a collection no longer sees it, so a steady host costs no
// allocation per collection.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/labels.h"

namespace crmscope::agent::host {

// `base` plus __name__ and `extra`, sorted.
inline Labels SeriesLabels(const Labels& base, std::string_view family,
                           std::initializer_list<LabelView> extra = {}) {
  Labels labels = base;
  labels.push_back({std::string(kMetricNameLabel), std::string(family)});
  for (const LabelView& l : extra) labels.push_back({std::string(l.name), std::string(l.value)});
  SortLabels(labels);
  return labels;
}

class SeriesTable {
 public:
  struct Row {
    std::vector<Labels> series;
    std::vector<std::string> families;  // for rows whose family names are data (meminfo)
    bool skipped = false;               // excluded by a device or mount point filter
    uint64_t generation = 0;
  };

  void StartCollection() { ++generation_; }
  // The row for `key`, built by `build` when first seen. *seen_before tells a row already met in
  // this collection (a mount point listed twice).
  template <class Build>
  Row& Find(std::string_view key, Build&& build, bool* seen_before = nullptr) {
    auto it = rows_.find(key);
    if (it == rows_.end()) {
      it = rows_.emplace(std::string(key), Row{}).first;
      build(it->second);
    }
    if (seen_before) *seen_before = it->second.generation == generation_;
    it->second.generation = generation_;
    return it->second;
  }
  void DropUnseen() {
    std::erase_if(rows_, [&](const auto& row) { return row.second.generation != generation_; });
  }
  size_t size() const { return rows_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, Row, Hash, std::equal_to<>> rows_;
  uint64_t generation_ = 0;
};

}  // namespace crmscope::agent::host
