// The inverted index of series: label strings interned once into a symbol table, each series a
// short list of (name, value) symbol pairs, and for every (name, value) the sorted list of series
// holding it ("postings"), as Prometheus's head index. The durable copy lives in SQLite (tables
// symbols, series, postings); this in-memory form answers every lookup. Not thread-safe: the
// storage guards it with its lock.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/label_matcher.h"
#include "common/labels.h"

namespace crmscope::storage {

using SeriesRef = uint64_t;
using SymbolId = uint32_t;

struct SymbolPair {
  SymbolId name;
  SymbolId value;
};

class SymbolTable {
 public:
  // Returns the id of s, adding it (with *added = true) when new. Ids are dense from 0.
  SymbolId Intern(std::string_view s, bool* added);
  bool Find(std::string_view s, SymbolId* id) const;
  std::string_view Get(SymbolId id) const { return strings_[id]; }
  size_t size() const { return strings_.size(); }

 private:
  std::deque<std::string> strings_;  // a deque never moves its elements: views stay valid
  std::unordered_map<std::string_view, SymbolId> ids_;
};

class SeriesIndex {
 public:
  // The series with exactly these labels (sorted by name), or 0.
  SeriesRef Find(const LabelView* sorted, size_t n, uint64_t hash) const;
  // Adds a series under a new ref (one above the highest so far). Symbols it had to add are
  // appended to *new_symbols so the caller can persist them.
  SeriesRef Add(const LabelView* sorted, size_t n, uint64_t hash, std::vector<SymbolId>* new_symbols);
  // Re-adds a persisted series at start-up; with_postings false when the persisted postings
  // (LoadPostings) already list it.
  void Restore(SeriesRef ref, std::vector<SymbolPair> pairs, bool with_postings = true);
  // Persisted form of the inverted index: per (name, value), the series refs as ascending
  // delta-varints. LoadPostings reads one list at start-up; after every list and series is loaded,
  // PrunePostings drops refs of series that no longer exist.
  bool LoadPostings(SymbolId name, SymbolId value, std::string_view encoded);
  void PrunePostings();
  // The lists changed since the last call, encoded (an empty string: the list is gone).
  std::vector<std::tuple<SymbolId, SymbolId, std::string>> TakeDirtyPostings();
  void Remove(SeriesRef ref);

  bool Contains(SeriesRef ref) const { return ref < series_.size() && series_[ref].alive; }
  const std::vector<SymbolPair>& Pairs(SeriesRef ref) const { return series_[ref].pairs; }
  Labels GetLabels(SeriesRef ref) const;
  size_t size() const { return live_; }
  SeriesRef max_ref() const { return series_.empty() ? 0 : series_.size() - 1; }

  // Refs of the series matching every matcher, ascending. Equality and set matchers narrow by
  // their postings first; regexes test each distinct value of the label once, never each series.
  std::vector<SeriesRef> Select(const Matchers& matchers) const;
  // Sorted distinct names / values over the given series.
  std::vector<std::string> LabelNames(const std::vector<SeriesRef>& refs) const;
  std::vector<std::string> LabelValues(std::string_view name, const std::vector<SeriesRef>& refs) const;
  // All distinct values a label name has across live series (sorted); no series lists needed.
  std::vector<std::string> AllLabelValues(std::string_view name) const;
  std::vector<std::string> AllLabelNames() const;

  SymbolTable& symbols() { return symbols_; }
  const SymbolTable& symbols() const { return symbols_; }

  // Strict weak order of two series by their label sets, as Prometheus's labels.Compare.
  bool LabelsLess(SeriesRef a, SeriesRef b) const;

 private:
  struct Entry {
    std::vector<SymbolPair> pairs;
    uint64_t hash = 0;
    bool alive = false;
  };
  static uint64_t PostingKey(SymbolId name, SymbolId value) {
    return (static_cast<uint64_t>(name) << 32) | value;
  }
  void Insert(SeriesRef ref, std::vector<SymbolPair> pairs, uint64_t hash, bool with_postings);
  void AddPostings(SeriesRef ref);
  const std::vector<SeriesRef>* Postings(SymbolId name, SymbolId value) const;
  // Union of the postings of every value of `name` that `keep(value)` accepts.
  template <typename Pred>
  std::vector<SeriesRef> UnionOfValues(SymbolId name, Pred keep) const;
  std::vector<SeriesRef> AllSeries() const;
  std::vector<SeriesRef> PostingsFor(const LabelMatcher& m) const;
  bool Equal(SeriesRef ref, const LabelView* sorted, size_t n) const;

  SymbolTable symbols_;
  std::vector<Entry> series_;  // indexed by ref; ref 0 is never used
  size_t live_ = 0;
  std::unordered_multimap<uint64_t, SeriesRef> by_hash_;
  std::unordered_map<uint64_t, std::vector<SeriesRef>> postings_;  // each sorted ascending
  std::unordered_map<SymbolId, std::vector<SymbolId>> values_;     // name -> its values
  std::unordered_set<uint64_t> dirty_postings_;                    // changed since last persisted
};

}  // namespace crmscope::storage
