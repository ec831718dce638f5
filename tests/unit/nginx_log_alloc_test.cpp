// The nginx_log source's per-line promise: once a line's series exist, parsing another line into
// them allocates nothing. Global operator new is replaced in this executable to count.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "agent/sources/nginx_log/proxy_metrics.h"
#include "crm_demo/launcher/access_log.h"

namespace {
std::atomic<size_t> allocations{0};
}  // namespace

void* operator new(size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

using namespace crmscope::agent::nginx_log;

TEST_CASE("parsing lines into existing series allocates nothing") {
  LogFormat format;
  RouteTemplater templater;
  std::string error;
  REQUIRE(LogFormat::Compile(crmscope::launcher::AccessLogFormatDirective(), &format, &error));
  REQUIRE(templater.AddRules({{"/api/v[0-9]+/(tickets)/[^/]+", "/api/vN/\\1/{id}"}}, &error));
  ProxyMetrics metrics(std::move(format), std::move(templater), {});
  const std::vector<std::string> lines = {
      "1.000\tGET\t/api/customers/42\t200\t0.310\t127.0.0.1:4001, 127.0.0.1:4002\t502, 200\t"
      "-, 0.000\t-, 0.300\t0.000, 0.301\t1500\tcache;dur=0.012, db;dur=0.310",
      "1.001\tGET\t/api/customers/1b4e28ba-2fa1-11d2-883f-0016a1b2c3d4\t200\t0.004\t127.0.0.1:4002"
      "\t200\t0.000\t0.003\t0.004\t500\tcache;dur=1, db;dur=2",
      "1.002\tPATCH\t/api/v2/tickets/T-9\t409\t0.020\t127.0.0.1:4001\t409\t0.000\t0.019\t0.020\t88"
      "\t-",
      "1.003\tGET\t/caf\\xC3\\xA9/7\t404\t0.000\t-\t-\t-\t-\t-\t153\t-",
  };
  std::string_view reason;
  size_t at_start = allocations.load();
  for (const std::string& line : lines) REQUIRE(metrics.AddLine(line, &reason));
  CHECK(allocations.load() > at_start);  // new series, new label values: the counter counts
  // Lines with other ids land in the same series.
  const std::vector<std::string> more = {
      "2.000\tGET\t/api/customers/77\t200\t1.310\t127.0.0.1:4001, 127.0.0.1:4002\t502, 200\t"
      "-, 0.000\t-, 0.300\t0.000, 0.301\t1500\tcache;dur=0.012, db;dur=0.310",
      "2.001\tGET\t/api/customers/00000000-2fa1-11d2-883f-0016a1b2c3d4\t200\t0.004\t127.0.0.1:4002"
      "\t200\t0.000\t0.003\t0.004\t500\tcache;dur=1, db;dur=2",
      "2.002\tPATCH\t/api/v2/tickets/T-10\t409\t0.020\t127.0.0.1:4001\t409\t0.000\t0.019\t0.020\t88"
      "\t-",
      "2.003\tGET\t/caf\\xC3\\xA9/8\t404\t0.000\t-\t-\t-\t-\t-\t153\t-",
      "garbage that is rejected",
  };
  size_t before = allocations.load();
  for (int round = 0; round < 1000; ++round) {
    for (const std::string& line : more) metrics.AddLine(line, &reason);
  }
  CHECK(allocations.load() - before == 0);
}
