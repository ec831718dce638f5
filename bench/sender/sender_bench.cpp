// The durable remote-write sender, measured by hand (build/bench/sender/sender_bench), not by CI:
//  1. live: batches appended as an agent would (each durable on return) while the endpoint is
//     up; Append latency percentiles and the rate at which samples are delivered;
//  2. backlog: the same volume queued while the endpoint is down, then drained once it is up.
// The endpoint is an in-process CivetWeb server that decodes each request and answers 204, so
// what is measured is the sender (encode, disk, HTTP), not a storage engine.
//
// Usage: sender_bench [--batches N] [--series N] [--samples N] [--shards N] [--dir DIR]
#include <prometheus/registry.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "exporters/http/http_server.h"
#include "exporters/remote_write/codec.h"
#include "exporters/remote_write/queue_sender.h"

using namespace crmscope;
using namespace crmscope::remote_write;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  int batches = 500;
  int series = 200;   // per batch: an agent's collection of one interval
  int samples = 10;   // per series per batch
  int shards = 4;
  std::string dir = "/tmp/crmscope-sender-bench";
};

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--batches") o.batches = std::atoi(argv[i + 1]);
    else if (flag == "--series") o.series = std::atoi(argv[i + 1]);
    else if (flag == "--samples") o.samples = std::atoi(argv[i + 1]);
    else if (flag == "--shards") o.shards = std::atoi(argv[i + 1]);
    else if (flag == "--dir") o.dir = argv[i + 1];
  }
  return o;
}

class CountingReceiver {
 public:
  explicit CountingReceiver(int port) {
    std::string error;
    server_ = http::HttpServer::Start(
        {.listen_address = "127.0.0.1:" + std::to_string(port), .num_threads = 8},
        [this](http::HttpRequest& request) {
          std::string body;
          DecodedRequest decoded;
          std::string error;
          if (request.ReadBody(64 << 20, &body) != http::HttpRequest::BodyStatus::kOk ||
              !Decode(body, 1 << 30, &decoded, &error)) {
            return http::HttpResponse::Text(400, error);
          }
          samples_ += decoded.samples().size();
          http::HttpResponse response;
          response.status = 204;
          return response;
        },
        &error);
    if (!server_) {
      std::fprintf(stderr, "receiver: %s\n", error.c_str());
      std::exit(1);
    }
  }
  int port() const { return server_->port(); }
  uint64_t samples() const { return samples_.load(); }

 private:
  std::atomic<uint64_t> samples_{0};
  std::unique_ptr<http::HttpServer> server_;
};

WriteRequest Batch(const Options& o, int b) {
  WriteRequest request;
  for (int i = 0; i < o.series; ++i) {
    TimeSeries ts;
    ts.labels = {{"__name__", "crmscope_proxy_requests_total"},
                 {"method", i % 2 ? "GET" : "POST"},
                 {"route", "/api/customers/{id}/orders/" + std::to_string(i)},
                 {"status", std::to_string(200 + i % 5)},
                 {"upstream", "10.0.0." + std::to_string(i % 8) + ":8080"}};
    for (int j = 0; j < o.samples; ++j) {
      TimestampMs t = 1700000000000 + (static_cast<int64_t>(b) * o.samples + j) * 1000;
      ts.samples.push_back({t, static_cast<double>(b * o.samples + j + i)});
    }
    request.series.push_back(std::move(ts));
  }
  return request;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

std::unique_ptr<QueueSender> Open(const Options& o, int port, const std::string& queue) {
  QueueSenderConfig c;
  c.url = "http://127.0.0.1:" + std::to_string(port) + "/api/v1/write";
  c.name = "bench";
  c.queue_dir = queue;
  c.max_shards = o.shards;
  c.batch_send_deadline_ms = 100;
  c.min_backoff_ms = 10;
  c.max_backoff_ms = 100;
  std::string error;
  auto sender = QueueSender::Open(c, nullptr, "bench", &error);
  if (!sender) {
    std::fprintf(stderr, "open: %s\n", error.c_str());
    std::exit(1);
  }
  return sender;
}

bool WaitDelivered(const QueueSender& sender, uint64_t total) {
  auto deadline = Clock::now() + std::chrono::minutes(5);
  while (sender.stats().samples_sent < total) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = ParseArgs(argc, argv);
  std::filesystem::remove_all(o.dir);
  const uint64_t total = uint64_t(o.batches) * o.series * o.samples;
  std::vector<WriteRequest> batches;
  for (int b = 0; b < o.batches; ++b) batches.push_back(Batch(o, b));
  std::printf("batches=%d series_per_batch=%d samples_per_series=%d shards=%d total_samples=%llu\n",
              o.batches, o.series, o.samples, o.shards, static_cast<unsigned long long>(total));

  {  // 1. live
    CountingReceiver receiver(0);
    auto sender = Open(o, receiver.port(), o.dir + "/live");
    std::vector<double> latencies;
    double cpu0 = CpuSeconds();
    auto start = Clock::now();
    for (const WriteRequest& batch : batches) {
      auto t0 = Clock::now();
      std::string error;
      if (!sender->Append(batch, &error)) {
        std::fprintf(stderr, "append: %s\n", error.c_str());
        return 1;
      }
      latencies.push_back(Seconds(Clock::now() - t0) * 1e6);
    }
    double append_s = Seconds(Clock::now() - start);
    if (!WaitDelivered(*sender, total)) return 1;
    double delivered_s = Seconds(Clock::now() - start);
    double cpu = CpuSeconds() - cpu0;
    std::sort(latencies.begin(), latencies.end());
    std::printf("live_append_us_p50=%.0f live_append_us_p99=%.0f live_append_us_max=%.0f\n",
                latencies[latencies.size() / 2], latencies[latencies.size() * 99 / 100],
                latencies.back());
    std::printf("live_append_samples_per_s=%.0f live_delivered_samples_per_s=%.0f\n",
                total / append_s, total / delivered_s);
    std::printf("live_cpu_us_per_1k_samples=%.1f (sender and receiver together)\n",
                cpu / total * 1e9);
    sender->Close(std::chrono::seconds(10));
  }
  {  // 2. backlog: queued while down, drained once up
    // A port that was free a moment ago: nothing listens until the receiver starts on it.
    int port = 0;
    {
      CountingReceiver probe(0);
      port = probe.port();
    }
    auto sender = Open(o, port, o.dir + "/backlog");
    auto start = Clock::now();
    for (const WriteRequest& batch : batches) {
      std::string error;
      if (!sender->Append(batch, &error)) return 1;
    }
    double append_s = Seconds(Clock::now() - start);
    QueueSender::Stats queued = sender->stats();
    CountingReceiver receiver(port);
    auto up = Clock::now();
    if (!WaitDelivered(*sender, total)) return 1;
    double drain_s = Seconds(Clock::now() - up);
    std::printf("backlog_queue_bytes=%llu backlog_bytes_per_sample=%.2f backlog_append_samples_per_s=%.0f\n",
                static_cast<unsigned long long>(queued.queue_bytes),
                static_cast<double>(queued.queue_bytes) / total, total / append_s);
    std::printf("backlog_drain_samples_per_s=%.0f\n", total / drain_s);
    sender->Close(std::chrono::seconds(10));
  }
  std::filesystem::remove_all(o.dir);
  return 0;
}
