#include "crm_demo/launcher/demo_options.h"

#include <charconv>
#include <cmath>
#include <functional>
#include <string_view>

#include "common/time.h"

namespace crmscope::launcher {

namespace {

// Values parsed after every flag is known: --lb depends on --nodes, faults name nodes.
struct PendingValues {
  std::string lb = "round_robin";
};

using Setter = std::function<bool(std::string_view, DemoOptions*, PendingValues*, std::string*)>;

struct DemoFlag {
  std::string_view name;
  std::string_view placeholder;
  std::string_view help;
  Setter set;
};

template <class T>
bool Number(std::string_view text, T min, T max, T* out, std::string* error) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !(value >= min && value <= max)) {
    *error = "'" + std::string(text) + "' is not a number from " + std::to_string(min) + " to " +
             std::to_string(max);
    return false;
  }
  *out = value;
  return true;
}

bool Duration(std::string_view text, int64_t* ms, std::string* error) {
  return ParseDuration(text, ms, error);
}

const std::vector<DemoFlag>& DemoFlags() {
  static const std::vector<DemoFlag> flags = {
      {"nodes", "N", "crm-nodes behind nginx (default 3).",
       [](auto v, DemoOptions* o, auto*, auto* e) { return Number(v, 1, 16, &o->nodes, e); }},
      {"lb", "METHOD",
       "round_robin (default), weighted:3,2,1 (one weight per node), random, least_conn, ip_hash.",
       [](auto v, auto*, PendingValues* p, auto*) { return p->lb = v, true; }},
      {"cache", "KIND",
       "Customer cache of each node: lru (default), lfu, off, or redis (one "
       "redis-server shared by the nodes).",
       [](auto v, DemoOptions* o, auto*, std::string* e) {
         if (v == "lru" || v == "lfu" || v == "off" || v == "redis") return o->cache = v, true;
         return *e = "want lru, lfu, off or redis", false;
       }},
      {"cache-capacity", "N", "Cache entries per node (default 10000).",
       [](auto v, DemoOptions* o, auto*, auto* e) {
         return Number<int64_t>(v, 1, 1'000'000'000, &o->cache_capacity, e);
       }},
      {"rate", "REQ/S", "Open-loop load through nginx (default 200); 0 starts no load generator.",
       [](auto v, DemoOptions* o, auto*, auto* e) { return Number(v, 0.0, 1e6, &o->rate, e); }},
      {"duration", "DURATION",
       "Run this long after the load starts, then stop (default 90s); "
       "0s runs until Ctrl-C.",
       [](auto v, DemoOptions* o, auto*, auto* e) { return Duration(v, &o->duration_ms, e); }},
      {"fault", "SPEC",
       "NODE:TYPE[{K=V,...}][@START][+DURATION], repeatable; e.g. "
       "node2:drop_index@60s+90s, node1:latency{ms=200}@30s+60s, all:errors{rate=0.1}@10s+20s.",
       [](auto v, DemoOptions* o, auto*, auto* e) {
         PlannedFault fault;
         if (!ParseFaultFlag(v, &fault, e)) return false;
         o->faults.push_back(std::move(fault));
         return true;
       }},
      {"run-dir", "DIR",
       "Run directory: logs, nginx prefix, database, collector data "
       "(default run/demo).",
       [](auto v, DemoOptions* o, auto*, auto*) { return o->run_dir = v, true; }},
      {"customers", "N",
       "Database size (default 100000); the database is seeded again only "
       "when a size or the seed changes.",
       [](auto v, DemoOptions* o, auto*, auto* e) {
         return Number<int64_t>(v, 1, 100'000'000, &o->sizes.customers, e);
       }},
      {"orders", "N", "Orders to seed (default 500000).",
       [](auto v, DemoOptions* o, auto*, auto* e) {
         return Number<int64_t>(v, 0, 1'000'000'000, &o->sizes.orders, e);
       }},
      {"tickets", "N", "Tickets to seed (default 100000).",
       [](auto v, DemoOptions* o, auto*, auto* e) {
         return Number<int64_t>(v, 0, 1'000'000'000, &o->sizes.tickets, e);
       }},
      {"seed", "N", "Seed of the database's contents (default 42).",
       [](auto v, DemoOptions* o, auto*, auto* e) {
         return Number<int64_t>(v, 0, INT64_MAX, &o->sizes.seed, e);
       }},
      {"table-interval", "DURATION", "How often to print the live table (default 5s).",
       [](auto v, DemoOptions* o, auto*, std::string* e) {
         if (!Duration(v, &o->table_interval_ms, e)) return false;
         return o->table_interval_ms >= 500 || (*e = "must be at least 500ms", false);
       }},
      {"nginx-workers", "N", "nginx worker processes (default 1).",
       [](auto v, DemoOptions* o, auto*, auto* e) {
         return Number(v, 1, 64, &o->nginx_workers, e);
       }},
      {"node-threads", "N",
       "HTTP worker threads per crm-node (default 64: one per connection nginx may hold open).",
       [](auto v, DemoOptions* o, auto*, auto* e) {
         return Number(v, 1, 1024, &o->node_threads, e);
       }},
      {"loadgen-args", "'FLAGS'", "Extra crm-loadgen flags, e.g. '--zipf=0.8 --connections=32'.",
       [](auto v, DemoOptions* o, auto*, auto*) { return o->loadgen_args = v, true; }},
      {"build-dir", "DIR",
       "Build tree holding crm-node, crm-loadgen and crmscope-collector "
       "(default: the one this binary is in).",
       [](auto v, DemoOptions* o, auto*, auto*) { return o->build_dir = v, true; }},
      {"admin-token", "TOKEN",
       "Bearer token of the nodes' /admin/faults (default: random, "
       "written to RUN_DIR/admin_token).",
       [](auto v, DemoOptions* o, auto*, auto*) { return o->admin_token = v, true; }},
  };
  return flags;
}

bool CheckFaultNodes(const DemoOptions& options, std::string* error) {
  for (const PlannedFault& fault : options.faults) {
    if (fault.node == "all") continue;
    bool known = false;
    for (int i = 1; i <= options.nodes; ++i) known |= fault.node == "node" + std::to_string(i);
    if (!known) {
      *error = "--fault " + fault.flag + ": no node named " + fault.node + " (node1..node" +
               std::to_string(options.nodes) + ", or all)";
      return false;
    }
    if (options.duration_ms > 0 && fault.start_ms >= options.duration_ms) {
      *error = "--fault " + fault.flag + ": starts after the run ends (--duration " +
               FormatDuration(options.duration_ms) + ")";
      return false;
    }
  }
  return true;
}

}  // namespace

bool ParseDemoOptions(const std::vector<std::string>& args, DemoOptions* options, bool* help,
                      std::string* error) {
  PendingValues pending;
  *help = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "-h" || arg == "--help") return *help = true, true;
    if (arg.substr(0, 2) != "--") return *error = "unexpected argument " + std::string(arg), false;
    arg.remove_prefix(2);
    size_t eq = arg.find('=');
    std::string_view name = arg.substr(0, eq);
    const DemoFlag* flag = nullptr;
    for (const DemoFlag& candidate : DemoFlags()) {
      if (candidate.name == name) flag = &candidate;
    }
    if (flag == nullptr) return *error = "unknown flag --" + std::string(name), false;
    std::string value;
    if (eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return *error = "--" + std::string(name) + " needs a value", false;
    }
    std::string why;
    if (!flag->set(value, options, &pending, &why)) {
      *error = why.rfind("--", 0) == 0 ? why : "--" + std::string(name) + ": " + why;
      return false;
    }
  }
  if (!ParseLoadBalancing(pending.lb, options->nodes, &options->lb, error)) return false;
  return CheckFaultNodes(*options, error);
}

std::string DemoUsage() {
  std::string out =
      "usage: crmscope demo [flags]\n\n"
      "Runs the demo CRM stack on loopback: the crmscope collector, N crm-nodes over one seeded\n"
      "SQLite database, Redis if asked, nginx balancing over the nodes, and crm-loadgen sending\n"
      "load through nginx; injects the --fault schedule and prints a live table. Ctrl-C,\n"
      "--duration or any process dying stops them all.\n\nflags:\n";
  for (const DemoFlag& flag : DemoFlags()) {
    out += "  --" + std::string(flag.name) + " " + std::string(flag.placeholder) + "\n      " +
           std::string(flag.help) + "\n";
  }
  return out;
}

}  // namespace crmscope::launcher
