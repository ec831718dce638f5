#include "collector/storage/series_index.h"

#include <algorithm>

#include "collector/storage/varint.h"

namespace crmscope::storage {

SymbolId SymbolTable::Intern(std::string_view s, bool* added) {
  auto it = ids_.find(s);
  if (it != ids_.end()) {
    *added = false;
    return it->second;
  }
  SymbolId id = static_cast<SymbolId>(strings_.size());
  strings_.emplace_back(s);
  ids_.emplace(strings_.back(), id);
  *added = true;
  return id;
}

bool SymbolTable::Find(std::string_view s, SymbolId* id) const {
  auto it = ids_.find(s);
  if (it == ids_.end()) return false;
  *id = it->second;
  return true;
}

bool SeriesIndex::Equal(SeriesRef ref, const LabelView* sorted, size_t n) const {
  const auto& pairs = series_[ref].pairs;
  if (pairs.size() != n) return false;
  for (size_t i = 0; i < n; ++i) {
    if (symbols_.Get(pairs[i].name) != sorted[i].name ||
        symbols_.Get(pairs[i].value) != sorted[i].value) {
      return false;
    }
  }
  return true;
}

SeriesRef SeriesIndex::Find(const LabelView* sorted, size_t n, uint64_t hash) const {
  auto [lo, hi] = by_hash_.equal_range(hash);
  for (auto it = lo; it != hi; ++it) {
    if (Equal(it->second, sorted, n)) return it->second;
  }
  return 0;
}

SeriesRef SeriesIndex::Add(const LabelView* sorted, size_t n, uint64_t hash,
                           std::vector<SymbolId>* new_symbols) {
  std::vector<SymbolPair> pairs(n);
  for (size_t i = 0; i < n; ++i) {
    bool added = false;
    pairs[i].name = symbols_.Intern(sorted[i].name, &added);
    if (added) new_symbols->push_back(pairs[i].name);
    pairs[i].value = symbols_.Intern(sorted[i].value, &added);
    if (added) new_symbols->push_back(pairs[i].value);
  }
  SeriesRef ref = std::max<SeriesRef>(series_.size(), 1);
  Insert(ref, std::move(pairs), hash, true);
  return ref;
}

void SeriesIndex::Restore(SeriesRef ref, std::vector<SymbolPair> pairs, bool with_postings) {
  std::vector<LabelView> views(pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) {
    views[i] = {symbols_.Get(pairs[i].name), symbols_.Get(pairs[i].value)};
  }
  uint64_t hash = HashLabels(views.data(), views.size());
  Insert(ref, std::move(pairs), hash, with_postings);
}

void SeriesIndex::Insert(SeriesRef ref, std::vector<SymbolPair> pairs, uint64_t hash, bool with_postings) {
  if (series_.size() <= ref) series_.resize(ref + 1);
  Entry& e = series_[ref];
  e.pairs = std::move(pairs);
  e.alive = true;
  e.hash = hash;
  by_hash_.emplace(hash, ref);
  ++live_;
  if (with_postings) AddPostings(ref);
}

void SeriesIndex::AddPostings(SeriesRef ref) {
  for (const SymbolPair& p : series_[ref].pairs) {
    uint64_t key = PostingKey(p.name, p.value);
    dirty_postings_.insert(key);
    auto& list = postings_[key];
    if (list.empty()) values_[p.name].push_back(p.value);
    // Refs usually arrive in ascending order; start-up restores may not.
    if (list.empty() || list.back() < ref) {
      list.push_back(ref);
    } else {
      list.insert(std::lower_bound(list.begin(), list.end(), ref), ref);
    }
  }
}

void SeriesIndex::Remove(SeriesRef ref) {
  if (!Contains(ref)) return;
  Entry& e = series_[ref];
  for (const SymbolPair& p : e.pairs) {
    auto it = postings_.find(PostingKey(p.name, p.value));
    if (it == postings_.end()) continue;
    dirty_postings_.insert(it->first);
    auto& list = it->second;
    auto pos = std::lower_bound(list.begin(), list.end(), ref);
    if (pos != list.end() && *pos == ref) list.erase(pos);
    if (list.empty()) {
      postings_.erase(it);
      auto& vals = values_[p.name];
      vals.erase(std::remove(vals.begin(), vals.end(), p.value), vals.end());
      if (vals.empty()) values_.erase(p.name);
    }
  }
  auto [lo, hi] = by_hash_.equal_range(e.hash);
  for (auto it = lo; it != hi; ++it) {
    if (it->second == ref) { by_hash_.erase(it); break; }
  }
  e = Entry{};
  --live_;
}

bool SeriesIndex::LoadPostings(SymbolId name, SymbolId value, std::string_view in) {
  std::vector<SeriesRef> list;
  SeriesRef ref = 0;
  while (!in.empty()) {
    uint64_t delta;
    if (!GetUvarint(in, &delta)) return false;
    ref += delta;
    list.push_back(ref);
  }
  if (list.empty()) return true;
  values_[name].push_back(value);
  postings_[PostingKey(name, value)] = std::move(list);
  return true;
}

void SeriesIndex::PrunePostings() {
  for (auto it = postings_.begin(); it != postings_.end();) {
    auto& list = it->second;
    size_t before = list.size();
    std::erase_if(list, [this](SeriesRef r) { return !Contains(r); });
    if (list.size() != before) dirty_postings_.insert(it->first);
    if (list.empty()) {
      SymbolId name = static_cast<SymbolId>(it->first >> 32), value = static_cast<SymbolId>(it->first);
      auto& vals = values_[name];
      vals.erase(std::remove(vals.begin(), vals.end(), value), vals.end());
      if (vals.empty()) values_.erase(name);
      it = postings_.erase(it);
    } else {
      ++it;
    }
  }
}

std::vector<std::tuple<SymbolId, SymbolId, std::string>> SeriesIndex::TakeDirtyPostings() {
  std::vector<std::tuple<SymbolId, SymbolId, std::string>> out;
  out.reserve(dirty_postings_.size());
  for (uint64_t key : dirty_postings_) {
    std::string encoded;
    if (const auto* list = Postings(static_cast<SymbolId>(key >> 32), static_cast<SymbolId>(key))) {
      SeriesRef prev = 0;
      for (SeriesRef r : *list) {
        PutUvarint(encoded, r - prev);
        prev = r;
      }
    }
    out.emplace_back(static_cast<SymbolId>(key >> 32), static_cast<SymbolId>(key), std::move(encoded));
  }
  dirty_postings_.clear();
  return out;
}

Labels SeriesIndex::GetLabels(SeriesRef ref) const {
  Labels out;
  out.reserve(series_[ref].pairs.size());
  for (const SymbolPair& p : series_[ref].pairs) {
    out.push_back({std::string(symbols_.Get(p.name)), std::string(symbols_.Get(p.value))});
  }
  return out;
}

const std::vector<SeriesRef>* SeriesIndex::Postings(SymbolId name, SymbolId value) const {
  auto it = postings_.find(PostingKey(name, value));
  return it == postings_.end() ? nullptr : &it->second;
}

namespace {

std::vector<SeriesRef> Intersect(const std::vector<SeriesRef>& a, const std::vector<SeriesRef>& b) {
  std::vector<SeriesRef> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

std::vector<SeriesRef> Subtract(const std::vector<SeriesRef>& a, const std::vector<SeriesRef>& b) {
  std::vector<SeriesRef> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

std::vector<SeriesRef> Merge(std::vector<const std::vector<SeriesRef>*> lists) {
  std::vector<SeriesRef> out;
  if (lists.size() == 1) return *lists[0];
  size_t total = 0;
  for (auto* l : lists) total += l->size();
  out.reserve(total);
  for (auto* l : lists) out.insert(out.end(), l->begin(), l->end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

template <typename Pred>
std::vector<SeriesRef> SeriesIndex::UnionOfValues(SymbolId name, Pred keep) const {
  std::vector<const std::vector<SeriesRef>*> lists;
  auto it = values_.find(name);
  if (it == values_.end()) return {};
  for (SymbolId v : it->second) {
    if (keep(symbols_.Get(v))) {
      if (const auto* p = Postings(name, v)) lists.push_back(p);
    }
  }
  if (lists.empty()) return {};
  return Merge(std::move(lists));
}

std::vector<SeriesRef> SeriesIndex::AllSeries() const {
  std::vector<SeriesRef> out;
  out.reserve(live_);
  for (SeriesRef r = 1; r < series_.size(); ++r) {
    if (series_[r].alive) out.push_back(r);
  }
  return out;
}

// The series a matcher that does not match "" selects: those whose label value it matches.
std::vector<SeriesRef> SeriesIndex::PostingsFor(const LabelMatcher& m) const {
  SymbolId name;
  if (!symbols_.Find(m.name(), &name)) return {};
  if (m.type() == LabelMatcher::Type::kEqual ||
      (m.type() == LabelMatcher::Type::kRegexMatch && !m.SetMatches().empty())) {
    std::vector<const std::vector<SeriesRef>*> lists;
    auto add = [&](const std::string& v) {
      SymbolId value;
      if (!symbols_.Find(v, &value)) return;
      if (const auto* p = Postings(name, value)) lists.push_back(p);
    };
    if (m.type() == LabelMatcher::Type::kEqual) {
      add(m.value());
    } else {
      for (const std::string& v : m.SetMatches()) add(v);
    }
    if (lists.empty()) return {};
    return Merge(std::move(lists));
  }
  return UnionOfValues(name, [&m](std::string_view v) { return m.Matches(v); });
}

std::vector<SeriesRef> SeriesIndex::Select(const Matchers& matchers) const {
  // As Prometheus's PostingsForMatchers: intersect what the matchers that reject "" select, then
  // subtract, for each matcher that accepts "", the series whose value it rejects.
  std::vector<const LabelMatcher*> narrowing, widening;
  for (const auto& m : matchers) (m->MatchesEmpty() ? widening : narrowing).push_back(m.get());
  // Cheap equality matchers first: they shrink the set before any regex runs.
  std::stable_sort(narrowing.begin(), narrowing.end(), [](const LabelMatcher* a, const LabelMatcher* b) {
    return a->type() == LabelMatcher::Type::kEqual && b->type() != LabelMatcher::Type::kEqual;
  });
  std::vector<SeriesRef> result;
  bool first = true;
  for (const LabelMatcher* m : narrowing) {
    std::vector<SeriesRef> p = PostingsFor(*m);
    result = first ? std::move(p) : Intersect(result, p);
    first = false;
    if (result.empty()) return result;
  }
  if (first) result = AllSeries();
  for (const LabelMatcher* m : widening) {
    SymbolId name;
    if (!symbols_.Find(m->name(), &name)) continue;  // absent everywhere: "" matches, keep all
    // When few series remain, testing them directly beats walking every value of the label.
    if (result.size() < 64) {
      std::vector<SeriesRef> kept;
      for (SeriesRef r : result) {
        std::string_view v;
        for (const SymbolPair& p : series_[r].pairs) {
          if (p.name == name) { v = symbols_.Get(p.value); break; }
        }
        if (m->Matches(v)) kept.push_back(r);
      }
      result = std::move(kept);
    } else {
      result = Subtract(result, UnionOfValues(name, [m](std::string_view v) { return !m->Matches(v); }));
    }
    if (result.empty()) break;
  }
  return result;
}

std::vector<std::string> SeriesIndex::LabelNames(const std::vector<SeriesRef>& refs) const {
  std::vector<SymbolId> ids;
  for (SeriesRef r : refs) {
    for (const SymbolPair& p : series_[r].pairs) ids.push_back(p.name);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<std::string> out;
  for (SymbolId id : ids) out.emplace_back(symbols_.Get(id));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> SeriesIndex::LabelValues(std::string_view name,
                                                  const std::vector<SeriesRef>& refs) const {
  SymbolId name_id;
  if (!symbols_.Find(name, &name_id)) return {};
  std::vector<SymbolId> ids;
  for (SeriesRef r : refs) {
    for (const SymbolPair& p : series_[r].pairs) {
      if (p.name == name_id) ids.push_back(p.value);
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<std::string> out;
  for (SymbolId id : ids) out.emplace_back(symbols_.Get(id));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> SeriesIndex::AllLabelValues(std::string_view name) const {
  SymbolId name_id;
  std::vector<std::string> out;
  if (!symbols_.Find(name, &name_id)) return out;
  auto it = values_.find(name_id);
  if (it == values_.end()) return out;
  for (SymbolId v : it->second) out.emplace_back(symbols_.Get(v));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> SeriesIndex::AllLabelNames() const {
  std::vector<std::string> out;
  for (const auto& [name, vals] : values_) out.emplace_back(symbols_.Get(name));
  std::sort(out.begin(), out.end());
  return out;
}

bool SeriesIndex::LabelsLess(SeriesRef a, SeriesRef b) const {
  const auto& pa = series_[a].pairs;
  const auto& pb = series_[b].pairs;
  size_t n = std::min(pa.size(), pb.size());
  for (size_t i = 0; i < n; ++i) {
    if (pa[i].name != pb[i].name) return symbols_.Get(pa[i].name) < symbols_.Get(pb[i].name);
    if (pa[i].value != pb[i].value) return symbols_.Get(pa[i].value) < symbols_.Get(pb[i].value);
  }
  return pa.size() < pb.size();
}

}  // namespace crmscope::storage
