// The CRM workload: which operation comes next (by the --mix shares) and the request that
// performs it against crm-node's API, with customer ids from a Zipf distribution and names from
// the customer population.
//
// Deterministic for a seed: the same flags give the same request sequence, so two runs differ
// only by the server. Next() reuses the caller's buffers and allocates nothing once they have
// grown to their working size.
#pragma once

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "crm_demo/loadgen/customer_population.h"
#include "crm_demo/loadgen/zipf_sampler.h"

namespace crmscope::loadgen {

enum class Operation : uint8_t {
  kGetCustomer,      // GET /api/customers/{id}
  kSearchCustomers,  // GET /api/customers?name=...
  kListOrders,       // GET /api/customers/{id}/orders
  kListTickets,      // GET /api/tickets?status=open&limit=50
  kCreateOrder,      // POST /api/orders
  kCreateTicket,     // POST /api/tickets
  kUpdateTicket,     // PATCH /api/tickets/{id}
};
constexpr size_t kOperationCount = 7;

std::string_view OperationName(Operation op);  // "get_customer", as --mix spells it
bool ParseOperation(std::string_view name, Operation* op);

// Relative weights per operation; they need not sum to 100.
using Mix = std::array<double, kOperationCount>;
Mix DefaultMix();  // get_customer:50,search_customers:15,list_orders:15,list_tickets:10,...
// "get_customer:50,create_order:5": operations not named get weight 0.
bool ParseMix(std::string_view text, Mix* mix, std::string* error);
std::string FormatMix(const Mix& mix);

struct Request {
  Operation op = Operation::kGetCustomer;
  const char* method = "GET";
  std::string path;  // with its query string
  std::string body;  // JSON; empty for GET
};

class Workload {
 public:
  Workload(const Mix& mix, const CustomerPopulation& population, double zipf_skew,
           uint64_t seed);

  void Next(Request* request);

 private:
  uint64_t CustomerId();
  uint64_t TicketId();
  void AppendNumber(std::string* out, uint64_t value);

  const CustomerPopulation& population_;
  std::array<double, kOperationCount> mix_cdf_;
  ZipfSampler customer_ranks_;
  RankToId rank_to_id_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
};

}  // namespace crmscope::loadgen
