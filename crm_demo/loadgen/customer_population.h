// What the load generator knows about the CRM's data: the customer id range, the ticket id range
// and a pool of customer names whose frequencies are those of the database, so that name
// searches hit common names as often as real users would (many "Smith", few "Okonkwo").
//
// From a seeded crm-node database (opened read-only, never written), or synthesized from a fixed
// list of common first and last names when no database is given.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crmscope::loadgen {

class CustomerPopulation {
 public:
  // Reads up to `max_names` names spread evenly over the customers table. False with *error
  // when the file is not a crm-node database.
  static bool FromDatabase(const std::string& path, size_t max_names, CustomerPopulation* out,
                           std::string* error);
  // Ids 1..customers (and as many tickets), names drawn from Zipf-weighted first/last names.
  static CustomerPopulation Synthetic(uint64_t customers, uint64_t seed);

  uint64_t first_customer_id() const { return first_customer_id_; }
  uint64_t customer_count() const { return customer_count_; }
  uint64_t max_ticket_id() const { return max_ticket_id_; }
  size_t name_count() const { return name_offsets_.empty() ? 0 : name_offsets_.size() - 1; }
  // The i-th name, already percent-encoded for a query string.
  std::string_view encoded_name(size_t i) const;

  void AddName(std::string_view name);  // percent-encodes it

 private:
  uint64_t first_customer_id_ = 1;
  uint64_t customer_count_ = 0;
  uint64_t max_ticket_id_ = 0;
  // One buffer for all names: 100k names cost one allocation, not 100k.
  std::string encoded_names_;
  std::vector<uint32_t> name_offsets_;  // name i is [offsets[i], offsets[i+1])
};

std::string PercentEncode(std::string_view text);

}  // namespace crmscope::loadgen
