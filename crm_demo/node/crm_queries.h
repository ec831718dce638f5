// crm-node's SQL: every statement the node runs has a name (the `query` label of the crm_db_*
// metrics), its text here, and one prepared copy per connection.
//
// Connections: SQLite connections are not shared between threads, so a pool hands each request
// a connection of its own and takes it back after; the pool grows to the number of worker
// threads and no further. All connections, in every node process, open the same WAL database.
//
// Rows scanned: SQLite does not report rows visited through an index, only the steps of full
// scans (SQLITE_STMTSTATUS_FULLSCAN_STEP). rows_scanned is those steps plus the rows the
// statement returned, i.e. MySQL's "rows examined" for the statements here: an indexed lookup
// scans about the rows it returns, the same query after its index is dropped scans the table.
// On a 100k-customer database, GET /api/customers/{id}/orders goes from ~5 to ~500k rows
// scanned per request. VM steps (SQLITE_STMTSTATUS_VM_STEP), the statement's total work in
// bytecode instructions, are counted beside it.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "crm_demo/node/request_stages.h"
#include "crm_demo/node/sqlite_handles.h"

namespace crmscope::crm {

enum class Query : uint8_t {
  kCustomerGet,
  kCustomerOrderSummary,
  kCustomersByName,
  kCustomerExists,
  kCustomerOrders,
  kOrderInsert,
  kTicketsByStatus,
  kTicketGet,
  kTicketInsert,
  kTicketUpdate,
  kHealthCheck,
};
inline constexpr size_t kNumQueries = 11;

std::string_view QueryName(Query query);  // "customer_get", the metrics' label value

// Per-query accounting; implemented by the node's metrics, absent with --metrics=off.
class QueryObserver {
 public:
  virtual ~QueryObserver() = default;
  virtual void ObserveQuery(Query query, double seconds, uint64_t rows_scanned,
                            uint64_t vm_steps) = 0;
  virtual void CountQueryError(Query query) = 0;
};

class DbConnection {
 public:
  static std::unique_ptr<DbConnection> Open(const std::string& path, std::string* error);
  sqlite3* db() const { return db_.get(); }
  sqlite3_stmt* statement(Query query) const {
    return statements_[static_cast<size_t>(query)].get();
  }

 private:
  SqliteDb db_;
  std::array<Statement, kNumQueries> statements_;
};

class ConnectionPool {
 public:
  explicit ConnectionPool(std::string path) : path_(std::move(path)) {}

  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<DbConnection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (conn_) pool_->Return(std::move(conn_));
    }
    DbConnection& operator*() const { return *conn_; }
    DbConnection* operator->() const { return conn_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<DbConnection> conn_;
  };

  // An idle connection, or a new one; throws DbError when the database cannot be opened.
  Lease Acquire();

 private:
  void Return(std::unique_ptr<DbConnection> conn);

  const std::string path_;
  std::mutex mu_;
  std::vector<std::unique_ptr<DbConnection>> idle_;
};

// One execution of a named statement: bind, Step() through the rows; on destruction the
// statement is reset and its time, rows scanned and VM steps are accounted to the query and
// the request's db stage. Step() throws DbError on failure (after accounting it).
class QueryRun {
 public:
  QueryRun(DbConnection& conn, Query query, RequestStages* stages, QueryObserver* observer);
  ~QueryRun();
  QueryRun(const QueryRun&) = delete;
  QueryRun& operator=(const QueryRun&) = delete;

  sqlite3_stmt* stmt() const { return stmt_; }
  QueryRun& Bind(int index, int64_t value);
  QueryRun& Bind(int index, std::string_view text);
  QueryRun& BindNull(int index);
  bool Step();  // true with a row to read

  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string_view Text(int column) const;

 private:
  DbConnection& conn_;
  Query query_;
  sqlite3_stmt* stmt_;
  RequestStages* stages_;
  QueryObserver* observer_;
  uint64_t rows_ = 0;
  SteadyClock::time_point start_{};
};

}  // namespace crmscope::crm
