#include "crm_demo/node/crm_queries.h"

namespace crmscope::crm {

namespace {

struct QueryText {
  std::string_view name;
  std::string_view sql;
};

// Orderings follow the index: within one customer_id (or name, or status) index entries are in
// rowid order, so "ORDER BY id DESC LIMIT n" reads n entries and sorts nothing.
constexpr std::array<QueryText, kNumQueries> kQueries = {{
    {"customer_get", "SELECT id, name, email, company, created_at FROM customers WHERE id = ?1"},
    {"customer_order_summary",
     "SELECT count(*), coalesce(sum(amount_cents), 0) FROM orders WHERE customer_id = ?1"},
    {"customers_by_name",
     "SELECT id, name, email, company, created_at FROM customers WHERE name = ?1 "
     "ORDER BY id LIMIT ?2"},
    {"customer_exists", "SELECT 1 FROM customers WHERE id = ?1"},
    {"customer_orders",
     "SELECT id, amount_cents, status, created_at FROM orders WHERE customer_id = ?1 "
     "ORDER BY id DESC LIMIT ?2"},
    {"order_insert",
     "INSERT INTO orders(customer_id, amount_cents, status, created_at) VALUES (?1, ?2, ?3, ?4)"},
    {"tickets_by_status",
     "SELECT id, customer_id, status, priority, subject, created_at FROM tickets "
     "WHERE status = ?1 ORDER BY id DESC LIMIT ?2"},
    {"ticket_get",
     "SELECT id, customer_id, status, priority, subject, created_at FROM tickets WHERE id = ?1"},
    {"ticket_insert",
     "INSERT INTO tickets(customer_id, status, priority, subject, created_at) "
     "VALUES (?1, 'open', ?2, ?3, ?4)"},
    {"ticket_update",
     "UPDATE tickets SET status = coalesce(?2, status), priority = coalesce(?3, priority) "
     "WHERE id = ?1"},
    {"health_check", "SELECT count(*) FROM sqlite_master"},
}};

}  // namespace

std::string_view QueryName(Query query) { return kQueries[static_cast<size_t>(query)].name; }

std::unique_ptr<DbConnection> DbConnection::Open(const std::string& path, std::string* error) {
  auto conn = std::make_unique<DbConnection>();
  conn->db_ = OpenCrmDatabase(path, /*create=*/false, error);
  if (!conn->db_) return nullptr;
  for (size_t i = 0; i < kNumQueries; ++i) {
    conn->statements_[i] = Prepare(conn->db_.get(), kQueries[i].sql, error);
    if (!conn->statements_[i]) return nullptr;
  }
  return conn;
}

ConnectionPool::Lease ConnectionPool::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<DbConnection> conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
  }
  std::string error;
  std::unique_ptr<DbConnection> conn = DbConnection::Open(path_, &error);
  if (!conn) throw DbError(SQLITE_CANTOPEN, error);
  return Lease(this, std::move(conn));
}

void ConnectionPool::Return(std::unique_ptr<DbConnection> conn) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(std::move(conn));
}

QueryRun::QueryRun(DbConnection& conn, Query query, RequestStages* stages, QueryObserver* observer)
    : conn_(conn),
      query_(query),
      stmt_(conn.statement(query)),
      stages_(stages),
      observer_(observer) {
  stages_->db_used = true;
  if (stages_->timed) start_ = SteadyClock::now();
}

QueryRun::~QueryRun() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  // Read with reset, so each execution reports only its own steps.
  uint64_t fullscan =
      static_cast<uint64_t>(sqlite3_stmt_status(stmt_, SQLITE_STMTSTATUS_FULLSCAN_STEP, 1));
  uint64_t vm_steps =
      static_cast<uint64_t>(sqlite3_stmt_status(stmt_, SQLITE_STMTSTATUS_VM_STEP, 1));
  if (!stages_->timed) return;
  auto elapsed = SteadyClock::now() - start_;
  stages_->db_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count();
  if (observer_) {
    observer_->ObserveQuery(query_, std::chrono::duration<double>(elapsed).count(),
                            fullscan + rows_, vm_steps);
  }
}

QueryRun& QueryRun::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

QueryRun& QueryRun::Bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

QueryRun& QueryRun::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

bool QueryRun::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    ++rows_;
    return true;
  }
  if (rc == SQLITE_DONE) return false;
  if (observer_) observer_->CountQueryError(query_);
  throw DbError(rc, std::string(QueryName(query_)) + ": " + sqlite3_errmsg(conn_.db()));
}

std::string_view QueryRun::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  return text ? std::string_view(reinterpret_cast<const char*>(text),
                                 static_cast<size_t>(sqlite3_column_bytes(stmt_, column)))
              : std::string_view();
}

}  // namespace crmscope::crm
