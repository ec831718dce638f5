#include "crm_demo/node/cache/lfu_store.h"

#include <iterator>
#include <utility>

namespace crmscope::crm {

std::optional<std::string> LfuStore::Get(int64_t id, CacheTimePoint now) {
  auto it = entries_.find(id);
  if (it == entries_.end()) {
    ++counters_.misses;
    return std::nullopt;
  }
  Entry& entry = it->second;
  if (now >= entry.expires_at) {
    Unlink(&entry);
    entries_.erase(it);
    ++counters_.misses;
    return std::nullopt;
  }
  CountUse(&entry);
  ++counters_.hits;
  return entry.json;
}

void LfuStore::Put(int64_t id, std::string json, CacheTimePoint expires_at) {
  if (auto it = entries_.find(id); it != entries_.end()) {
    it->second.json = std::move(json);
    it->second.expires_at = expires_at;
    CountUse(&it->second);
    return;
  }
  if (capacity_ == 0) return;
  while (entries_.size() >= capacity_) EvictOne();
  BucketIt first = buckets_.begin();
  if (first == buckets_.end() || first->uses != 1) first = NewBucketBefore(first, 1);
  Entry& entry = entries_[id];
  entry.id = id;
  entry.json = std::move(json);
  entry.expires_at = expires_at;
  entry.bucket = first;
  first->entries.PushFront(&entry);
}

void LfuStore::Erase(int64_t id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  Unlink(&it->second);
  entries_.erase(it);
}

void LfuStore::SetCapacity(size_t entries) {
  capacity_ = entries;
  while (entries_.size() > capacity_) EvictOne();
}

void LfuStore::CountUse(Entry* entry) {
  BucketIt current = entry->bucket;
  BucketIt next = std::next(current);
  if (next == buckets_.end() || next->uses != current->uses + 1) {
    next = NewBucketBefore(next, current->uses + 1);
  }
  current->entries.Remove(entry);
  next->entries.PushFront(entry);
  entry->bucket = next;
  if (current->entries.empty()) RecycleBucket(current);
}

void LfuStore::Unlink(Entry* entry) {
  BucketIt bucket = entry->bucket;
  bucket->entries.Remove(entry);
  if (bucket->entries.empty()) RecycleBucket(bucket);
}

void LfuStore::EvictOne() {
  Entry* victim = buckets_.front().entries.back();
  int64_t id = victim->id;
  Unlink(victim);
  entries_.erase(id);
  ++counters_.evictions;
}

LfuStore::BucketIt LfuStore::NewBucketBefore(BucketIt position, uint64_t uses) {
  if (spare_buckets_.empty()) return buckets_.insert(position, Bucket{uses, {}});
  buckets_.splice(position, spare_buckets_, spare_buckets_.begin());
  BucketIt bucket = std::prev(position);
  bucket->uses = uses;
  return bucket;
}

void LfuStore::RecycleBucket(BucketIt bucket) {
  spare_buckets_.splice(spare_buckets_.begin(), buckets_, bucket);
}

}  // namespace crmscope::crm
