// Measures what decoding a remote-write request costs per sample, and where the time goes:
// snappy, protobuf parsing (into a reused message, as Decode does, and into a per-request arena,
// the alternative), and building the label views; and, for comparison, a hand-written wire walker
// that makes views straight into the uncompressed bytes. The request imitates one Prometheus shard
// batch: 2000 series of a CRM application with 10 labels each and one sample per series.
//
//   decode_bench [iterations] [samples_per_series]
#include <snappy.h>

#include <bit>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "exporters/remote_write/codec.h"
#include "exporters/remote_write/prometheus_remote.pb.h"

namespace rw = crmscope::remote_write;

namespace {

constexpr int kSeries = 2000;
constexpr size_t kLimit = 32 << 20;

rw::WriteRequest RealisticRequest(int samples_per_series) {
  const char* names[] = {"crm_http_requests_total", "crm_http_request_duration_seconds_bucket",
                         "crm_db_query_duration_seconds_sum", "crm_active_sessions",
                         "process_resident_memory_bytes"};
  const char* handlers[] = {"/api/v1/contacts/{id}", "/api/v1/accounts", "/api/v1/opportunities",
                            "/login", "/api/v1/search"};
  const char* les[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"};
  rw::WriteRequest request;
  for (int i = 0; i < kSeries; ++i) {
    rw::TimeSeries series;
    series.labels = {
        {"__name__", names[i % 5]},
        {"env", "production"},
        {"handler", handlers[(i / 5) % 5]},
        {"instance", "10.20." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":9100"},
        {"job", "crm-backend"},
        {"le", les[i % 10]},
        {"method", (i % 3) ? "GET" : "POST"},
        {"region", "eu-central-1"},
        {"status", (i % 17) ? "200" : "503"},
        {"tenant", "tenant-" + std::to_string(i % 40)},
    };
    for (int s = 0; s < samples_per_series; ++s) {
      series.samples.push_back({1700000000000LL + s * 15000, i * 1.5 + s});
    }
    request.series.push_back(std::move(series));
  }
  return request;
}

// Not used by crmscope: a minimal hand-written wire walker producing the same views straight into
// the uncompressed bytes (no string copies), only to show what libprotobuf costs against it.
// Skips metadata and exemplars; checks bounds but is not a full validator.
class WireReader {
 public:
  WireReader(const char* p, const char* end) : p_(p), end_(end) {}
  bool Done() const { return p_ >= end_; }
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64 && p_ < end_; shift += 7) {
      uint8_t byte = static_cast<uint8_t>(*p_++);
      *v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return true;
    }
    return false;
  }
  bool Bytes(std::string_view* out) {
    uint64_t n;
    if (!Varint(&n) || n > static_cast<uint64_t>(end_ - p_)) return false;
    *out = std::string_view(p_, n);
    p_ += n;
    return true;
  }
  bool Fixed64(uint64_t* v) {
    if (end_ - p_ < 8) return false;
    std::memcpy(v, p_, 8);
    p_ += 8;
    return true;
  }
  bool Skip(int wire_type) {
    uint64_t v;
    std::string_view s;
    switch (wire_type) {
      case 0: return Varint(&v);
      case 1: return Fixed64(&v);
      case 2: return Bytes(&s);
      case 5: if (end_ - p_ < 4) return false; p_ += 4; return true;
      default: return false;
    }
  }

 private:
  const char* p_;
  const char* end_;
};

constexpr uint64_t kKeyLen1 = 1 << 3 | 2, kKeyLen2 = 2 << 3 | 2;  // field 1 or 2, wire type 2

bool WalkLabel(std::string_view bytes, crmscope::LabelView* label) {
  WireReader r(bytes.data(), bytes.data() + bytes.size());
  uint64_t key;
  while (!r.Done()) {
    if (!r.Varint(&key)) return false;
    bool ok = key == kKeyLen1   ? r.Bytes(&label->name)
              : key == kKeyLen2 ? r.Bytes(&label->value)
                                : r.Skip(static_cast<int>(key & 7));
    if (!ok) return false;
  }
  return true;
}

bool WalkSample(std::string_view bytes, crmscope::Sample* sample) {
  WireReader r(bytes.data(), bytes.data() + bytes.size());
  uint64_t key, v;
  while (!r.Done()) {
    if (!r.Varint(&key)) return false;
    if (key == (1 << 3 | 1)) {
      if (!r.Fixed64(&v)) return false;
      sample->v = std::bit_cast<double>(v);
    } else if (key == (2 << 3 | 0)) {
      if (!r.Varint(&v)) return false;
      sample->t = static_cast<int64_t>(v);
    } else if (!r.Skip(static_cast<int>(key & 7))) {
      return false;
    }
  }
  return true;
}

bool WalkSeries(std::string_view bytes, std::vector<crmscope::LabelView>& labels,
                std::vector<crmscope::Sample>& samples) {
  WireReader r(bytes.data(), bytes.data() + bytes.size());
  uint64_t key;
  std::string_view field;
  while (!r.Done()) {
    if (!r.Varint(&key)) return false;
    if (key == kKeyLen1) {
      if (!r.Bytes(&field) || !WalkLabel(field, &labels.emplace_back())) return false;
    } else if (key == kKeyLen2) {
      if (!r.Bytes(&field) || !WalkSample(field, &samples.emplace_back())) return false;
    } else if (!r.Skip(static_cast<int>(key & 7))) {
      return false;
    }
  }
  return true;
}

