// ingest_sender: posts every request of a payload directory to a remote-write URL from N
// connections at once and prints the throughput:
//   requests=1800 samples=3600000 failures=0 seconds=12.3 samples_per_second=292682
//
// The requests of one slice (a fixed group of series) go out strictly in step order and never two
// at a time, like the requests of one Prometheus remote-write shard; any free connection takes the
// slice that is furthest behind, so the connections stay busy while each series stays in order.
// A request that does not get a 2xx is counted as a failure and not retried.
#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/ingest/payload_file.h"

namespace {

using crmscope::bench::Payload;

// Hands out requests: per slice, in step order, one in flight at a time.
class SliceScheduler {
 public:
  explicit SliceScheduler(const std::vector<Payload>& payloads) {
    for (size_t i = 0; i < payloads.size(); ++i) {
      const uint32_t slice = payloads[i].slice;
      if (slice >= queues_.size()) queues_.resize(slice + 1);
      queues_[slice].indices.push_back(i);
    }
    for (Queue& q : queues_) {
      std::stable_sort(q.indices.begin(), q.indices.end(), [&](size_t a, size_t b) {
        return payloads[a].step < payloads[b].step;
      });
    }
  }

  // The next request to send and its slice; waits while every slice with requests left is in
  // flight elsewhere; nothing once every request has been taken.
  std::optional<std::pair<size_t, uint32_t>> Take() {
    std::unique_lock lock(mu_);
    while (true) {
      Queue* best = nullptr;
      bool any_left = false;
      for (Queue& q : queues_) {
        if (q.next == q.indices.size()) continue;
        any_left = true;
        if (!q.busy && (best == nullptr || q.next < best->next)) best = &q;
      }
      if (!any_left) return std::nullopt;
      if (best != nullptr) {
        best->busy = true;
        const auto slice = static_cast<uint32_t>(best - queues_.data());
        return std::make_pair(best->indices[best->next++], slice);
      }
      slice_freed_.wait(lock);
    }
  }
  void Done(uint32_t slice) {
    {
      std::lock_guard lock(mu_);
      queues_[slice].busy = false;
    }
    slice_freed_.notify_all();
  }

 private:
  struct Queue {
    std::vector<size_t> indices;
    size_t next = 0;
    bool busy = false;
  };
  std::mutex mu_;
  std::condition_variable slice_freed_;
  std::vector<Queue> queues_;
};

struct CurlEasyDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct CurlListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

size_t KeepBody(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  if (body->size() < 4096) body->append(data, size * count);
  return size * count;
}

struct SenderTotals {
  std::mutex mu;
  size_t requests = 0, samples = 0, failures = 0;
  std::string first_failure;
};

// One connection, kept alive across requests.
void SendLoop(const std::string& url, const std::vector<Payload>& payloads,
              SliceScheduler* scheduler, SenderTotals* totals) {
  std::unique_ptr<CURL, CurlEasyDeleter> curl(curl_easy_init());
  curl_slist* raw_headers = nullptr;
  for (const char* h : {"Content-Type: application/x-protobuf", "Content-Encoding: snappy",
                        "X-Prometheus-Remote-Write-Version: 0.1.0",
                        "User-Agent: crmscope-ingest-bench", "Expect:"}) {
    raw_headers = curl_slist_append(raw_headers, h);
  }
  std::unique_ptr<curl_slist, CurlListDeleter> headers(raw_headers);
  std::string response;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &KeepBody);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  while (const auto next = scheduler->Take()) {
    const Payload& payload = payloads[next->first];
    response.clear();
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, payload.body.data());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.body.size()));
    const CURLcode code = curl_easy_perform(curl.get());
    long status = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
    scheduler->Done(next->second);
    std::lock_guard lock(totals->mu);
    totals->requests += 1;
    totals->samples += payload.samples;
    if (code != CURLE_OK || status / 100 != 2) {
      totals->failures += 1;
      if (totals->first_failure.empty()) {
        totals->first_failure = code != CURLE_OK ? curl_easy_strerror(code)
                                                 : "HTTP " + std::to_string(status) + ": " + response;
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string url, dir;
  int threads = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--url") url = argv[i + 1];
    else if (flag == "--payloads") dir = argv[i + 1];
    else if (flag == "--threads") threads = std::atoi(argv[i + 1]);
  }
  if (url.empty() || dir.empty() || threads < 1 || argc % 2 == 0) {
    std::fputs("usage: ingest_sender --url URL --payloads DIR [--threads N]\n", stderr);
    return 2;
  }
  std::vector<Payload> payloads;
  std::string error;
  if (!crmscope::bench::ReadPayloads(dir + "/payloads.bin", &payloads, &error)) {
    std::fprintf(stderr, "ingest_sender: %s\n", error.c_str());
    return 1;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  SliceScheduler scheduler(payloads);
  SenderTotals totals;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> senders;
  for (int t = 0; t < threads; ++t) {
    senders.emplace_back(SendLoop, std::cref(url), std::cref(payloads), &scheduler, &totals);
  }
  for (auto& t : senders) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  curl_global_cleanup();
  std::printf("requests=%zu samples=%zu failures=%zu seconds=%.3f samples_per_second=%.0f\n",
              totals.requests, totals.samples, totals.failures, seconds,
              static_cast<double>(totals.samples) / seconds);
  if (totals.failures > 0) {
    std::fprintf(stderr, "ingest_sender: first failure: %s\n", totals.first_failure.c_str());
    return 1;
  }
  return 0;
}
