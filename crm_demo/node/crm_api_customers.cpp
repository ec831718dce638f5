// Customers and orders.
#include <array>
#include <nlohmann/json.hpp>

#include "crm_demo/node/crm_api.h"

namespace crmscope::crm {

namespace {

// Replies keep their keys in the order written (id first), as people read them.
using json = nlohmann::ordered_json;

constexpr std::array<std::string_view, 5> kOrderStatuses = {"pending", "paid", "shipped",
                                                            "cancelled", "refunded"};

json CustomerRow(const QueryRun& row) {
  return json{{"id", row.Int(0)},
              {"name", row.Text(1)},
              {"email", row.Text(2)},
              {"company", row.Text(3)},
              {"created_at", row.Text(4)}};
}

}  // namespace

bool CrmApi::CustomerExists(DbConnection& conn, int64_t id, ApiCall& call) {
  QueryRun exists(conn, Query::kCustomerExists, call.stages, observer_);
  exists.Bind(1, id);
  return exists.Step();
}

void CrmApi::InvalidateCustomer(int64_t id, ApiCall& call) {
  // Invalidated even while the cache is bypassed: the fault ends, the entry must not be stale.
  if (!cache_) return;
  call.stages->cache_used = true;
  StageTimer timer(call.stages->timed, &call.stages->cache_ns);
  cache_->Invalidate(id);
}

ApiReply CrmApi::GetCustomer(std::string_view id_text, ApiCall& call) {
  int64_t id = 0;
  if (!ParseId(id_text, &id)) return JsonError(400, "customer id must be a positive integer");
  bool use_cache = cache_ && !call.bypass_cache;
  if (use_cache) {
    call.stages->cache_used = true;
    std::optional<std::string> cached;
    {
      StageTimer timer(call.stages->timed, &call.stages->cache_ns);
      cached = cache_->Get(id);
    }
    if (cached) return ApiReply{200, std::move(*cached)};
  } else {
    bypassed_lookups_.fetch_add(1, std::memory_order_relaxed);
  }
  ConnectionPool::Lease conn = pool_->Acquire();
  json customer;
  {
    QueryRun row(*conn, Query::kCustomerGet, call.stages, observer_);
    row.Bind(1, id);
    if (!row.Step()) return JsonError(404, "customer " + std::to_string(id) + " not found");
    customer = CustomerRow(row);
  }
  {
    QueryRun summary(*conn, Query::kCustomerOrderSummary, call.stages, observer_);
    summary.Bind(1, id);
    summary.Step();
    customer["orders"] = json{{"count", summary.Int(0)}, {"total_cents", summary.Int(1)}};
  }
  std::string body = customer.dump();
  if (use_cache) {
    StageTimer timer(call.stages->timed, &call.stages->cache_ns);
    cache_->Put(id, body);
  }
  return ApiReply{200, std::move(body)};
}

ApiReply CrmApi::SearchCustomers(std::string_view query_string, ApiCall& call) {
  std::string name, error;
  Param found = QueryParam(query_string, "name", &name);
  if (found == Param::kAbsent || name.empty()) return JsonError(400, "name is required");
  if (found == Param::kTooLong) return JsonError(400, "name is too long");
  int64_t limit = 0;
  if (!ParseLimit(query_string, 20, 100, &limit, &error)) return JsonError(400, error);
  ConnectionPool::Lease conn = pool_->Acquire();
  json customers = json::array();
  QueryRun rows(*conn, Query::kCustomersByName, call.stages, observer_);
  rows.Bind(1, name).Bind(2, limit);
  while (rows.Step()) customers.push_back(CustomerRow(rows));
  return ApiReply{200, json{{"customers", std::move(customers)}}.dump()};
}

ApiReply CrmApi::ListCustomerOrders(std::string_view id_text, std::string_view query_string,
                                    ApiCall& call) {
  int64_t id = 0, limit = 0;
  std::string error;
  if (!ParseId(id_text, &id)) return JsonError(400, "customer id must be a positive integer");
  if (!ParseLimit(query_string, 50, 500, &limit, &error)) return JsonError(400, error);
  ConnectionPool::Lease conn = pool_->Acquire();
  json orders = json::array();
  {
    QueryRun rows(*conn, Query::kCustomerOrders, call.stages, observer_);
    rows.Bind(1, id).Bind(2, limit);
    while (rows.Step()) {
      orders.push_back(json{{"id", rows.Int(0)},
                            {"amount_cents", rows.Int(1)},
                            {"status", rows.Text(2)},
                            {"created_at", rows.Text(3)}});
    }
  }
  // Only an empty list needs telling apart from an unknown customer.
  if (orders.empty() && !CustomerExists(*conn, id, call)) {
    return JsonError(404, "customer " + std::to_string(id) + " not found");
  }
  return ApiReply{200, json{{"customer_id", id}, {"orders", std::move(orders)}}.dump()};
}

ApiReply CrmApi::CreateOrder(std::string_view body, ApiCall& call) {
  nlohmann::json input;
  std::string error, status = "pending";
  int64_t customer_id = 0, cents = 0;
  if (!ParseJsonObject(body, &input, &error)) return JsonError(400, error);
  Field f = IntField(input, "customer_id", 1, INT64_MAX, &customer_id, &error);
  if (f != Field::kPresent)
    return JsonError(400, f == Field::kAbsent ? "customer_id is required" : error);
  f = IntField(input, "amount_cents", 0, 1'000'000'000'000, &cents, &error);
  if (f != Field::kPresent)
    return JsonError(400, f == Field::kAbsent ? "amount_cents is required" : error);
  if (StringField(input, "status", kOrderStatuses, 0, &status, &error) == Field::kInvalid) {
    return JsonError(400, error);
  }
  ConnectionPool::Lease conn = pool_->Acquire();
  if (!CustomerExists(*conn, customer_id, call)) {
    return JsonError(404, "customer " + std::to_string(customer_id) + " not found");
  }
  std::string created_at = NowTimestamp();
  {
    QueryRun insert(*conn, Query::kOrderInsert, call.stages, observer_);
    insert.Bind(1, customer_id).Bind(2, cents).Bind(3, status).Bind(4, created_at);
    insert.Step();
  }
  int64_t id = sqlite3_last_insert_rowid(conn->db());
  InvalidateCustomer(customer_id, call);
  return ApiReply{201, json{{"id", id},
                            {"customer_id", customer_id},
                            {"amount_cents", cents},
                            {"status", status},
                            {"created_at", created_at}}
                           .dump()};
}

ApiReply CrmApi::Health(ApiCall& call) {
  ConnectionPool::Lease conn = pool_->Acquire();
  QueryRun check(*conn, Query::kHealthCheck, call.stages, observer_);
  if (!check.Step() || check.Int(0) < 3) return JsonError(503, "database has no CRM tables");
  return ApiReply{200, R"({"status":"ok"})"};
}

}  // namespace crmscope::crm
