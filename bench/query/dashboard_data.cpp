// query_bench_data: writes the query benchmark's samples as OpenMetrics text, which
// `promtool tsdb create-blocks-from openmetrics` turns into Prometheus blocks and load_samples
// sends to the collector, so both hold the same samples.
//
// What a CRM service fleet's dashboards read: per instance and route,
//   http_requests_total{status="200"|"500"}            counters
//   http_request_duration_seconds_bucket{le}           a histogram of 10 buckets and +Inf,
//   http_request_duration_seconds_sum / _count         with its sum and count
//   http_requests_in_flight                            a gauge
// and per instance crm_instance_info{region, version} = 1, the usual target of a group_left join.
// 40 instances x 16 routes give 10,280 series. Values come from a fixed-seed generator, so a
// given shape always yields the same file. Samples are written scrape by scrape, in time order.
//
// usage: query_bench_data --out FILE [--instances N] [--routes N] [--steps N]
//                         [--interval-ms MS] [--start-ms MS]
// Prints series=N samples=N first_ms=N last_ms=N.
#include <algorithm>
#include <array>
#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

// Upper bounds in seconds: a web API's latencies, 5 ms to 5 s.
constexpr std::array<double, 10> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1,
                                             0.25,  0.5,  1,     2.5,  5};
constexpr std::array<std::string_view, 4> kRegions = {"eu-west", "eu-central", "us-east", "ap-south"};

struct Settings {
  int instances = 40;
  int routes = 16;
  int steps = 1440;              // 6 h at 15 s
  int64_t interval_ms = 15'000;
  int64_t start_ms = 1709272800000;  // 2024-03-01T06:00:00Z: 6 h blocks line up with the data
  std::string out;
};

// splitmix64: a tiny, well-mixed generator; the same seed gives the same file on every machine.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t state_;
};

// One instance x route: its series' text up to the value, and the state its counters carry.
struct RouteSeries {
  std::string ok_total, error_total, sum, count, in_flight;
  std::array<std::string, kBuckets.size() + 1> buckets;  // the last is le="+Inf"
  std::array<double, kBuckets.size() + 1> bucket_counts{};
  double ok = 0, errors = 0, latency_sum = 0, requests = 0;
  double requests_per_second = 1, median_latency = 0.05, error_ratio = 0.01;
};

std::string SeriesText(std::string_view name, std::string_view labels) {
  return std::string(name) + "{" + std::string(labels) + "}";
}

std::string FormatLe(double le) {
  char text[32];
  auto end = std::to_chars(text, text + sizeof text, le).ptr;
  return std::string(text, end);
}

std::vector<RouteSeries> BuildFleet(const Settings& s, Random* random) {
  std::vector<RouteSeries> fleet;
  for (int i = 0; i < s.instances; ++i) {
    for (int r = 0; r < s.routes; ++r) {
      const std::string labels = "instance=\"app-" + std::to_string(i) +
                                 ":8080\",job=\"crm\",route=\"/api/v1/resource" +
                                 std::to_string(r) + "\"";
      RouteSeries rs;
      rs.ok_total = SeriesText("http_requests_total", labels + ",status=\"200\"");
      rs.error_total = SeriesText("http_requests_total", labels + ",status=\"500\"");
      for (size_t b = 0; b < kBuckets.size(); ++b) {
        rs.buckets[b] = SeriesText("http_request_duration_seconds_bucket",
                                   labels + ",le=\"" + FormatLe(kBuckets[b]) + "\"");
      }
      rs.buckets.back() = SeriesText("http_request_duration_seconds_bucket", labels + ",le=\"+Inf\"");
      rs.sum = SeriesText("http_request_duration_seconds_sum", labels);
      rs.count = SeriesText("http_request_duration_seconds_count", labels);
      rs.in_flight = SeriesText("http_requests_in_flight", labels);
      // Routes differ by an order of magnitude in traffic and latency, as a CRM's do.
      rs.requests_per_second = 0.5 + 20 * random->Uniform() * random->Uniform();
      rs.median_latency = 0.01 + 0.3 * random->Uniform() * random->Uniform();
      rs.error_ratio = 0.001 + 0.02 * random->Uniform();
      fleet.push_back(std::move(rs));
    }
  }
  return fleet;
}

class LineWriter {
 public:
  explicit LineWriter(std::FILE* out) : out_(out) { buffer_.reserve(1 << 20); }
  ~LineWriter() { Flush(); }
  LineWriter(const LineWriter&) = delete;
  LineWriter& operator=(const LineWriter&) = delete;

