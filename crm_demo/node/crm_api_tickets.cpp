// Support tickets.
#include <array>
#include <nlohmann/json.hpp>

#include "crm_demo/node/crm_api.h"

namespace crmscope::crm {

namespace {

// Replies keep their keys in the order written (id first), as people read them.
using json = nlohmann::ordered_json;

constexpr std::array<std::string_view, 3> kTicketStatuses = {"open", "pending", "closed"};
constexpr std::array<std::string_view, 4> kPriorities = {"low", "normal", "high", "urgent"};
constexpr size_t kMaxSubjectBytes = 200;

json TicketRow(const QueryRun& row) {
  return json{{"id", row.Int(0)},        {"customer_id", row.Int(1)}, {"status", row.Text(2)},
              {"priority", row.Text(3)}, {"subject", row.Text(4)},    {"created_at", row.Text(5)}};
}

}  // namespace

ApiReply CrmApi::ListTickets(std::string_view query_string, ApiCall& call) {
  std::string status, error;
  Param found = QueryParam(query_string, "status", &status);
  if (found == Param::kAbsent) return JsonError(400, "status is required");
  bool known = false;
  for (std::string_view s : kTicketStatuses) known = known || status == s;
  if (found == Param::kTooLong || !known) {
    return JsonError(400, "status must be one of open pending closed");
  }
  int64_t limit = 0;
  if (!ParseLimit(query_string, 50, 500, &limit, &error)) return JsonError(400, error);
  ConnectionPool::Lease conn = pool_->Acquire();
  json tickets = json::array();
  QueryRun rows(*conn, Query::kTicketsByStatus, call.stages, observer_);
  rows.Bind(1, status).Bind(2, limit);
  while (rows.Step()) tickets.push_back(TicketRow(rows));
  return ApiReply{200, json{{"tickets", std::move(tickets)}}.dump()};
}

ApiReply CrmApi::CreateTicket(std::string_view body, ApiCall& call) {
  nlohmann::json input;
  std::string error, subject, priority = "normal";
  int64_t customer_id = 0;
  if (!ParseJsonObject(body, &input, &error)) return JsonError(400, error);
  Field f = IntField(input, "customer_id", 1, INT64_MAX, &customer_id, &error);
  if (f != Field::kPresent) {
    return JsonError(400, f == Field::kAbsent ? "customer_id is required" : error);
  }
  f = StringField(input, "subject", {}, kMaxSubjectBytes, &subject, &error);
  if (f != Field::kPresent)
    return JsonError(400, f == Field::kAbsent ? "subject is required" : error);
  if (StringField(input, "priority", kPriorities, 0, &priority, &error) == Field::kInvalid) {
    return JsonError(400, error);
  }
  ConnectionPool::Lease conn = pool_->Acquire();
  if (!CustomerExists(*conn, customer_id, call)) {
    return JsonError(404, "customer " + std::to_string(customer_id) + " not found");
  }
  std::string created_at = NowTimestamp();
  {
    QueryRun insert(*conn, Query::kTicketInsert, call.stages, observer_);
    insert.Bind(1, customer_id).Bind(2, priority).Bind(3, subject).Bind(4, created_at);
    insert.Step();
  }
  return ApiReply{201, json{{"id", sqlite3_last_insert_rowid(conn->db())},
                            {"customer_id", customer_id},
                            {"status", "open"},
                            {"priority", priority},
                            {"subject", subject},
                            {"created_at", created_at}}
                           .dump()};
}

ApiReply CrmApi::UpdateTicket(std::string_view id_text, std::string_view body, ApiCall& call) {
  int64_t id = 0;
  if (!ParseId(id_text, &id)) return JsonError(400, "ticket id must be a positive integer");
  nlohmann::json input;
  std::string error, status, priority;
  if (!ParseJsonObject(body, &input, &error)) return JsonError(400, error);
  Field has_status = StringField(input, "status", kTicketStatuses, 0, &status, &error);
  if (has_status == Field::kInvalid) return JsonError(400, error);
  Field has_priority = StringField(input, "priority", kPriorities, 0, &priority, &error);
  if (has_priority == Field::kInvalid) return JsonError(400, error);
  if (has_status == Field::kAbsent && has_priority == Field::kAbsent) {
    return JsonError(400, "nothing to update: give status or priority");
  }
  ConnectionPool::Lease conn = pool_->Acquire();
  {
    QueryRun update(*conn, Query::kTicketUpdate, call.stages, observer_);
    update.Bind(1, id);
    if (has_status == Field::kPresent)
      update.Bind(2, status);
    else
      update.BindNull(2);
    if (has_priority == Field::kPresent)
      update.Bind(3, priority);
    else
      update.BindNull(3);
    update.Step();
  }
  if (sqlite3_changes(conn->db()) == 0) {
    return JsonError(404, "ticket " + std::to_string(id) + " not found");
  }
  QueryRun row(*conn, Query::kTicketGet, call.stages, observer_);
  row.Bind(1, id);
  if (!row.Step()) return JsonError(404, "ticket " + std::to_string(id) + " not found");
  return ApiReply{200, TicketRow(row).dump()};
}

}  // namespace crmscope::crm
