#include "crm_demo/loadgen/flags.h"

#include <charconv>
#include <cmath>
#include <functional>
#include <optional>
#include <span>
#include <string_view>

#include "common/time.h"

namespace crmscope::loadgen {

namespace {

struct FlagSpec {
  std::string_view name;
  std::string_view placeholder;  // empty: a boolean flag
  std::string_view default_text;
  std::string_view help;
  std::function<bool(std::string_view, Flags*, std::string*)> set;
};

template <class T>
bool ParseNumber(std::string_view text, T* value, std::string* problem) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    *problem = "not a number";
    return false;
  }
  return true;
}

bool ParseBool(std::string_view text, bool* value, std::string* problem) {
  if (text == "true" || text == "1") return *value = true, true;
  if (text == "false" || text == "0") return *value = false, true;
  *problem = "expected true or false";
  return false;
}

bool ParseDurationNs(std::string_view text, int64_t* ns, std::string* problem) {
  int64_t ms = 0;
  if (!ParseDuration(text, &ms, problem)) return false;
  *ns = ms * 1'000'000;
  return true;
}

bool ParseTarget(std::string_view text, std::string* target, std::string* problem) {
  if (text.substr(0, 7) != "http://") {
    *problem = "expected http://host:port";
    return false;
  }
  while (!text.empty() && text.back() == '/') text.remove_suffix(1);
  *target = text;
  return true;
}

const std::vector<FlagSpec>& FlagSpecs() {
  static const std::vector<FlagSpec> specs = {
      {"target", "URL", "http://127.0.0.1:8080", "crm-node (or nginx in front of it) to load.",
       [](auto v, Flags* f, auto* e) { return ParseTarget(v, &f->load.target, e); }},
      {"rate", "REQ/S", "200", "Open loop: requests per second, sent on schedule.",
       [](auto v, Flags* f, auto* e) {
         if (!ParseNumber(v, &f->load.rate, e)) return false;
         if (f->load.rate > 0 && std::isfinite(f->load.rate)) return true;
         *e = "must be above 0";
         return false;
       }},
      {"duration", "DURATION", "60s", "How long to send requests.",
       [](auto v, Flags* f, auto* e) { return ParseDurationNs(v, &f->load.duration_ns, e); }},
      {"connections", "N", "64",
       "Open loop: keep-alive connections in the pool; requests that find all busy wait.",
       [](auto v, Flags* f, auto* e) {
         if (!ParseNumber(v, &f->load.connections, e)) return false;
         if (f->load.connections >= 1) return true;
         *e = "must be at least 1";
         return false;
       }},
      {"closed-loop", "", "", "Each connection sends its next request when the previous ends "
       "(as wrk does), instead of on schedule.",
       [](auto v, Flags* f, auto* e) { return ParseBool(v, &f->load.closed_loop, e); }},
      {"concurrency", "N", "", "Closed loop: connections; default --connections.",
       [](auto v, Flags* f, auto* e) {
         if (!ParseNumber(v, &f->concurrency, e)) return false;
         if (f->concurrency >= 1) return true;
         *e = "must be at least 1";
         return false;
       }},
      {"mix", "OP:WEIGHT,...",
       "get_customer:50,search_customers:15,list_orders:15,list_tickets:10,create_order:5,"
       "create_ticket:3,update_ticket:2",
       "Share of each operation.",
       [](auto v, Flags* f, auto* e) { return ParseMix(v, &f->mix, e); }},
      {"zipf", "SKEW", "1.1", "Zipf exponent of customer popularity; 0 is uniform.",
       [](auto v, Flags* f, auto* e) {
         if (!ParseNumber(v, &f->zipf, e)) return false;
         if (f->zipf >= 0 && std::isfinite(f->zipf)) return true;
         *e = "must be 0 or above";
         return false;
       }},
      {"customers", "N", "100000", "Customer ids 1..N and synthetic names when there is no --db.",
       [](auto v, Flags* f, auto* e) {
         if (!ParseNumber(v, &f->customers, e)) return false;
         if (f->customers >= 1) return true;
         *e = "must be at least 1";
         return false;
       }},
      {"db", "PATH", "", "crm-node's SQLite database, opened read-only for ids and names.",
       [](auto v, Flags* f, auto*) { return f->db = v, true; }},
      {"seed", "N", "1", "Seed of the request sequence; same seed, same requests.",
       [](auto v, Flags* f, auto* e) { return ParseNumber(v, &f->seed, e); }},
      {"json", "FILE", "", "Also write the interval and final figures to FILE as JSON.",
       [](auto v, Flags* f, auto*) { return f->json_file = v, true; }},
      {"report-interval", "DURATION", "5s", "Print figures this often; 0s for only the summary.",
       [](auto v, Flags* f, auto* e) {
         return ParseDurationNs(v, &f->load.report_interval_ns, e);
       }},
      {"header", "\"NAME: VALUE\"", "", "An HTTP header for every request; repeatable.",
       [](auto v, Flags* f, auto* e) {
         const size_t colon = v.find(':');
         if (colon == 0 || colon == std::string_view::npos ||
             v.find_first_of("\r\n") != std::string_view::npos) {
           *e = "expected \"Name: value\"";
           return false;
         }
         f->load.headers.emplace_back(v);
         return true;
       }},
      {"timeout", "DURATION", "10s", "Per request, connecting included.",
       [](auto v, Flags* f, auto* e) {
         if (!ParseDurationNs(v, &f->load.timeout_ns, e)) return false;
         if (f->load.timeout_ns >= 1'000'000) return true;
         *e = "must be at least 1ms";
         return false;
       }},
  };
  return specs;
}