  // `series value seconds.millis`, the value in the shortest text that round-trips.
  void Line(const std::string& series, double value, int64_t t_ms) {
    buffer_.append(series);
    char text[64];
    text[0] = ' ';
    auto end = std::to_chars(text + 1, text + sizeof text, value).ptr;
    buffer_.append(text, end);
    const int n = std::snprintf(text, sizeof text, " %" PRId64 ".%03" PRId64 "\n", t_ms / 1000,
                                t_ms % 1000);
    buffer_.append(text, static_cast<size_t>(n));
    ++lines_;
    if (buffer_.size() > (1 << 20)) Flush();
  }
  void Raw(std::string_view text) { buffer_.append(text); }
  bool Flush() {
    const bool ok = std::fwrite(buffer_.data(), 1, buffer_.size(), out_) == buffer_.size();
    buffer_.clear();
    ok_ = ok_ && ok;
    return ok_;
  }
  size_t lines() const { return lines_; }

 private:
  std::FILE* out_;
  std::string buffer_;
  size_t lines_ = 0;
  bool ok_ = true;
};

// One scrape interval of one instance x route: traffic, errors and where latencies fall.
void Advance(RouteSeries* rs, double interval_s, Random* random) {
  const double requests = std::floor(rs->requests_per_second * interval_s * (0.5 + random->Uniform()));
  const double errors = std::floor(requests * rs->error_ratio * 2 * random->Uniform() + 0.5);
  rs->ok += requests - errors;
  rs->errors += errors;
  // A log-uniform spread over [median/4, median*4]: the fraction under each bound, cumulative.
  const double jitter = 0.8 + 0.4 * random->Uniform();
  for (size_t b = 0; b < kBuckets.size(); ++b) {
    const double x = std::log(kBuckets[b] / (rs->median_latency * jitter)) / std::log(16.0) + 0.5;
    rs->bucket_counts[b] += std::floor(requests * std::clamp(x, 0.0, 1.0));
  }
  rs->bucket_counts.back() += requests;
  rs->latency_sum += requests * rs->median_latency * jitter * 1.2;
  rs->requests += requests;
}

void WriteScrape(std::vector<RouteSeries>& fleet, const Settings& s, int64_t t_ms,
                 Random* random, LineWriter* out) {
  for (RouteSeries& rs : fleet) {
    Advance(&rs, static_cast<double>(s.interval_ms) / 1000, random);
    out->Line(rs.ok_total, rs.ok, t_ms);
    out->Line(rs.error_total, rs.errors, t_ms);
    for (size_t b = 0; b < rs.buckets.size(); ++b) out->Line(rs.buckets[b], rs.bucket_counts[b], t_ms);
    out->Line(rs.sum, rs.latency_sum, t_ms);
    out->Line(rs.count, rs.requests, t_ms);
    out->Line(rs.in_flight, std::floor(20 * random->Uniform() * random->Uniform()), t_ms);
  }
  for (int i = 0; i < s.instances; ++i) {
    const std::string info = "crm_instance_info{instance=\"app-" + std::to_string(i) +
                             ":8080\",job=\"crm\",region=\"" +
                             std::string(kRegions[static_cast<size_t>(i) % kRegions.size()]) +
                             "\",version=\"1." + std::to_string(i % 3) + ".0\"}";
    out->Line(info, 1, t_ms);
  }
}

bool ParseSettings(int argc, char** argv, Settings* s) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--out") s->out = value;
    else if (flag == "--instances") s->instances = std::atoi(value);
    else if (flag == "--routes") s->routes = std::atoi(value);
    else if (flag == "--steps") s->steps = std::atoi(value);
    else if (flag == "--interval-ms") s->interval_ms = std::atoll(value);
    else if (flag == "--start-ms") s->start_ms = std::atoll(value);
    else return false;
  }
  return argc % 2 == 1 && !s->out.empty() && s->instances > 0 && s->routes > 0 && s->steps > 0 &&
         s->interval_ms > 0;
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  if (!ParseSettings(argc, argv, &s)) {
    std::fputs("usage: query_bench_data --out FILE [--instances N] [--routes N] [--steps N]\n"
               "                        [--interval-ms MS] [--start-ms MS]\n", stderr);
    return 2;
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(s.out.c_str(), "w"), &std::fclose);
  if (!file) {
    std::fprintf(stderr, "query_bench_data: cannot write %s\n", s.out.c_str());
    return 1;
  }
  Random random(20240301);
  std::vector<RouteSeries> fleet = BuildFleet(s, &random);
  bool ok = true;
  size_t lines = 0;
  {
    LineWriter out(file.get());
    for (int step = 0; step < s.steps; ++step) {
      WriteScrape(fleet, s, s.start_ms + step * s.interval_ms, &random, &out);
    }
    out.Raw("# EOF\n");
    ok = out.Flush();
    lines = out.lines();
  }
  ok = std::fclose(file.release()) == 0 && ok;
  if (!ok) {
    std::fprintf(stderr, "query_bench_data: writing %s failed\n", s.out.c_str());
    return 1;
  }
  const size_t series = lines / static_cast<size_t>(s.steps);
  std::printf("series=%zu samples=%zu first_ms=%" PRId64 " last_ms=%" PRId64 "\n", series, lines,
              s.start_ms, s.start_ms + (s.steps - 1) * s.interval_ms);
  return 0;
}
