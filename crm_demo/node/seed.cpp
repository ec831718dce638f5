#include "crm_demo/node/seed.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <numeric>

#include "crm_demo/node/deterministic_random.h"
#include "crm_demo/node/schema.h"
#include "crm_demo/node/seed_vocabulary.h"
#include "crm_demo/node/sqlite_handles.h"

namespace crmscope::crm {

namespace {

// Customers signed up between 2019-01-01 and 2025-01-01; activity runs to 2026-01-01.
constexpr int64_t kSignupsStart = 1546300800;
constexpr int64_t kSignupsEnd = 1735689600;
constexpr int64_t kActivityEnd = 1767225600;

int64_t CustomerCreatedAt(int64_t id, int64_t customers, SplitMix64& rng) {
  int64_t gap = (kSignupsEnd - kSignupsStart) / customers;
  return kSignupsStart + (id - 1) * gap + static_cast<int64_t>(rng.Below(gap > 0 ? gap : 1));
}

std::string Slug(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

// Spreads Zipf ranks over the id range, so the heaviest customers are not simply ids 1, 2, 3.
class RankScatter {
 public:
  explicit RankScatter(int64_t n) : n_(n), step_(7919) {
    while (std::gcd(step_, n_) != 1) ++step_;
  }
  int64_t IdOf(size_t rank) const { return static_cast<int64_t>(rank) * step_ % n_ + 1; }

 private:
  int64_t n_, step_;
};

void BindText(sqlite3_stmt* stmt, int index, std::string_view text) {
  sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

bool StepInsert(sqlite3* db, sqlite3_stmt* stmt, std::string* error) {
  if (sqlite3_step(stmt) != SQLITE_DONE) {
    *error = sqlite3_errmsg(db);
    return false;
  }
  sqlite3_reset(stmt);
  return true;
}

bool InsertCustomers(sqlite3* db, const SeedOptions& o, std::string* error) {
  Statement insert = Prepare(
      db, "INSERT INTO customers(id, name, email, company, created_at) VALUES (?, ?, ?, ?, ?)",
      error);
  if (!insert) return false;
  SplitMix64 rng(o.seed ^ 0xC057011E55ULL);
  ZipfTable first_names(FirstNames().size(), 0.8), last_names(LastNames().size(), 0.8);
  ZipfTable companies(CompanyStems().size(), 1.1);
  std::string name, email, company;
  for (int64_t id = 1; id <= o.customers; ++id) {
    std::string_view first = FirstNames()[first_names.Sample(rng)];
    std::string_view last = LastNames()[last_names.Sample(rng)];
    std::string_view stem = CompanyStems()[companies.Sample(rng)];
    std::string_view suffix = CompanySuffixes()[rng.Below(CompanySuffixes().size())];
    name.assign(first).append(" ").append(last);
    company.assign(stem).append(" ").append(suffix);
    if (rng.Unit() < 0.3) {
      std::string_view domain = PersonalMailDomains()[rng.Below(PersonalMailDomains().size())];
      email = Slug(first) + "." + Slug(last) + std::to_string(rng.Below(100)) + "@" +
              std::string(domain);
    } else {
      email = Slug(first.substr(0, 1)) + Slug(last) + "@" + Slug(stem) + ".com";
    }
    sqlite3_bind_int64(insert.get(), 1, id);
    BindText(insert.get(), 2, name);
    BindText(insert.get(), 3, email);
    BindText(insert.get(), 4, company);
    BindText(insert.get(), 5, FormatTimestamp(CustomerCreatedAt(id, o.customers, rng)));
    if (!StepInsert(db, insert.get(), error)) return false;
  }
  return true;
}

const char* PickOrderStatus(double u) {
  return u < 0.60   ? "paid"
         : u < 0.85 ? "shipped"
         : u < 0.95 ? "pending"
         : u < 0.99 ? "cancelled"
                    : "refunded";
}

bool InsertOrders(sqlite3* db, const SeedOptions& o, std::string* error) {
  Statement insert = Prepare(
      db,
      "INSERT INTO orders(id, customer_id, amount_cents, status, created_at) VALUES (?,?,?,?,?)",
      error);
  if (!insert) return false;
  SplitMix64 rng(o.seed ^ 0x0DDE125ULL);
  ZipfTable ranks(static_cast<size_t>(o.customers), 0.5);
  RankScatter scatter(o.customers);
  for (int64_t id = 1; id <= o.orders; ++id) {
    int64_t customer = scatter.IdOf(ranks.Sample(rng));
    int64_t cents = static_cast<int64_t>(500.0 * std::pow(1000.0, rng.Unit()));
    int64_t since = kSignupsStart + (customer - 1) * ((kSignupsEnd - kSignupsStart) / o.customers);
    int64_t at =
        since + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(kActivityEnd - since)));
    sqlite3_bind_int64(insert.get(), 1, id);
    sqlite3_bind_int64(insert.get(), 2, customer);
    sqlite3_bind_int64(insert.get(), 3, cents);
    BindText(insert.get(), 4, PickOrderStatus(rng.Unit()));
    BindText(insert.get(), 5, FormatTimestamp(at));
    if (!StepInsert(db, insert.get(), error)) return false;
  }
  return true;
}

bool InsertTickets(sqlite3* db, const SeedOptions& o, std::string* error) {
  Statement insert = Prepare(db,
                             "INSERT INTO tickets(id, customer_id, status, priority, subject, "
                             "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                             error);
  if (!insert) return false;
  SplitMix64 rng(o.seed ^ 0x71C4E75ULL);
  ZipfTable ranks(static_cast<size_t>(o.customers), 0.5);
  RankScatter scatter(o.customers);
  for (int64_t id = 1; id <= o.tickets; ++id) {
    double s = rng.Unit(), p = rng.Unit();
    const char* status = s < 0.2 ? "open" : s < 0.3 ? "pending" : "closed";
    const char* priority = p < 0.3 ? "low" : p < 0.8 ? "normal" : p < 0.95 ? "high" : "urgent";
    int64_t at =
        kSignupsStart +
        static_cast<int64_t>(rng.Below(static_cast<uint64_t>(kActivityEnd - kSignupsStart)));
    sqlite3_bind_int64(insert.get(), 1, id);
    sqlite3_bind_int64(insert.get(), 2, scatter.IdOf(ranks.Sample(rng)));
    BindText(insert.get(), 3, status);
    BindText(insert.get(), 4, priority);
    BindText(insert.get(), 5, TicketSubjects()[rng.Below(TicketSubjects().size())]);
    BindText(insert.get(), 6, FormatTimestamp(at));
    if (!StepInsert(db, insert.get(), error)) return false;
  }
  return true;
}

void RemoveDatabaseFiles(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) unlink((path + suffix).c_str());
}

bool BuildInto(const std::string& path, const SeedOptions& o, SeedSummary* summary,
               std::string* error) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  SqliteDb db(raw);
  if (rc != SQLITE_OK) {
    *error = "cannot create " + path;
    return false;
  }
  // A crash mid-seed leaves only the temporary file, so the bulk load needs no journal.
  if (!Exec(db.get(), "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;", error) ||
      !CreateCrmTables(db.get(), error) || !Exec(db.get(), "BEGIN", error) ||
      !InsertCustomers(db.get(), o, error) || !InsertOrders(db.get(), o, error) ||
      !InsertTickets(db.get(), o, error) || !CreateCrmIndexes(db.get(), error) ||
      !Exec(db.get(), "COMMIT", error) || !Exec(db.get(), "PRAGMA journal_mode=WAL", error)) {
    return false;
  }
  Statement names = Prepare(db.get(), "SELECT count(DISTINCT name) FROM customers", error);
  if (names && sqlite3_step(names.get()) == SQLITE_ROW) {
    summary->distinct_names = sqlite3_column_int64(names.get(), 0);
  }
  return true;
}

}  // namespace

std::string FormatTimestamp(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool SeedCrmDatabase(const SeedOptions& o, SeedSummary* summary, std::string* error) {
  if (o.customers < 1 || o.orders < 0 || o.tickets < 0) {
    *error = "need at least one customer and no negative counts";
    return false;
  }
  auto start = std::chrono::steady_clock::now();
  std::string building = o.db_path + ".seeding";
  RemoveDatabaseFiles(building);
  if (!BuildInto(building, o, summary, error)) {
    RemoveDatabaseFiles(building);
    return false;
  }
  // A stale -wal beside the target would be replayed into the new file: remove it first.
  RemoveDatabaseFiles(o.db_path);
  if (std::rename(building.c_str(), o.db_path.c_str()) != 0) {
    *error = "cannot rename " + building + " to " + o.db_path;
    return false;
  }
  struct stat st {};
  if (stat(o.db_path.c_str(), &st) == 0) summary->file_bytes = st.st_size;
  summary->seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return true;
}

}  // namespace crmscope::crm
