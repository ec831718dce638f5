#include "crm_demo/loadgen/customer_population.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <memory>
#include <random>

#include "crm_demo/loadgen/zipf_sampler.h"

namespace crmscope::loadgen {

namespace {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

Stmt Prepare(sqlite3* db, const char* sql, std::string* error) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) {
    *error = std::string(sqlite3_errmsg(db)) + " in: " + sql;
    sqlite3_finalize(stmt);
    return nullptr;
  }
  return Stmt(stmt);
}

// Frequencies roughly follow US census rank shares; the order matters, Zipf weights by position.
constexpr std::array<const char*, 32> kFirstNames = {
    "James",  "Mary",    "Robert", "Patricia", "John",    "Jennifer", "Michael", "Linda",
    "David",  "Elizabeth", "William", "Barbara", "Richard", "Susan",  "Joseph",  "Jessica",
    "Thomas", "Sarah",   "Charles", "Karen",   "Daniel",  "Lisa",     "Matthew", "Nancy",
    "Anthony", "Sandra", "Mark",   "Betty",    "Donald",  "Ashley",   "Steven",  "Emily"};
constexpr std::array<const char*, 40> kLastNames = {
    "Smith",    "Johnson",  "Williams", "Brown",   "Jones",    "Garcia",  "Miller",  "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson",  "Anderson", "Thomas",
    "Taylor",   "Moore",    "Jackson",  "Martin",  "Lee",      "Perez",   "Thompson", "White",
    "Harris",   "Sanchez",  "Clark",    "Ramirez", "Lewis",    "Robinson", "Walker", "Young",
    "Allen",    "King",     "Wright",   "Scott",   "Torres",   "Nguyen",  "Hill",    "Okonkwo"};

bool ReadIdRange(sqlite3* db, uint64_t* first, uint64_t* count, std::string* error) {
  Stmt stmt = Prepare(db, "SELECT min(id), max(id), count(*) FROM customers", error);
  if (!stmt) return false;
  if (sqlite3_step(stmt.get()) != SQLITE_ROW || sqlite3_column_int64(stmt.get(), 2) == 0) {
    *error = "the customers table is empty";
    return false;
  }
  *first = static_cast<uint64_t>(sqlite3_column_int64(stmt.get(), 0));
  // Seeded ids are dense; the range, not the row count, bounds what may be asked for.
  *count = static_cast<uint64_t>(sqlite3_column_int64(stmt.get(), 1)) - *first + 1;
  return true;
}

}  // namespace

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

void CustomerPopulation::AddName(std::string_view name) {
  if (name_offsets_.empty()) name_offsets_.push_back(0);
  encoded_names_ += PercentEncode(name);
  name_offsets_.push_back(static_cast<uint32_t>(encoded_names_.size()));
}

std::string_view CustomerPopulation::encoded_name(size_t i) const {
  return std::string_view(encoded_names_)
      .substr(name_offsets_[i], name_offsets_[i + 1] - name_offsets_[i]);
}

bool CustomerPopulation::FromDatabase(const std::string& path, size_t max_names,
                                      CustomerPopulation* out, std::string* error) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) {
    *error = "cannot open " + path + ": " + (raw ? sqlite3_errmsg(raw) : "out of memory");
    return false;
  }
  sqlite3_busy_timeout(db.get(), 5000);  // crm-node may be writing (WAL) at the same time
  CustomerPopulation population;
  uint64_t first = 0, count = 0;
  if (!ReadIdRange(db.get(), &first, &count, error)) return false;
  population.first_customer_id_ = first;
  population.customer_count_ = count;

  Stmt tickets = Prepare(db.get(), "SELECT coalesce(max(id), 0) FROM tickets", error);
  if (!tickets) return false;
  if (sqlite3_step(tickets.get()) == SQLITE_ROW) {
    population.max_ticket_id_ = static_cast<uint64_t>(sqlite3_column_int64(tickets.get(), 0));
  }

  // Every stride-th customer: an even sample keeps each name's share of the table.
  const uint64_t stride = max_names == 0 ? 1 : (count + max_names - 1) / max_names;
  Stmt names = Prepare(db.get(), "SELECT name FROM customers WHERE (id - ?1) % ?2 = 0", error);
  if (!names) return false;
  sqlite3_bind_int64(names.get(), 1, static_cast<sqlite3_int64>(first));
  sqlite3_bind_int64(names.get(), 2, static_cast<sqlite3_int64>(stride < 1 ? 1 : stride));
  int step = SQLITE_ROW;
  while ((step = sqlite3_step(names.get())) == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(names.get(), 0));
    if (text) population.AddName(text);
  }
  if (step != SQLITE_DONE) {
    *error = std::string("reading customer names: ") + sqlite3_errmsg(db.get());
    return false;
  }
  if (population.name_count() == 0) {
    *error = "no customer names in " + path;
    return false;
  }
  *out = std::move(population);
  return true;
}

CustomerPopulation CustomerPopulation::Synthetic(uint64_t customers, uint64_t seed) {
  CustomerPopulation population;
  population.first_customer_id_ = 1;
  population.customer_count_ = customers < 1 ? 1 : customers;
  population.max_ticket_id_ = population.customer_count_;
  std::mt19937_64 rng(seed ^ 0x6e616d6573ULL);  // not the request stream's sequence
  const ZipfSampler first(kFirstNames.size(), 1.0);
  const ZipfSampler last(kLastNames.size(), 1.0);
  const uint64_t pool = std::min<uint64_t>(population.customer_count_, 20000);
  std::string name;
  for (uint64_t i = 0; i < pool; ++i) {
    name = kFirstNames[first.Sample(rng)];
    name += ' ';
    name += kLastNames[last.Sample(rng)];
    population.AddName(name);
  }
  return population;
}

}  // namespace crmscope::loadgen
