#include "crm_demo/node/schema.h"

#include "crm_demo/node/sqlite_handles.h"

namespace crmscope::crm {

namespace {

// Timestamps are RFC 3339 UTC text: readable in JSON as stored, and ordered as strings.
constexpr const char* kCreateTables = R"sql(
CREATE TABLE IF NOT EXISTS customers (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  company TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL,
  amount_cents INTEGER NOT NULL,
  status TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tickets (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL,
  status TEXT NOT NULL,
  priority TEXT NOT NULL,
  subject TEXT NOT NULL,
  created_at TEXT NOT NULL
);
)sql";

constexpr std::array<IndexDefinition, 3> kIndexes = {{
    {"idx_customers_name", "CREATE INDEX IF NOT EXISTS idx_customers_name ON customers(name)"},
    {"idx_orders_customer_id",
     "CREATE INDEX IF NOT EXISTS idx_orders_customer_id ON orders(customer_id)"},
    {"idx_tickets_status", "CREATE INDEX IF NOT EXISTS idx_tickets_status ON tickets(status)"},
}};

}  // namespace

const std::array<IndexDefinition, 3>& CrmIndexes() { return kIndexes; }

const IndexDefinition* FindCrmIndex(std::string_view name) {
  for (const IndexDefinition& index : kIndexes) {
    if (index.name == name) return &index;
  }
  return nullptr;
}

std::string CrmIndexNames() {
  std::string names;
  for (const IndexDefinition& index : kIndexes) {
    if (!names.empty()) names += ", ";
    names += index.name;
  }
  return names;
}

bool CreateCrmTables(sqlite3* db, std::string* error) { return Exec(db, kCreateTables, error); }

bool CreateCrmIndexes(sqlite3* db, std::string* error) {
  for (const IndexDefinition& index : kIndexes) {
    if (!Exec(db, std::string(index.create_sql).c_str(), error)) return false;
  }
  return true;
}

bool HasCrmTables(sqlite3* db) {
  std::string error;
  Statement stmt = Prepare(db,
                           "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                           "('customers', 'orders', 'tickets')",
                           &error);
  return stmt && sqlite3_step(stmt.get()) == SQLITE_ROW && sqlite3_column_int(stmt.get(), 0) == 3;
}

}  // namespace crmscope::crm
