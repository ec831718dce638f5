// `crm-node seed`: builds the CRM database deterministically. The same flags give a
// byte-for-byte identical customers table (and orders, tickets), so benchmark runs on separately
// seeded databases compare. Each table draws from its own random stream, so changing --orders
// leaves the customers as they were.
//
// Distributions: names are first + last name drawn from frequency-ordered lists with Zipf
// weights (s = 0.8: about 1% of customers are "James Smith", most names are rare), companies
// Zipf over stems (s = 1.1), customers' order and ticket counts
// Zipf over customers (s = 0.5: a few customers with hundreds of orders, most with a few),
// order amounts log-uniform $5..$5000.
//
// Speed: one transaction, prepared statements, no journal while loading and indexes built
// after the rows; 100k customers, 500k orders, 100k tickets take a few seconds. The database is
// built beside the target and renamed over it only when complete, so a node never sees half a
// seed; it is left in WAL mode, as the nodes share it.
#pragma once

#include <cstdint>
#include <string>

namespace crmscope::crm {

struct SeedOptions {
  std::string db_path;
  int64_t customers = 100000;
  int64_t orders = 500000;
  int64_t tickets = 100000;
  uint64_t seed = 42;
};

struct SeedSummary {
  double seconds = 0;
  int64_t file_bytes = 0;
  int64_t distinct_names = 0;
};

bool SeedCrmDatabase(const SeedOptions& options, SeedSummary* summary, std::string* error);

// RFC 3339 UTC text for Unix seconds, as the tables store timestamps.
std::string FormatTimestamp(int64_t unix_seconds);

}  // namespace crmscope::crm
