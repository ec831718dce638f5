// The CRM database's schema, shared by the seeder, the node and its drop_index fault: three
// tables and exactly three secondary indexes, each named so a fault can drop and recreate it.
#pragma once

#include <sqlite3.h>

#include <array>
#include <string>
#include <string_view>

namespace crmscope::crm {

struct IndexDefinition {
  std::string_view name;        // "idx_orders_customer_id"
  std::string_view create_sql;  // CREATE INDEX IF NOT EXISTS ...
};

const std::array<IndexDefinition, 3>& CrmIndexes();
const IndexDefinition* FindCrmIndex(std::string_view name);
std::string CrmIndexNames();  // "idx_customers_name, idx_orders_customer_id, ..." for errors

bool CreateCrmTables(sqlite3* db, std::string* error);
bool CreateCrmIndexes(sqlite3* db, std::string* error);
// True when the three tables exist: the file is a seeded crm-node database.
bool HasCrmTables(sqlite3* db);

}  // namespace crmscope::crm
