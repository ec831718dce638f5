// The CRM workload: --mix parsing, operation shares, and the requests it builds for crm-node.
#include <doctest/doctest.h>

#include <array>
#include <map>
#include <string>

#include "crm_demo/loadgen/customer_population.h"
#include "crm_demo/loadgen/workload.h"

using namespace crmscope::loadgen;

TEST_CASE("crm_loadgen workload: --mix parses names and weights, and rejects the rest") {
  Mix mix{};
  std::string error;
  REQUIRE(ParseMix("get_customer:3,update_ticket:1", &mix, &error));
  CHECK(mix[static_cast<size_t>(Operation::kGetCustomer)] == 3);
  CHECK(mix[static_cast<size_t>(Operation::kUpdateTicket)] == 1);
  CHECK(mix[static_cast<size_t>(Operation::kListOrders)] == 0);
  CHECK(FormatMix(mix) == "get_customer:3,update_ticket:1");
  CHECK(FormatMix(DefaultMix()) ==
        "get_customer:50,search_customers:15,list_orders:15,list_tickets:10,create_order:5,"
        "create_ticket:3,update_ticket:2");
  CHECK_FALSE(ParseMix("get_customers:1", &mix, &error));
  CHECK(error.find("get_customers") != std::string::npos);
  CHECK_FALSE(ParseMix("get_customer:-1", &mix, &error));
  CHECK_FALSE(ParseMix("get_customer", &mix, &error));
  CHECK_FALSE(ParseMix("get_customer:0", &mix, &error));
}

TEST_CASE("crm_loadgen workload: operation shares follow the mix, requests are well formed") {
  const CustomerPopulation population = CustomerPopulation::Synthetic(1000, 1);
  REQUIRE(population.name_count() == 1000);
  Workload workload(DefaultMix(), population, 1.1, 9);
  std::array<int, kOperationCount> counts{};
  Request r;
  constexpr int kRequests = 100000;
  for (int i = 0; i < kRequests; ++i) {
    workload.Next(&r);
    ++counts[static_cast<size_t>(r.op)];
    REQUIRE(r.path.rfind("/api/", 0) == 0);
    REQUIRE(r.path.find(' ') == std::string::npos);
    switch (r.op) {
      case Operation::kGetCustomer: {
        const long id = std::stol(r.path.substr(15));
        REQUIRE(id >= 1);
        REQUIRE(id <= 1000);
        REQUIRE(std::string(r.method) == "GET");
        REQUIRE(r.body.empty());
        break;
      }
      case Operation::kSearchCustomers:
        REQUIRE(r.path.rfind("/api/customers?name=", 0) == 0);
        REQUIRE(r.path.find("%20") != std::string::npos);  // "First Last", encoded
        break;
      case Operation::kCreateOrder:
        REQUIRE(std::string(r.method) == "POST");
        REQUIRE(r.body.rfind("{\"customer_id\":", 0) == 0);
        REQUIRE(r.body.find("\"amount_cents\":") != std::string::npos);
        break;
      case Operation::kUpdateTicket:
        REQUIRE(std::string(r.method) == "PATCH");
        REQUIRE(r.body.find("\"status\":") != std::string::npos);
        break;
      default:
        break;
    }
  }
  const Mix mix = DefaultMix();
  for (size_t i = 0; i < kOperationCount; ++i) {
    CAPTURE(OperationName(static_cast<Operation>(i)));
    const double expected = mix[i] / 100.0 * kRequests;
    CHECK(std::abs(counts[i] - expected) < 4 * std::sqrt(expected));  // 4 sigma
  }
}

TEST_CASE("crm_loadgen workload: the same seed gives the same requests") {
  const CustomerPopulation population = CustomerPopulation::Synthetic(500, 3);
  Workload a(DefaultMix(), population, 1.1, 77), b(DefaultMix(), population, 1.1, 77);
  Workload c(DefaultMix(), population, 1.1, 78);
  Request ra, rb, rc;
  int differs = 0;
  for (int i = 0; i < 1000; ++i) {
    a.Next(&ra);
    b.Next(&rb);
    c.Next(&rc);
    REQUIRE(ra.path == rb.path);
    REQUIRE(ra.body == rb.body);
    differs += ra.path != rc.path;
  }
  CHECK(differs > 500);
}

TEST_CASE("crm_loadgen workload: one customer and one operation is a single URL, as for wrk") {
  const CustomerPopulation population = CustomerPopulation::Synthetic(1, 1);
  Mix mix{};
  std::string error;
  REQUIRE(ParseMix("get_customer:1", &mix, &error));
  Workload workload(mix, population, 1.1, 1);
  Request r;
  for (int i = 0; i < 100; ++i) {
    workload.Next(&r);
    REQUIRE(r.path == "/api/customers/1");
  }
}

TEST_CASE("crm_loadgen workload: names are percent-encoded for the query string") {
  CHECK(PercentEncode("Anna-Lena O'Brien & Co") == "Anna-Lena%20O%27Brien%20%26%20Co");
  CHECK(PercentEncode("Zoë") == "Zo%C3%AB");
}
