#include "crm_demo/loadgen/workload.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace crmscope::loadgen {

namespace {

constexpr std::array<std::string_view, kOperationCount> kOperationNames = {
    "get_customer", "search_customers", "list_orders",  "list_tickets",
    "create_order", "create_ticket",    "update_ticket"};

constexpr std::array<std::string_view, 8> kTicketSubjects = {
    "Cannot log in",          "Invoice amount is wrong", "Request for refund",
    "Shipping delayed",       "Change billing address",  "Export to CSV fails",
    "Password reset not received", "Upgrade plan question"};

bool ParseWeight(std::string_view text, double* weight) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *weight);
  return ec == std::errc() && ptr == end && *weight >= 0 && std::isfinite(*weight);
}

}  // namespace

std::string_view OperationName(Operation op) { return kOperationNames[static_cast<size_t>(op)]; }

bool ParseOperation(std::string_view name, Operation* op) {
  for (size_t i = 0; i < kOperationCount; ++i) {
    if (kOperationNames[i] == name) {
      *op = static_cast<Operation>(i);
      return true;
    }
  }
  return false;
}

Mix DefaultMix() { return {50, 15, 15, 10, 5, 3, 2}; }

bool ParseMix(std::string_view text, Mix* mix, std::string* error) {
  Mix parsed{};
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const size_t colon = item.find(':');
    Operation op;
    if (colon == std::string_view::npos || !ParseOperation(item.substr(0, colon), &op)) {
      *error = "expected operation:weight with an operation among get_customer, "
               "search_customers, list_orders, list_tickets, create_order, create_ticket, "
               "update_ticket; got \"" + std::string(item) + "\"";
      return false;
    }
    double weight = 0;
    if (!ParseWeight(item.substr(colon + 1), &weight)) {
      *error = "bad weight in \"" + std::string(item) + "\"";
      return false;
    }
    parsed[static_cast<size_t>(op)] = weight;
  }
  double total = 0;
  for (double w : parsed) total += w;
  if (total <= 0) {
    *error = "the mix gives no operation a weight above 0";
    return false;
  }
  *mix = parsed;
  return true;
}

std::string FormatMix(const Mix& mix) {
  std::string out;
  char buf[32];
  for (size_t i = 0; i < kOperationCount; ++i) {
    if (mix[i] <= 0) continue;
    if (!out.empty()) out += ',';
    out += kOperationNames[i];
    out += ':';
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, mix[i]);
    out.append(buf, end);
  }
  return out;
}

Workload::Workload(const Mix& mix, const CustomerPopulation& population, double zipf_skew,
                   uint64_t seed)
    : population_(population),
      customer_ranks_(population.customer_count(), zipf_skew),
      rank_to_id_(population.first_customer_id(), population.customer_count()),
      rng_(seed) {
  double total = 0;
  for (double w : mix) total += w;
  if (total <= 0) throw std::invalid_argument("workload mix has no weight");
  double running = 0;
  for (size_t i = 0; i < kOperationCount; ++i) {
    running += mix[i] / total;
    mix_cdf_[i] = running;
  }
  // The last operation with a weight must catch rounding at the top.
  for (size_t i = kOperationCount; i-- > 0;) {
    if (mix[i] > 0) {
      for (size_t j = i; j < kOperationCount; ++j) mix_cdf_[j] = 2.0;
      break;
    }
  }
}

uint64_t Workload::CustomerId() { return rank_to_id_(customer_ranks_.Sample(rng_)); }

uint64_t Workload::TicketId() {
  const uint64_t max_id = std::max<uint64_t>(population_.max_ticket_id(), 1);
  return 1 + static_cast<uint64_t>(unit_(rng_) * static_cast<double>(max_id)) % max_id;
}

void Workload::AppendNumber(std::string* out, uint64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out->append(buf, end);
}

void Workload::Next(Request* r) {
  const double pick = unit_(rng_);
  size_t index = 0;
  while (index + 1 < kOperationCount && pick >= mix_cdf_[index]) ++index;
  r->op = static_cast<Operation>(index);
  r->path.clear();
  r->body.clear();
  switch (r->op) {
    case Operation::kGetCustomer:
    case Operation::kListOrders:
      r->method = "GET";
      r->path += "/api/customers/";
      AppendNumber(&r->path, CustomerId());
      if (r->op == Operation::kListOrders) r->path += "/orders";
      break;
    case Operation::kSearchCustomers: {
      r->method = "GET";
      r->path += "/api/customers?name=";
      const size_t n = population_.name_count();
      r->path += population_.encoded_name(static_cast<size_t>(unit_(rng_) * n) % n);
      break;
    }
    case Operation::kListTickets:
      r->method = "GET";
      // Agents' queues: mostly the open tickets, sometimes the ones waiting on customers.
      r->path += unit_(rng_) < 0.8 ? "/api/tickets?status=open&limit=50"
                                   : "/api/tickets?status=pending&limit=50";
      break;
    case Operation::kCreateOrder: {
      r->method = "POST";
      r->path += "/api/orders";
      // Order amounts are log-uniform between $5 and $5000: many small orders, few large.
      const auto cents = static_cast<uint64_t>(500.0 * std::pow(1000.0, unit_(rng_)));
      r->body += "{\"customer_id\":";
      AppendNumber(&r->body, CustomerId());
      r->body += ",\"amount_cents\":";
      AppendNumber(&r->body, cents);
      r->body += '}';
      break;
    }
    case Operation::kCreateTicket: {
      r->method = "POST";
      r->path += "/api/tickets";
      const double p = unit_(rng_);
      const char* priority = p < 0.3 ? "low" : p < 0.85 ? "normal" : "high";
      const size_t subject = static_cast<size_t>(unit_(rng_) * kTicketSubjects.size());
      r->body += "{\"customer_id\":";
      AppendNumber(&r->body, CustomerId());
      r->body += ",\"priority\":\"";
      r->body += priority;
      r->body += "\",\"subject\":\"";
      r->body += kTicketSubjects[subject % kTicketSubjects.size()];
      r->body += "\"}";
      break;
    }
    case Operation::kUpdateTicket: {
      r->method = "PATCH";
      r->path += "/api/tickets/";
      AppendNumber(&r->path, TicketId());
      const double p = unit_(rng_);
      r->body += p < 0.5 ? "{\"status\":\"pending\"}"
                         : p < 0.9 ? "{\"status\":\"closed\"}" : "{\"status\":\"open\"}";
      break;
    }
  }
}

}  // namespace crmscope::loadgen
