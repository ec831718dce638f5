// RAII owners for SQLite handles and the few calls every part of crm-node makes with them.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace crmscope::crm {

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using SqliteDb = std::unique_ptr<sqlite3, SqliteCloser>;
using Statement = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

// A database call that failed on the request path; the server answers it with a 5xx.
class DbError : public std::runtime_error {
 public:
  DbError(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }  // SQLITE_BUSY when a lock outlasted busy_timeout

 private:
  int code_;
};

// How long a connection waits for another's write lock before giving up with SQLITE_BUSY. Long
// enough that a db_lock fault shows up as slow writes rather than failed ones.
inline constexpr int kBusyTimeoutMs = 5000;

// Opens a connection to a crm-node database with the settings every connection shares: WAL
// (readers never wait for the writer, several processes share the file), busy_timeout,
// synchronous=NORMAL (durable at checkpoints, which WAL makes safe from corruption).
SqliteDb OpenCrmDatabase(const std::string& path, bool create, std::string* error);

bool Exec(sqlite3* db, const char* sql, std::string* error);
Statement Prepare(sqlite3* db, std::string_view sql, std::string* error);

}  // namespace crmscope::crm