bool WalkRequest(std::string_view raw, std::vector<rw::DecodedRequest::Series>& series,
                 std::vector<crmscope::LabelView>& labels, std::vector<crmscope::Sample>& samples) {
  series.clear();
  labels.clear();
  samples.clear();
  WireReader r(raw.data(), raw.data() + raw.size());
  while (!r.Done()) {
    uint64_t key;
    std::string_view ts;
    if (!r.Varint(&key)) return false;
    if (key != kKeyLen1) {
      if (!r.Skip(static_cast<int>(key & 7))) return false;
      continue;
    }
    if (!r.Bytes(&ts)) return false;
    auto& out = series.emplace_back();
    out.label_begin = static_cast<uint32_t>(labels.size());
    out.sample_begin = static_cast<uint32_t>(samples.size());
    if (!WalkSeries(ts, labels, samples)) return false;
    out.label_end = static_cast<uint32_t>(labels.size());
    out.sample_end = static_cast<uint32_t>(samples.size());
  }
  return true;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

template <typename Fn>
double TimePerIteration(int iterations, Fn&& fn) {
  for (int i = 0; i < iterations / 10 + 1; ++i) fn();  // warm caches and reused buffers
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) fn();
  return SecondsSince(start) / iterations;
}

void Report(const char* what, double seconds, size_t samples) {
  std::printf("%-38s %9.1f us/request %8.1f ns/sample %8.2f M samples/s\n", what, seconds * 1e6,
              seconds * 1e9 / samples, samples / seconds / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = argc > 1 ? std::atoi(argv[1]) : 2000;
  int samples_per_series = argc > 2 ? std::atoi(argv[2]) : 1;
  if (iterations <= 0 || samples_per_series <= 0) {
    std::fprintf(stderr, "usage: %s [iterations>0] [samples_per_series>0]\n", argv[0]);
    return 2;
  }
  const std::string body = rw::Encode(RealisticRequest(samples_per_series));
  const size_t samples = static_cast<size_t>(kSeries) * samples_per_series;

  rw::DecodedRequest decoded;
  std::string error;
  if (!rw::Decode(body, kLimit, &decoded, &error) || decoded.samples().size() != samples) {
    std::fprintf(stderr, "decode failed: %s\n", error.c_str());
    return 1;
  }
  const size_t raw_size = decoded.uncompressed_bytes();
  std::printf("request: %d series, %zu samples, %zu labels, %zu bytes snappy, %zu bytes raw\n",
              kSeries, samples, decoded.labels().size(), body.size(), raw_size);

  double sink = 0;
  double full = TimePerIteration(iterations, [&] {
    if (!rw::Decode(body, kLimit, &decoded, &error)) std::abort();
    sink += decoded.samples().back().v + static_cast<double>(decoded.labels().back().value.size());
  });

  std::string raw(raw_size, '\0');
  double snappy_only = TimePerIteration(iterations, [&] {
    if (!snappy::RawUncompress(body.data(), body.size(), raw.data())) std::abort();
  });

  prometheus::WriteRequest reused;
  double parse_reused = TimePerIteration(iterations, [&] {
    if (!reused.ParseFromArray(raw.data(), static_cast<int>(raw.size()))) std::abort();
    sink += reused.timeseries_size();
  });

  google::protobuf::Arena arena;
  double parse_arena = TimePerIteration(iterations, [&] {
    arena.Reset();
    auto* message = google::protobuf::Arena::CreateMessage<prometheus::WriteRequest>(&arena);
    if (!message->ParseFromArray(raw.data(), static_cast<int>(raw.size()))) std::abort();
    sink += message->timeseries_size();
  });

  prometheus::WriteRequest fresh_source;
  double parse_fresh = TimePerIteration(iterations, [&] {
    prometheus::WriteRequest message;
    if (!message.ParseFromArray(raw.data(), static_cast<int>(raw.size()))) std::abort();
    sink += message.timeseries_size();
  });

  std::vector<rw::DecodedRequest::Series> walk_series;
  std::vector<crmscope::LabelView> walk_labels;
  std::vector<crmscope::Sample> walk_samples;
  double walk = TimePerIteration(iterations, [&] {
    if (!WalkRequest(raw, walk_series, walk_labels, walk_samples)) std::abort();
    sink += walk_samples.back().v + static_cast<double>(walk_labels.back().value.size());
  });
  if (walk_labels.size() != decoded.labels().size() || walk_samples.size() != samples) std::abort();

  rw::WriteRequest owning = RealisticRequest(samples_per_series);
  double encode = TimePerIteration(iterations / 4 + 1, [&] { sink += rw::Encode(owning).size(); });

  Report("Decode (snappy + parse + views)", full, samples);
  Report("  snappy::RawUncompress", snappy_only, samples);
  Report("  parse, reused message (Decode's way)", parse_reused, samples);
  Report("  views (remainder)", full - snappy_only - parse_reused, samples);
  Report("parse, arena reset per request", parse_arena, samples);
  Report("parse, new heap message per request", parse_fresh, samples);
  Report("hand-written wire walk + views", walk, samples);
  Report("Encode (build + serialize + snappy)", encode, samples);
  std::printf("(checksum %.1f)\n", sink);
  return 0;
}
