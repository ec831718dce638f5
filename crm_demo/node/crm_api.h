// The CRM's routes as plain functions from request input to a JSON reply; HTTP, routing and
// instrumentation are node_server's. Database failures are thrown as DbError.
//
//   GET   /api/customers/{id}          the customer with an order summary; cache-aside
//   GET   /api/customers?name=N        customers whose full name is N (limit, default 20)
//   GET   /api/customers/{id}/orders   latest orders first (limit, default 50)
//   POST  /api/orders                  {"customer_id", "amount_cents", "status"?} -> 201
//   GET   /api/tickets?status=S        open | pending | closed, latest first (limit, default 50)
//   POST  /api/tickets                 {"customer_id", "subject", "priority"?} -> 201, open
//   PATCH /api/tickets/{id}            {"status"?, "priority"?} -> the updated ticket
//   GET   /healthz                     the database answers
//
// The customer document includes its order count and total, so a new order changes it: the
// order's write invalidates the cached copy (cache-aside: the next read refills).
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include "crm_demo/node/api_input.h"
#include "crm_demo/node/cache/customer_cache.h"
#include "crm_demo/node/crm_queries.h"
#include "crm_demo/node/request_stages.h"

namespace crmscope::crm {

struct ApiCall {
  RequestStages* stages;
  bool bypass_cache = false;  // a cache_off fault: read from and write to the database only
};

class CrmApi {
 public:
  // `cache` may be null (--cache=off) and `observer` null (--metrics=off).
  CrmApi(ConnectionPool* pool, CustomerCache* cache, QueryObserver* observer)
      : pool_(pool), cache_(cache), observer_(observer) {}

  ApiReply GetCustomer(std::string_view id, ApiCall& call);
  ApiReply SearchCustomers(std::string_view query_string, ApiCall& call);
  ApiReply ListCustomerOrders(std::string_view id, std::string_view query_string, ApiCall& call);
  ApiReply CreateOrder(std::string_view body, ApiCall& call);
  ApiReply ListTickets(std::string_view query_string, ApiCall& call);
  ApiReply CreateTicket(std::string_view body, ApiCall& call);
  ApiReply UpdateTicket(std::string_view id, std::string_view body, ApiCall& call);
  ApiReply Health(ApiCall& call);

  // Customer reads that did not consult the cache (none configured, or bypassed).
  const std::atomic<uint64_t>* bypassed_lookups() const { return &bypassed_lookups_; }

 private:
  bool CustomerExists(DbConnection& conn, int64_t id, ApiCall& call);
  void InvalidateCustomer(int64_t id, ApiCall& call);

  ConnectionPool* pool_;
  CustomerCache* cache_;
  QueryObserver* observer_;
  std::atomic<uint64_t> bypassed_lookups_{0};
};

}  // namespace crmscope::crm
