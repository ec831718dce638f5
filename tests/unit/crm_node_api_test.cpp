// crm-node's routes end to end: status codes and bodies checked against the seeded tables,
// Server-Timing, and the /metrics series the requests must have produced.
#include <nlohmann/json.hpp>
#include <re2/re2.h>

#include "tests/unit/crm_node_test_fixture.h"

using namespace crm_test;
using nlohmann::json;

namespace {

struct Fixture {
  TempDir dir;
  std::string db = SeedSmall(dir);
  Node node = StartNode(DefaultOptions(db));
  Client client{node.port};
};

void CheckJsonError(const Response& r, long status) {
  CHECK(r.status == status);
  CHECK(r.headers.at("content-type") == "application/json");
  json body = json::parse(r.body, nullptr, false);
  REQUIRE(body.is_object());
  CHECK(body["error"].is_string());
  CHECK_FALSE(body["error"].get<std::string>().empty());
}

}  // namespace

TEST_CASE("GET /api/customers/{id} returns the customer with its order summary") {
  Fixture f;
  Response r = f.client.Get("/api/customers/7");
  REQUIRE(r.status == 200);
  CHECK(r.headers["x-crm-node"] == "test-node");
  json c = json::parse(r.body);
  CHECK(c["id"] == 7);
  CHECK(c["name"].get<std::string>().find(' ') != std::string::npos);
  CHECK(c["email"].get<std::string>().find('@') != std::string::npos);
  CHECK_FALSE(c["company"].get<std::string>().empty());
  CHECK(c["created_at"].get<std::string>().size() == 20);
  CHECK(c["orders"]["count"] ==
        QueryInt(f.db, "SELECT count(*) FROM orders WHERE customer_id = 7"));
  CHECK(c["orders"]["total_cents"] ==
        QueryInt(f.db, "SELECT coalesce(sum(amount_cents), 0) FROM orders WHERE customer_id = 7"));

  for (const char* bad : {"abc", "0", "-3", "7x", "99999999999999999999"}) {
    CAPTURE(bad);
    CheckJsonError(f.client.Get(std::string("/api/customers/") + bad), 400);
  }
  CheckJsonError(f.client.Get("/api/customers/2001"), 404);
}

TEST_CASE("GET /api/customers?name= finds exactly the customers with that name") {
  Fixture f;
  // The most common name, so there are several.
  std::string name;
  {
    Response any = f.client.Get("/api/customers/1");
    name = json::parse(any.body)["name"];
  }
  int64_t expected = QueryInt(f.db,
                              "SELECT count(*) FROM customers WHERE name = (SELECT name FROM "
                              "customers WHERE id = 1)");
  std::string encoded = name;
  RE2::GlobalReplace(&encoded, " ", "%20");
  Response r = f.client.Get("/api/customers?name=" + encoded + "&limit=100");
  REQUIRE(r.status == 200);
  json list = json::parse(r.body)["customers"];
  CHECK(static_cast<int64_t>(list.size()) == std::min<int64_t>(expected, 100));
  for (const json& c : list) CHECK(c["name"] == name);

  Response limited = f.client.Get("/api/customers?name=" + encoded + "&limit=1");
  CHECK(json::parse(limited.body)["customers"].size() == 1);
  Response none = f.client.Get("/api/customers?name=Nobody%20Atall");
  CHECK(none.status == 200);
  CHECK(json::parse(none.body)["customers"].empty());

  CheckJsonError(f.client.Get("/api/customers"), 400);
  CheckJsonError(f.client.Get("/api/customers?name="), 400);
  CheckJsonError(f.client.Get("/api/customers?name=x&limit=0"), 400);
  CheckJsonError(f.client.Get("/api/customers?name=x&limit=abc"), 400);
  CheckJsonError(f.client.Get("/api/customers?name=" + std::string(600, 'a')), 400);
}

TEST_CASE("GET /api/customers/{id}/orders lists the latest orders first") {
  Fixture f;
  int64_t busiest = QueryInt(f.db,
                             "SELECT customer_id FROM orders GROUP BY customer_id "
                             "ORDER BY count(*) DESC LIMIT 1");
  int64_t count =
      QueryInt(f.db, "SELECT count(*) FROM orders WHERE customer_id = " + std::to_string(busiest));
  REQUIRE(count > 3);
  Response r = f.client.Get("/api/customers/" + std::to_string(busiest) + "/orders?limit=3");
  REQUIRE(r.status == 200);
  json body = json::parse(r.body);
  CHECK(body["customer_id"] == busiest);
  REQUIRE(body["orders"].size() == 3);
  CHECK(body["orders"][0]["id"] > body["orders"][1]["id"]);
  CHECK(
      body["orders"][0]["id"] ==
      QueryInt(f.db, "SELECT max(id) FROM orders WHERE customer_id = " + std::to_string(busiest)));

  int64_t idle = QueryInt(f.db,
                          "SELECT id FROM customers WHERE id NOT IN "
                          "(SELECT customer_id FROM orders) LIMIT 1");
  if (idle > 0) {  // a known customer without orders is an empty list, not a 404
    Response empty = f.client.Get("/api/customers/" + std::to_string(idle) + "/orders");
    CHECK(empty.status == 200);
    CHECK(json::parse(empty.body)["orders"].empty());
  }
  CheckJsonError(f.client.Get("/api/customers/5000/orders"), 404);
  CheckJsonError(f.client.Get("/api/customers/x/orders"), 400);
  CheckJsonError(f.client.Get("/api/customers/1/orders?limit=501"), 400);
}

