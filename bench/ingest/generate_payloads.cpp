// ingest_payload_gen: writes the remote-write requests of the ingest benchmark once, into
//   OUT/payloads.bin   the encoded requests (see payload_file.h)
//   OUT/payloads.info  key=value: series, steps, interval_ms, requests, samples, first_ms, last_ms
//   OUT/samples.om     with --openmetrics: the same samples as OpenMetrics text, for
//                      `promtool tsdb create-blocks-from openmetrics`
//
// Each request carries one scrape (one timestamp step) of a slice of consecutive series, as a
// remote-write shard batches whole scrapes; --series-per-request sets the slice (Prometheus's
// max_samples_per_send defaults to 500; 2000 keeps the request count manageable, and both servers
// get the same requests). The last scrape ends at --end-ms (default: now).
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench/ingest/crm_series.h"
#include "bench/ingest/payload_file.h"
#include "exporters/remote_write/codec.h"

namespace {

using crmscope::Labels;
using crmscope::Sample;
using crmscope::TimestampMs;
using crmscope::bench::CrmFleet;
using crmscope::bench::Payload;

struct Settings {
  size_t series = 10'000;
  int steps = 360;
  int64_t interval_ms = 15'000;
  size_t series_per_request = 2'000;
  TimestampMs end_ms = 0;
  std::string out_dir;
  bool openmetrics = false;
};

const char kUsage[] =
    "usage: ingest_payload_gen --out DIR [--series N] [--steps N] [--interval-ms MS]\n"
    "                          [--series-per-request N] [--end-ms MS] [--openmetrics]\n";

bool ParseSettings(int argc, char** argv, Settings* s) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--openmetrics") {
      s->openmetrics = true;
      continue;
    }
    if (i + 1 >= argc) return false;
    const char* value = argv[++i];
    if (flag == "--out") s->out_dir = value;
    else if (flag == "--series") s->series = std::strtoull(value, nullptr, 10);
    else if (flag == "--steps") s->steps = std::atoi(value);
    else if (flag == "--interval-ms") s->interval_ms = std::atoll(value);
    else if (flag == "--series-per-request") s->series_per_request = std::strtoull(value, nullptr, 10);
    else if (flag == "--end-ms") s->end_ms = std::atoll(value);
    else return false;
  }
  if (s->end_ms == 0) {
    s->end_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  }
  return !s->out_dir.empty() && s->series > 0 && s->steps > 0 && s->interval_ms > 10 &&
         s->series_per_request > 0;
}

void AppendEscaped(std::string* out, std::string_view value) {
  for (char c : value) {
    if (c == '\\' || c == '"') out->push_back('\\');
    if (c == '\n') {
      out->append("\\n");
      continue;
    }
    out->push_back(c);
  }
}

// name{a="b",...} value timestamp-in-seconds, with the shortest text that round-trips the double,
// so that the blocks promtool builds hold exactly the values sent over remote write.
void AppendOpenMetricsLine(std::string* out, const Labels& labels, const Sample& sample) {
  out->append(crmscope::MetricName(labels));
  char open = '{';
  for (const auto& label : labels) {
    if (label.name == crmscope::kMetricNameLabel) continue;
    out->push_back(open);
    open = ',';
    out->append(label.name).append("=\"");
    AppendEscaped(out, label.value);
    out->push_back('"');
  }
  if (open == ',') out->push_back('}');
  char number[64];
  auto end = std::to_chars(number, number + sizeof number, sample.v).ptr;
  out->push_back(' ');
  out->append(number, end);
  const int written = std::snprintf(number, sizeof number, " %lld.%03lld\n",
                                    static_cast<long long>(sample.t / 1000),
                                    static_cast<long long>(sample.t % 1000));
  out->append(number, static_cast<size_t>(written));
}

struct Totals {
  size_t requests = 0;
  size_t samples = 0;
  TimestampMs first_ms = INT64_MAX, last_ms = INT64_MIN;
};

bool WriteInfo(const Settings& s, const Totals& totals, const std::string& path) {
  std::ofstream info(path, std::ios::trunc);
  info << "series=" << s.series << "\nsteps=" << s.steps << "\ninterval_ms=" << s.interval_ms
       << "\nseries_per_request=" << s.series_per_request << "\nrequests=" << totals.requests
       << "\nsamples=" << totals.samples << "\nfirst_ms=" << totals.first_ms
       << "\nlast_ms=" << totals.last_ms << "\n";
  info.close();
  return !info.fail();
}

// One step: a request per slice, and the step's OpenMetrics lines.
void EmitStep(const CrmFleet& fleet, const std::vector<Sample>& samples, uint32_t step,
              size_t per_request, crmscope::bench::PayloadWriter* payloads, std::FILE* openmetrics,
              Totals* totals) {
  std::string text;
  for (size_t begin = 0, slice = 0; begin < fleet.size(); begin += per_request, ++slice) {
    const size_t end = std::min(fleet.size(), begin + per_request);
    crmscope::remote_write::WriteRequest request;
    request.series.reserve(end - begin);
    for (size_t i = begin; i < end; ++i) {
      request.series.push_back({fleet.labels(i), {samples[i]}});
      if (openmetrics != nullptr) AppendOpenMetricsLine(&text, fleet.labels(i), samples[i]);
      totals->first_ms = std::min(totals->first_ms, samples[i].t);
      totals->last_ms = std::max(totals->last_ms, samples[i].t);
    }
    payloads->Write({static_cast<uint32_t>(slice), step, static_cast<uint32_t>(end - begin),
                     crmscope::remote_write::Encode(request)});
    totals->requests += 1;
    totals->samples += end - begin;
  }
  if (openmetrics != nullptr) std::fwrite(text.data(), 1, text.size(), openmetrics);
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  if (!ParseSettings(argc, argv, &s)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::filesystem::create_directories(s.out_dir);
  const std::string dir = s.out_dir + "/";
  CrmFleet fleet(s.series, s.interval_ms);
  crmscope::bench::PayloadWriter payloads(dir + "payloads.bin");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> openmetrics(
      s.openmetrics ? std::fopen((dir + "samples.om").c_str(), "w") : nullptr, &std::fclose);
  if (!payloads.ok() || (s.openmetrics && !openmetrics)) {
    std::fprintf(stderr, "ingest_payload_gen: cannot write into %s\n", s.out_dir.c_str());
    return 1;
  }
  const TimestampMs start_ms = s.end_ms - s.steps * s.interval_ms;
  Totals totals;
  std::vector<Sample> samples;
  for (int step = 0; step < s.steps; ++step) {
    fleet.Scrape(start_ms + step * s.interval_ms, &samples);
    EmitStep(fleet, samples, static_cast<uint32_t>(step), s.series_per_request, &payloads,
             openmetrics.get(), &totals);
  }
  bool ok = payloads.Close();
  if (openmetrics) {
    ok = std::fputs("# EOF\n", openmetrics.get()) >= 0 && ok;
    ok = std::fclose(openmetrics.release()) == 0 && ok;
  }
  ok = WriteInfo(s, totals, dir + "payloads.info") && ok;
  if (!ok) {
    std::fprintf(stderr, "ingest_payload_gen: writing %s failed\n", s.out_dir.c_str());
    return 1;
  }
  std::printf("wrote %zu requests, %zu samples of %zu series into %s\n", totals.requests,
              totals.samples, fleet.size(), s.out_dir.c_str());
  return 0;
}
