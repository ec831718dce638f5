#include "crm_demo/node/cache/lru_store.h"

#include <utility>

namespace crmscope::crm {

std::optional<std::string> LruStore::Get(int64_t id, CacheTimePoint now) {
  auto it = entries_.find(id);
  if (it == entries_.end()) {
    ++counters_.misses;
    return std::nullopt;
  }
  Entry& entry = it->second;
  if (now >= entry.expires_at) {
    recency_.Remove(&entry);
    entries_.erase(it);
    ++counters_.misses;
    return std::nullopt;
  }
  recency_.MoveToFront(&entry);
  ++counters_.hits;
  return entry.json;
}

void LruStore::Put(int64_t id, std::string json, CacheTimePoint expires_at) {
  if (auto it = entries_.find(id); it != entries_.end()) {
    it->second.json = std::move(json);
    it->second.expires_at = expires_at;
    recency_.MoveToFront(&it->second);
    return;
  }
  if (capacity_ == 0) return;
  if (entries_.size() >= capacity_) {
    // Reuse the victim's map node for the new entry: a full cache under a miss storm then
    // inserts without allocating a node per miss.
    Entry* victim = recency_.back();
    recency_.Remove(victim);
    auto node = entries_.extract(victim->id);
    ++counters_.evictions;
    node.key() = id;
    node.mapped().id = id;
    node.mapped().json = std::move(json);
    node.mapped().expires_at = expires_at;
    Entry& entry = entries_.insert(std::move(node)).position->second;
    recency_.PushFront(&entry);
    return;
  }
  Entry& entry = entries_[id];
  entry.id = id;
  entry.json = std::move(json);
  entry.expires_at = expires_at;
  recency_.PushFront(&entry);
}

void LruStore::Erase(int64_t id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  recency_.Remove(&it->second);
  entries_.erase(it);
}

void LruStore::SetCapacity(size_t entries) {
  capacity_ = entries;
  while (entries_.size() > capacity_) EvictLeastRecent();
}

void LruStore::EvictLeastRecent() {
  Entry* victim = recency_.back();
  recency_.Remove(victim);
  entries_.erase(victim->id);
  ++counters_.evictions;
}

}  // namespace crmscope::crm
