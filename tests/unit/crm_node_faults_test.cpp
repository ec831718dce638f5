// Each fault of /admin/faults must show through its symptom alone: rows scanned, error share,
// latency, CPU, cache counters, write waits. Faults end by themselves, and /metrics never
// names one.
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/unit/crm_node_test_fixture.h"

using namespace crm_test;
using nlohmann::json;

namespace {

const std::vector<std::string> kAuth = {"Authorization: Bearer secret"};

struct Fixture {
  TempDir dir;
  std::string db = SeedSmall(dir);
  Node node = StartNode(DefaultOptions(db));
  Client client{node.port};

  int64_t AddFault(const std::string& spec) {
    Response r = client.Call("POST", "/admin/faults", spec, kAuth);
    REQUIRE_MESSAGE(r.status == 201, r.body);
    return json::parse(r.body)["id"];
  }
  size_t ActiveFaults() {
    return json::parse(client.Call("GET", "/admin/faults", "", kAuth).body)["faults"].size();
  }
  // Polls until the node lists no fault; faults end by themselves.
  void WaitFaultsOver(double seconds) {
    auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
    while (ActiveFaults() > 0 && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    REQUIRE(ActiveFaults() == 0);
  }
  // No fault type, parameter or index name may appear in the exposition.
  void CheckMetricsNameNoFault() {
    std::string text = client.Get("/metrics").body;
    // ("errors" and "latency" are ordinary words in metric names, so not on the list.)
    for (const char* word : {"cpu_burn", "drop_index", "cache_off", "cache_capacity", "db_lock",
                             "slow_start", "fault", "admin", "idx_"}) {
      CAPTURE(word);
      CHECK(text.find(word) == std::string::npos);
    }
  }
};

double RowsScanned(Client& client, const std::string& query) {
  return Metric(Scrape(client), "crm_db_rows_scanned_total{query=\"" + query + "\"}");
}

bool IndexExists(const std::string& db, const std::string& index) {
  return QueryInt(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = '" +
                          index + "'") == 1;
}

}  // namespace

TEST_CASE("drop_index: rows scanned per request rise by orders of magnitude, then recover") {
  Fixture f;
  const int kRequests = 20;
  auto list_orders = [&] {
    for (int i = 1; i <= kRequests; ++i) {
      REQUIRE(f.client.Get("/api/customers/" + std::to_string(i * 37) + "/orders").status == 200);
    }
  };
  double before = RowsScanned(f.client, "customer_orders");
  list_orders();
  double indexed = (RowsScanned(f.client, "customer_orders") - before) / kRequests;

  f.AddFault(
      R"({"type": "drop_index", "params": {"index": "idx_orders_customer_id"}, "duration_s": 2})");
  CHECK_FALSE(IndexExists(f.db, "idx_orders_customer_id"));
  before = RowsScanned(f.client, "customer_orders");
  list_orders();
  double scanning = (RowsScanned(f.client, "customer_orders") - before) / kRequests;
  INFO("rows scanned per request: indexed " << indexed << ", without the index " << scanning);
  CHECK(indexed > 0);
  CHECK(scanning >= 100 * indexed);
  f.CheckMetricsNameNoFault();

  f.WaitFaultsOver(10);
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!IndexExists(f.db, "idx_orders_customer_id") && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(IndexExists(f.db, "idx_orders_customer_id"));
  before = RowsScanned(f.client, "customer_orders");
  list_orders();
  CHECK((RowsScanned(f.client, "customer_orders") - before) / kRequests == indexed);
}

TEST_CASE("drop_index on one node shows on every node sharing the database") {
  Fixture f;
  auto other_options = DefaultOptions(f.db);
  other_options.node_name = "other";
  Node other = StartNode(other_options);
  Client other_client(other.port);
  auto rows_per_request = [&] {
    double before = RowsScanned(other_client, "customers_by_name");
    for (int i = 0; i < 5; ++i) {
      REQUIRE(other_client.Get("/api/customers?name=Zoe%20Okafor").status == 200);
    }
    return (RowsScanned(other_client, "customers_by_name") - before) / 5;
  };
  double indexed = rows_per_request();
  f.AddFault(
      R"({"type": "drop_index", "params": {"index": "idx_customers_name"}, "duration_s": 60})");
  double scanning = rows_per_request();
  INFO("rows scanned per search on the other node: " << indexed << " then " << scanning);
  CHECK(scanning >= 1990);  // the whole customers table (2000 rows)
  CHECK(scanning >= 100 * std::max(indexed, 1.0));
  // Only the node that took the fault lists it.
  CHECK(json::parse(other_client.Call("GET", "/admin/faults", "", kAuth).body)["faults"].empty());
}

TEST_CASE("drop_index is undone when the node stops before the fault ends") {
  TempDir dir;
  std::string db = SeedSmall(dir);
  {
    Node node = StartNode(DefaultOptions(db));
    Client client(node.port);
    Response r = client.Call(
        "POST", "/admin/faults",
        R"({"type": "drop_index", "params": {"index": "idx_customers_name"}, "duration_s": 600})",
        kAuth);
    REQUIRE(r.status == 201);
    CHECK_FALSE(IndexExists(db, "idx_customers_name"));
  }
  CHECK(IndexExists(db, "idx_customers_name"));
}

TEST_CASE("errors: the share of 500s matches the asked rate") {
  Fixture f;
  f.AddFault(R"({"type": "errors", "params": {"rate": 0.3}, "duration_s": 60})");
  const int kRequests = 600;
  int errors = 0;
  for (int i = 0; i < kRequests; ++i) {
    Response r = f.client.Get("/api/customers/" + std::to_string(1 + i % 50));
    if (r.status >= 500) ++errors;
    CHECK((r.status == 200 || r.status == 500));
  }
  double share = static_cast<double>(errors) / kRequests;
  // Binomial standard deviation at n = 600, p = 0.3 is 0.019; 4 of them.
  CHECK(std::abs(share - 0.3) < 0.075);
  auto m = Scrape(f.client);
  CHECK(Metric(m, R"(http_requests_total{code="500",method="GET",route="/api/customers/{id}"})") ==
        errors);
  f.CheckMetricsNameNoFault();
  CHECK(f.client.Call("DELETE", "/admin/faults", "", kAuth).status == 200);
  for (int i = 0; i < 50; ++i) CHECK(f.client.Get("/api/customers/1").status == 200);
}

TEST_CASE("latency: requests wait the asked time, on the asked route only, until it ends") {
  Fixture f;
  f.AddFault(
      R"({"type": "latency", "params": {"ms": 150, "jitter_ms": 50, "route": "/api/tickets"}, "duration_s": 1.5})");
  Response slow = f.client.Get("/api/tickets?status=open&limit=1");
  CHECK(slow.status == 200);
  CHECK(slow.seconds >= 0.150);
  CHECK(slow.seconds < 1.0);
  Response other = f.client.Get("/api/customers/1");
  CHECK(other.seconds < 0.100);
  auto m = Scrape(f.client);
  CHECK(
      Metric(
          m,
          R"(http_request_duration_seconds_bucket{method="GET",route="/api/tickets",le="0.1"})") ==
      0);
  f.CheckMetricsNameNoFault();
  f.WaitFaultsOver(5);
  CHECK(f.client.Get("/api/tickets?status=open&limit=1").seconds < 0.100);
}

TEST_CASE("cpu_burn: each request costs the asked CPU time") {
  Fixture f;
  double cpu_before = Metric(Scrape(f.client), "process_cpu_seconds_total");
  f.AddFault(R"({"type": "cpu_burn", "params": {"ms": 60}, "duration_s": 30})");
  const int kRequests = 10;
  for (int i = 0; i < kRequests; ++i) {
    Response r = f.client.Get("/healthz");
    CHECK(r.status == 200);
    CHECK(r.seconds >= 0.060);
  }
  double burned = Metric(Scrape(f.client), "process_cpu_seconds_total") - cpu_before;
  CHECK(burned >= 0.8 * kRequests * 0.060);  // CPU time ticks are 10 ms
  f.CheckMetricsNameNoFault();
}

TEST_CASE("cache_off: every customer read misses until the fault ends") {
  Fixture f;
  for (int i = 0; i < 2; ++i) f.client.Get("/api/customers/5");  // cached
  auto m0 = Scrape(f.client);
  f.AddFault(R"({"type": "cache_off", "duration_s": 1})");
  for (int i = 0; i < 10; ++i) {
    Response r = f.client.Get("/api/customers/5");
    CHECK(r.status == 200);
    CHECK(r.headers["server-timing"].find("db;dur=0.000") == std::string::npos);
  }
  auto m1 = Scrape(f.client);
  CHECK(Metric(m1, "crm_cache_hits_total") == Metric(m0, "crm_cache_hits_total"));
  CHECK(Metric(m1, "crm_cache_misses_total") == Metric(m0, "crm_cache_misses_total") + 10);
  f.CheckMetricsNameNoFault();
  f.WaitFaultsOver(5);
  f.client.Get("/api/customers/5");
  CHECK(Metric(Scrape(f.client), "crm_cache_hits_total") == Metric(m1, "crm_cache_hits_total") + 1);
}

TEST_CASE("cache_capacity: the cache shrinks and thrashes, then gets its capacity back") {
  Fixture f;
  for (int i = 1; i <= 20; ++i) f.client.Get("/api/customers/" + std::to_string(i));
  auto m0 = Scrape(f.client);
  CHECK(Metric(m0, "crm_cache_entries") == 20);
  f.AddFault(R"({"type": "cache_capacity", "params": {"entries": 4}, "duration_s": 1})");
  for (int round = 0; round < 2; ++round) {
    for (int i = 1; i <= 20; ++i) f.client.Get("/api/customers/" + std::to_string(i));
  }
  auto m1 = Scrape(f.client);
  CHECK(Metric(m1, "crm_cache_entries") <= 4);
  CHECK(Metric(m1, "crm_cache_max_entries") == 4);
  CHECK(Metric(m1, "crm_cache_evictions_total") - Metric(m0, "crm_cache_evictions_total") >= 40);
  CHECK(Metric(m1, "crm_cache_hits_total") == Metric(m0, "crm_cache_hits_total"));  // thrashing
  f.CheckMetricsNameNoFault();
  f.WaitFaultsOver(5);
  CHECK(Metric(Scrape(f.client), "crm_cache_max_entries") == 1000);

  TempDir dir;
  auto options = DefaultOptions(SeedSmall(dir));
  options.cache_spec = "off";
  Node uncached = StartNode(options);
  Client client(uncached.port);
  CHECK(client
            .Call("POST", "/admin/faults",
                  R"({"type": "cache_capacity", "params": {"entries": 4}, "duration_s": 1})", kAuth)
            .status == 409);
}

TEST_CASE("db_lock: writes wait for the held lock, reads do not") {
  Fixture f;
  auto mean_seconds = [&](const std::string& method, const std::string& path,
                          const std::string& body) {
    double total = 0;
    for (int i = 0; i < 10; ++i) {
      Response r = f.client.Call(method, path, body);
      CHECK(r.status < 300);
      total += r.seconds;
      // Spread over several lock periods, as independent clients would arrive.
      std::this_thread::sleep_for(std::chrono::milliseconds(13));
    }
    return total / 10;
  };
  const std::string ticket = R"({"customer_id": 3, "subject": "locked?"})";
  double write_before = mean_seconds("POST", "/api/tickets", ticket);
  f.AddFault(R"({"type": "db_lock", "params": {"share": 0.8}, "duration_s": 30})");
  double write_locked = mean_seconds("POST", "/api/tickets", ticket);
  double read_locked = mean_seconds("GET", "/api/customers/1/orders", "");
  INFO("mean write " << write_before * 1e3 << " ms before, " << write_locked * 1e3
                     << " ms under the lock; reads " << read_locked * 1e3 << " ms");
  CHECK(write_locked > 0.010);
  CHECK(write_locked > 5 * write_before);
  CHECK(read_locked < 0.015);
  f.CheckMetricsNameNoFault();
  CHECK(json::parse(f.client.Call("DELETE", "/admin/faults", "", kAuth).body)["cleared"] == 1);
  CHECK(mean_seconds("POST", "/api/tickets", ticket) < 0.5 * write_locked);
}

TEST_CASE("slow_start: a cold cache and a delay that fades to nothing") {
  Fixture f;
  for (int i = 1; i <= 10; ++i) f.client.Get("/api/customers/" + std::to_string(i));
  CHECK(Metric(Scrape(f.client), "crm_cache_entries") == 10);
  f.AddFault(R"({"type": "slow_start", "params": {"s": 1.5, "ms": 400}})");
  CHECK(Metric(Scrape(f.client), "crm_cache_entries") == 0);
  Response first = f.client.Get("/api/customers/1");
  CHECK(first.seconds > 0.2);
  f.CheckMetricsNameNoFault();
  f.WaitFaultsOver(5);  // duration_s defaults to s
  CHECK(f.client.Get("/api/customers/1").seconds < 0.1);
}

TEST_CASE("faults list themselves, end by themselves, and can be cleared") {
  Fixture f;
  f.AddFault(R"({"type": "latency", "params": {"ms": 1}, "duration_s": 0.5})");
  int64_t id = f.AddFault(R"({"type": "errors", "params": {"rate": 0}, "duration_s": 300})");
  json listed = json::parse(f.client.Call("GET", "/admin/faults", "", kAuth).body)["faults"];
  REQUIRE(listed.size() == 2);
  CHECK(listed[1]["id"] == id);
  CHECK(listed[1]["type"] == "errors");
  CHECK(listed[1]["params"]["rate"] == 0);
  CHECK(listed[1]["remaining_s"].get<double>() > 290);
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (f.ActiveFaults() != 1 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(f.ActiveFaults() == 1);
  CHECK(json::parse(f.client.Call("DELETE", "/admin/faults", "", kAuth).body)["cleared"] == 1);
  CHECK(f.ActiveFaults() == 0);
}

TEST_CASE("malformed faults are refused with 400") {
  Fixture f;
  for (
      const char* bad :
      {"", "[]", R"({"type": "meteor", "duration_s": 1})",
       R"({"type": "latency", "duration_s": 1})", R"({"type": "latency", "params": {"ms": 10}})",
       R"({"type": "latency", "params": {"ms": 10}, "duration_s": 0})",
       R"({"type": "latency", "params": {"ms": 10}, "duration_s": -4})",
       R"({"type": "latency", "params": {"ms": 10, "route": "/api/customers/42"}, "duration_s": 1})",
       R"({"type": "errors", "params": {"rate": 1.5}, "duration_s": 1})",
       R"({"type": "errors", "params": {"rate": "half"}, "duration_s": 1})",
       R"({"type": "drop_index", "params": {"index": "sqlite_master"}, "duration_s": 1})",
       R"({"type": "db_lock", "params": {}, "duration_s": 1})",
       R"({"type": "slow_start", "params": {"s": 0}})",
       R"({"type": "cpu_burn", "params": "hot", "duration_s": 1})"}) {
    CAPTURE(bad);
    Response r = f.client.Call("POST", "/admin/faults", bad, kAuth);
    CHECK(r.status == 400);
    CHECK_FALSE(json::parse(r.body)["error"].get<std::string>().empty());
  }
  CHECK(f.ActiveFaults() == 0);
}
