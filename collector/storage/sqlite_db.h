// RAII over the SQLite C API: a connection and a prepared statement, each closed by its
// destructor. Errors come back as false plus the database's own message.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace crmscope::storage {

class SqliteStatement;

class SqliteDb {
 public:
  // Opens (creating) the database file with WAL journaling: readers never block the writer.
  static std::unique_ptr<SqliteDb> Open(const std::string& path, bool read_only, std::string* error);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  bool Exec(std::string_view sql, std::string* error);
  std::unique_ptr<SqliteStatement> Prepare(std::string_view sql, std::string* error);
  std::string LastError() const;
  sqlite3* raw() const { return db_; }

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~SqliteStatement();
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  // Binding indices start at 1, as in SQLite. Blobs and text are copied only when `transient`.
  void BindInt(int index, int64_t value);
  void BindBlob(int index, std::string_view bytes);
  void BindText(int index, std::string_view text);
  // Returns true while a row is available; false when done or on error (then ok() is false).
  bool Step();
  bool ok() const { return ok_; }
  void Reset();  // clears bindings too
  int64_t ColumnInt(int col) const;
  std::string_view ColumnBlob(int col) const;
  std::string_view ColumnText(int col) const;
  // Runs a statement that returns no rows; false with the error on failure.
  bool Run(std::string* error);

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  bool ok_ = true;
};

}  // namespace crmscope::storage