TEST_CASE("POST /api/orders creates an order and invalidates the cached customer") {
  Fixture f;
  json before = json::parse(f.client.Get("/api/customers/9").body);
  json cached = json::parse(f.client.Get("/api/customers/9").body);  // now from the cache
  CHECK(cached == before);

  Response r = f.client.Call("POST", "/api/orders", R"({"customer_id": 9, "amount_cents": 4321})");
  REQUIRE(r.status == 201);
  json order = json::parse(r.body);
  CHECK(order["customer_id"] == 9);
  CHECK(order["amount_cents"] == 4321);
  CHECK(order["status"] == "pending");
  CHECK(order["id"] == QueryInt(f.db, "SELECT max(id) FROM orders"));

  json after = json::parse(f.client.Get("/api/customers/9").body);
  CHECK(after["orders"]["count"] == before["orders"]["count"].get<int64_t>() + 1);
  CHECK(after["orders"]["total_cents"] == before["orders"]["total_cents"].get<int64_t>() + 4321);

  Response paid = f.client.Call("POST", "/api/orders",
                                R"({"customer_id": 9, "amount_cents": 1, "status": "paid"})");
  CHECK(paid.status == 201);
  CHECK(json::parse(paid.body)["status"] == "paid");

  for (const char* bad :
       {"", "not json", "[1]", R"({"amount_cents": 5})", R"({"customer_id": 9})",
        R"({"customer_id": "9", "amount_cents": 5})", R"({"customer_id": 9, "amount_cents": -5})",
        R"({"customer_id": 9, "amount_cents": 1.5})",
        R"({"customer_id": 9, "amount_cents": 5, "status": "stolen"})"}) {
    CAPTURE(bad);
    CheckJsonError(f.client.Call("POST", "/api/orders", bad), 400);
  }
  CheckJsonError(
      f.client.Call("POST", "/api/orders", R"({"customer_id": 7777, "amount_cents": 5})"), 404);
  CheckJsonError(f.client.Call("POST", "/api/orders", std::string(70000, ' ')), 413);
}

TEST_CASE("tickets: list by status, create, update") {
  Fixture f;
  Response open = f.client.Get("/api/tickets?status=open&limit=5");
  REQUIRE(open.status == 200);
  json tickets = json::parse(open.body)["tickets"];
  CHECK(tickets.size() == 5);
  for (const json& t : tickets) CHECK(t["status"] == "open");
  CHECK(tickets[0]["id"] == QueryInt(f.db, "SELECT max(id) FROM tickets WHERE status = 'open'"));
  CHECK(json::parse(f.client.Get("/api/tickets?status=closed").body)["tickets"].size() == 50);
  CheckJsonError(f.client.Get("/api/tickets"), 400);
  CheckJsonError(f.client.Get("/api/tickets?status=lost"), 400);
  CheckJsonError(f.client.Get("/api/tickets?status=open&limit=501"), 400);

  Response created =
      f.client.Call("POST", "/api/tickets",
                    R"({"customer_id": 3, "subject": "Printer on fire", "priority": "urgent"})");
  REQUIRE(created.status == 201);
  json t = json::parse(created.body);
  CHECK(t["status"] == "open");
  CHECK(t["priority"] == "urgent");
  CHECK(t["subject"] == "Printer on fire");
  int64_t id = t["id"];
  CHECK(json::parse(f.client.Call("POST", "/api/tickets", R"({"customer_id": 3, "subject": "x"})")
                        .body)["priority"] == "normal");
  CheckJsonError(f.client.Call("POST", "/api/tickets", R"({"customer_id": 3})"), 400);
  CheckJsonError(f.client.Call("POST", "/api/tickets", R"({"customer_id": 3, "subject": ""})"),
                 400);
  CheckJsonError(f.client.Call("POST", "/api/tickets",
                               R"({"customer_id": 3, "subject": "a", "priority": "meh"})"),
                 400);
  CheckJsonError(f.client.Call("POST", "/api/tickets", R"({"customer_id": 9999, "subject": "a"})"),
                 404);

  std::string path = "/api/tickets/" + std::to_string(id);
  Response updated = f.client.Call("PATCH", path, R"({"status": "closed"})");
  REQUIRE(updated.status == 200);
  CHECK(json::parse(updated.body)["status"] == "closed");
  CHECK(json::parse(updated.body)["priority"] == "urgent");
  CHECK(QueryInt(f.db, "SELECT status = 'closed' FROM tickets WHERE id = " + std::to_string(id)) ==
        1);
  CheckJsonError(f.client.Call("PATCH", path, "{}"), 400);
  CheckJsonError(f.client.Call("PATCH", path, R"({"status": "gone"})"), 400);
  CheckJsonError(f.client.Call("PATCH", "/api/tickets/999999", R"({"status": "open"})"), 404);
  CheckJsonError(f.client.Call("PATCH", "/api/tickets/zz", R"({"status": "open"})"), 400);
}

