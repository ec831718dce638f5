// A chunk holds a run of one series' samples, compressed. Chunks are immutable once cut from the
// head and stored as SQLite BLOBs keyed by (series, first timestamp); the encoding byte stored
// beside each lets a new encoding be added as a new file without touching old data.
#pragma once

#include <cstdint>

namespace crmscope::storage {

enum class ChunkEncoding : uint8_t {
  kXor = 1,  // Gorilla: delta-of-delta timestamps, XOR'd float values (xor_chunk.h)
};

// Prometheus cuts a head chunk at 120 samples: past that the compression gain flattens while
// decoding cost for a query that needs one sample keeps growing.
inline constexpr int kSamplesPerChunk = 120;

}  // namespace crmscope::storage
