#include "collector/storage/wal_record.h"

#include <bit>

#include "collector/storage/varint.h"

namespace crmscope::storage {

void WalRecordBuilder::Add(SeriesRef ref, TimestampMs t, double v) {
  if (ref != ref_) {
    FlushSeries();
    ref_ = ref;
  }
  pending_.push_back({t, v});
}

void WalRecordBuilder::FlushSeries() {
  if (pending_.empty()) return;
  PutUvarint(out_, ref_);
  PutUvarint(out_, pending_.size());
  TimestampMs prev = 0;
  for (const Sample& s : pending_) {
    PutVarint(out_, s.t - prev);
    prev = s.t;
    PutFixed64(out_, std::bit_cast<uint64_t>(s.v));
  }
  pending_.clear();
}

std::string WalRecordBuilder::Finish() {
  FlushSeries();
  ref_ = 0;
  std::string record;
  record.swap(out_);
  return record;
}

bool ForEachWalSample(std::string_view in, const std::function<void(SeriesRef, Sample)>& fn) {
  while (!in.empty()) {
    uint64_t ref, n;
    if (!GetUvarint(in, &ref) || !GetUvarint(in, &n)) return false;
    TimestampMs t = 0;
    for (uint64_t i = 0; i < n; ++i) {
      int64_t delta;
      uint64_t bits;
      if (!GetVarint(in, &delta) || !GetFixed64(in, &bits)) return false;
      t += delta;
      fn(ref, {t, std::bit_cast<double>(bits)});
    }
  }
  return true;
}

}  // namespace crmscope::storage