TEST_CASE("healthz, unknown routes and wrong methods") {
  Fixture f;
  Response health = f.client.Get("/healthz");
  CHECK(health.status == 200);
  CHECK(json::parse(health.body)["status"] == "ok");
  CheckJsonError(f.client.Get("/nope"), 404);
  CheckJsonError(f.client.Get("/api/customers/1/orders/2"), 404);
  Response wrong = f.client.Call("DELETE", "/api/tickets");
  CheckJsonError(wrong, 405);
  CHECK(wrong.headers["allow"] == "GET, POST");
}

TEST_CASE("Server-Timing carries the cache and database time in ms") {
  Fixture f;
  // RE2, as everywhere in crmscope (g++ 12's std::regex also trips -Wmaybe-uninitialized under ASan).
  const RE2 format(R"(cache;dur=(\d+\.\d{3}), db;dur=(\d+\.\d{3}))");
  double cache_ms = 0, db_ms = 0;
  Response miss = f.client.Get("/api/customers/11");
  REQUIRE(RE2::FullMatch(miss.headers["server-timing"], format, &cache_ms, &db_ms));
  CHECK(db_ms > 0);  // read from the database
  Response hit = f.client.Get("/api/customers/11");
  REQUIRE(RE2::FullMatch(hit.headers["server-timing"], format, &cache_ms, &db_ms));
  CHECK(db_ms == 0);  // answered from the cache
  CHECK(cache_ms < 50);
  Response post = f.client.Call("POST", "/api/tickets", R"({"customer_id": 3, "subject": "x"})");
  CHECK(RE2::FullMatch(post.headers["server-timing"], format));
  CHECK(RE2::FullMatch(f.client.Get("/healthz").headers["server-timing"], format));
}

TEST_CASE("/metrics counts the requests by route template, and the database and cache work") {
  Fixture f;
  for (int i = 1; i <= 5; ++i) f.client.Get("/api/customers/" + std::to_string(i));
  for (int i = 1; i <= 3; ++i) f.client.Get("/api/customers/" + std::to_string(i));  // hits
  f.client.Get("/api/customers/4242");
  f.client.Get("/api/customers/12/orders");
  f.client.Get("/nowhere/77");
  auto m = Scrape(f.client);
  const std::string route = R"(route="/api/customers/{id}")";
  CHECK(Metric(m, R"(http_requests_total{code="200",method="GET",)" + route + "}") == 8);
  CHECK(Metric(m, R"(http_requests_total{code="404",method="GET",)" + route + "}") == 1);
  CHECK(Metric(m, R"(http_requests_total{code="404",method="GET",route="other"})") == 1);
  CHECK(Metric(m, R"(http_request_duration_seconds_count{method="GET",)" + route + "}") == 9);
  CHECK(Metric(m, R"(http_request_duration_seconds_bucket{method="GET",)" + route +
                      R"(,le="10"})") == 9);
  CHECK(Metric(m, "crm_cache_hits_total") == 3);
  CHECK(Metric(m, "crm_cache_misses_total") == 6);
  CHECK(Metric(m, "crm_cache_entries") == 5);
  CHECK(Metric(m, "crm_cache_max_entries") == 1000);
  CHECK(Metric(m, R"(crm_db_query_duration_seconds_count{query="customer_get"})") == 6);
  CHECK(Metric(m, R"(crm_db_query_duration_seconds_count{query="customer_order_summary"})") == 5);
  CHECK(Metric(m, R"(crm_db_query_duration_seconds_count{query="customer_orders"})") == 1);
  // An indexed lookup scans about the rows it returns.
  int64_t orders = QueryInt(f.db, "SELECT count(*) FROM orders WHERE customer_id = 12");
  CHECK(Metric(m, R"(crm_db_rows_scanned_total{query="customer_orders"})") ==
        static_cast<double>(std::min<int64_t>(orders, 50)));
  CHECK(Metric(m, R"(crm_db_vm_steps_total{query="customer_get"})") > 0);
  CHECK(Metric(m, R"(crm_stage_duration_seconds_count{stage="cache"})") == 9);
  CHECK(Metric(m, R"(crm_stage_duration_seconds_count{stage="db"})") == 7);
  CHECK(Metric(m, R"(crm_stage_duration_seconds_count{stage="handler"})") == 11);
  CHECK(Metric(m, "http_server_worker_threads") == 4);
  CHECK(Metric(m, "http_server_worker_threads_busy") >= 1);  // this client's connection
  CHECK(Metric(m, "http_requests_in_flight") == 1);          // the scrape itself
  CHECK(Metric(m, "process_open_fds") > 3);
  CHECK(Metric(m, "process_resident_memory_bytes") > 1e6);
  // Raw ids and paths never become label values. (Only label sets are searched:
  // a sample value such as a byte count may well contain the digits 4242.)
  std::string text = f.client.Get("/metrics").body;
  CHECK_FALSE(RE2::PartialMatch(text, R"(\{[^}\n]*4242[^}\n]*\})"));
  CHECK_FALSE(RE2::PartialMatch(text, R"(\{[^}\n]*nowhere[^}\n]*\})"));
  CHECK(RE2::PartialMatch(text, R"(\{[^}\n]*customers/\{id\}[^}\n]*\})"));  // the regex can match
}