const FlagSpec* FindFlag(std::string_view name) {
  for (const FlagSpec& spec : FlagSpecs()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

}  // namespace

bool ParseFlags(int argc, const char* const* argv, Flags* flags, FlagAction* action,
                std::string* error) {
  *action = FlagAction::kRun;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      *action = FlagAction::kHelp;
      return true;
    }
    if (arg.substr(0, 2) != "--" || arg.size() == 2) {
      *error = "unexpected " + std::string(arg);
      return false;
    }
    std::string_view name = arg.substr(2);
    std::optional<std::string_view> value;
    if (size_t eq = name.find('='); eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const FlagSpec* spec = FindFlag(name);
    if (!spec && name.substr(0, 3) == "no-" && !value) {
      spec = FindFlag(name.substr(3));
      if (spec && spec->placeholder.empty()) {
        spec->set("false", flags, error);
        continue;
      }
      spec = nullptr;
    }
    if (!spec) {
      *error = "unknown long flag '--" + std::string(name) + "'";
      return false;
    }
    if (!value) {
      if (spec->placeholder.empty()) {
        value = "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        *error = "expected argument for flag '--" + std::string(spec->name) + "'";
        return false;
      }
    }
    std::string problem;
    if (!spec->set(*value, flags, &problem)) {
      *error = "invalid value \"" + std::string(*value) + "\" for flag '--" +
               std::string(spec->name) + "': " + problem;
      return false;
    }
  }
  return true;
}

std::string FlagsUsage() {
  std::string out =
      "usage: crm-loadgen --target=URL [<flags>]\n\n"
      "Load generator for the demo CRM (crm-node). By default an open loop: requests leave on\n"
      "a fixed schedule and latency counts from the scheduled time, so a stalled server shows\n"
      "its stall. Prints per-operation rate, status classes, errors and p50/p90/p99/p99.9/max\n"
      "every --report-interval and at the end (also on Ctrl-C).\n\nFlags:\n"
      "  -h, --help  Show context-sensitive help.\n";
  for (const FlagSpec& spec : FlagSpecs()) {
    out += "      --";
    if (spec.placeholder.empty()) out += "[no-]";
    out += spec.name;
    if (!spec.placeholder.empty()) {
      out += '=';
      out += spec.default_text.empty() ? std::string(spec.placeholder)
                                       : "\"" + std::string(spec.default_text) + "\"";
    }
    out += "\n          ";
    out += spec.help;
    out += '\n';
  }
  return out;
}

}  // namespace crmscope::loadgen