TEST_CASE("responses keep the connection alive as HTTP/1.1 asks, and close when told") {
  Fixture f;
  Response kept = f.client.Get("/healthz");
  CHECK(kept.status == 200);
  CHECK(kept.headers["connection"] == "keep-alive");
  CHECK(RE2::FullMatch(kept.headers["date"], R"([A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT)"));
  CHECK(kept.headers["content-length"] == std::to_string(kept.body.size()));
  Response closed = f.client.Call("GET", "/healthz", "", {"Connection: close"});
  CHECK(closed.status == 200);
  CHECK(closed.headers["connection"] == "close");
  // A 401 closes too, as CivetWeb does after a challenge; the body still arrives whole.
  Response challenged = f.client.Call("GET", "/admin/faults", "", {});
  CHECK(challenged.status == 401);
  CHECK(challenged.headers["connection"] == "close");
  CHECK(challenged.body.find("error") != std::string::npos);
  CHECK(f.client.Get("/healthz").status == 200);  // and the client reconnects
}

TEST_CASE("busy workers count the connections held, idle keep-alive included") {
  Fixture f;
  Client second(f.node.port);
  second.Get("/healthz");  // opens and keeps a second connection
  CHECK(Metric(Scrape(f.client), "http_server_worker_threads_busy") == 2);
}

TEST_CASE("with --metrics=off nothing is timed, /metrics keeps the scrape-time families") {
  TempDir dir;
  std::string db = SeedSmall(dir);
  auto options = DefaultOptions(db);
  options.metrics = false;
  Node node = StartNode(options);
  Client client(node.port);
  Response r = client.Get("/api/customers/3");
  CHECK(r.status == 200);
  CHECK(r.headers.count("server-timing") == 0);
  auto m = Scrape(client);
  CHECK(std::isnan(
      Metric(m, R"(http_requests_total{code="200",method="GET",route="/api/customers/{id}"})")));
  CHECK(std::isnan(Metric(m, "http_requests_in_flight")));
  CHECK(std::isnan(Metric(m, R"(crm_stage_duration_seconds_count{stage="db"})")));
  CHECK(Metric(m, "process_open_fds") > 0);
  CHECK(Metric(m, "crm_cache_misses_total") == 1);
}

TEST_CASE("the fault API needs its token, and never shows in /metrics") {
  Fixture f;
  CHECK(f.client.Get("/admin/faults").status == 401);
  CHECK(f.client.Call("GET", "/admin/faults", "", {"Authorization: Bearer wrong"}).status == 401);
  CHECK(f.client.Call("GET", "/admin/faults", "", {"Authorization: Bearer secretX"}).status == 401);
  Response ok = f.client.Call("GET", "/admin/faults", "", {"Authorization: Bearer secret"});
  CHECK(ok.status == 200);
  CHECK(json::parse(ok.body)["faults"].empty());
  CHECK(f.client.Call("PUT", "/admin/faults", "", {"Authorization: Bearer secret"}).status == 405);
  std::string text = f.client.Get("/metrics").body;
  CHECK(text.find("admin") == std::string::npos);
  CHECK(text.find("fault") == std::string::npos);

  TempDir dir;
  auto options = DefaultOptions(SeedSmall(dir));
  options.admin_token.clear();
  Node closed = StartNode(options);
  Client client(closed.port);
  CHECK(client.Call("GET", "/admin/faults", "", {"Authorization: Bearer "}).status == 403);
}
