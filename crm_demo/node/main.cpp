// crm-node: the demo CRM service (`serve`) and the tool that builds its database (`seed`).
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "common/flags.h"
#include "common/log.h"
#include "crm_demo/node/node_server.h"
#include "crm_demo/node/seed.h"

using namespace crmscope::crm;
namespace log = crmscope::log;
using crmscope::Flags;

namespace {

constexpr const char* kUsage =
    "usage: crm-node seed --db=PATH [flags]     build the CRM database\n"
    "       crm-node serve --db=PATH [flags]    serve the CRM API\n"
    "       crm-node <command> --help           the command's flags\n";

int Fail(const std::string& message) {
  log::Error(message);
  return 1;
}

int Seed(const std::vector<std::string>& args) {
  Flags flags({{"db", "", "Path of the SQLite database to build (replaced if it exists)."},
               {"customers", "100000", "Customers to create."},
               {"orders", "500000", "Orders to create."},
               {"tickets", "100000", "Support tickets to create."},
               {"seed", "42", "Random seed: the same flags build the same database."}});
  std::string error;
  if (!flags.Parse(args, &error)) return Fail(error);
  if (flags.help_requested()) {
    std::fputs(flags.Usage("seed").c_str(), stdout);
    return 0;
  }
  SeedOptions o;
  o.db_path = flags.Get("db");
  int64_t seed = 0;
  if (o.db_path.empty()) return Fail("--db is required");
  if (!flags.GetInt("customers", 1, 100'000'000, &o.customers, &error) ||
      !flags.GetInt("orders", 0, 1'000'000'000, &o.orders, &error) ||
      !flags.GetInt("tickets", 0, 1'000'000'000, &o.tickets, &error) ||
      !flags.GetInt("seed", 0, INT64_MAX, &seed, &error)) {
    return Fail(error);
  }
  o.seed = static_cast<uint64_t>(seed);
  SeedSummary summary;
  if (!SeedCrmDatabase(o, &summary, &error)) return Fail("seeding failed: " + error);
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.2fs", summary.seconds);
  log::Info("Seeded", {{"db", o.db_path},
                       {"customers", std::to_string(o.customers)},
                       {"distinct_names", std::to_string(summary.distinct_names)},
                       {"orders", std::to_string(o.orders)},
                       {"tickets", std::to_string(o.tickets)},
                       {"seed", std::to_string(o.seed)},
                       {"bytes", std::to_string(summary.file_bytes)},
                       {"duration", seconds}});
  return 0;
}

bool ParseServeFlags(const Flags& flags, ServeOptions* o, std::string* error) {
  int64_t capacity = 0, threads = 0, ttl_ms = 0, keep_alive_ms = 0;
  o->db_path = flags.Get("db");
  o->listen_address = flags.Get("web.listen-address");
  o->node_name = flags.Get("node-name");
  o->cache_spec = flags.Get("cache");
  o->admin_token = flags.Get("admin-token");
  if (const std::string& file = flags.Get("admin-token-file"); !file.empty()) {
    if (!o->admin_token.empty()) {
      *error = "--admin-token and --admin-token-file are exclusive";
      return false;
    }
    std::ifstream in(file);
    if (!in || !std::getline(in, o->admin_token) || o->admin_token.empty()) {
      *error = "--admin-token-file " + file + ": cannot read a token from its first line";
      return false;
    }
  }
  const std::string& metrics = flags.Get("metrics");
  if (o->db_path.empty()) {
    *error = "--db is required";
    return false;
  }
  if (metrics != "on" && metrics != "off") {
    *error = "--metrics must be on or off";
    return false;
  }
  o->metrics = metrics == "on";
  if (!flags.GetInt("cache.capacity", 0, 1'000'000'000, &capacity, error) ||
      !flags.GetInt("threads", 1, 1024, &threads, error) ||
      !flags.GetDurationMs("cache.ttl", &ttl_ms, error) ||
      !flags.GetDurationMs("web.keep-alive-timeout", &keep_alive_ms, error)) {
    return false;
  }
  o->cache_capacity = static_cast<size_t>(capacity);
  o->threads = static_cast<int>(threads);
  o->cache_ttl = std::chrono::milliseconds(ttl_ms);
  o->keep_alive_timeout_ms = static_cast<int>(keep_alive_ms);
  return true;
}

int Serve(const std::vector<std::string>& args) {
  Flags flags({{"db", "", "Path of the seeded SQLite database (shared by all nodes)."},
               {"web.listen-address", "127.0.0.1:0", "Address to listen on; port 0 picks one."},
               {"node-name", "node1", "This node's name, in logs and the X-Crm-Node header."},
               {"cache", "lru", "Customer cache: lru, lfu, off or redis://HOST:PORT."},
               {"cache.capacity", "10000", "Cache capacity in entries."},
               {"cache.ttl", "60s", "Cache entry lifetime; 0s for none."},
               {"threads", "16", "HTTP worker threads."},
               {"web.keep-alive-timeout", "5s",
                "How long an idle keep-alive connection holds a "
                "worker; keep a proxy's upstream timeout below."},
               {"admin-token", "", "Bearer token for /admin/faults; empty disables faults."},
               {"admin-token-file", "",
                "File whose first line is the admin token, so it stays out of `ps`."},
               {"metrics", "on", "on, or off to measure the cost of instrumentation."}});
  std::string error;
  if (!flags.Parse(args, &error)) return Fail(error);
  if (flags.help_requested()) {
    std::fputs(flags.Usage("serve").c_str(), stdout);
    return 0;
  }
  ServeOptions options;
  if (!ParseServeFlags(flags, &options, &error)) return Fail(error);
  log::SetProcessField("node", options.node_name);

  // Blocked before any thread starts, so every thread inherits the mask and only sigwait below
  // receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::unique_ptr<NodeServer> server = NodeServer::Start(options, &error);
  if (!server) return Fail(error);
  std::string host = options.listen_address.substr(0, options.listen_address.rfind(':'));
  log::Info("Listening", {{"address", host + ":" + std::to_string(server->port())},
                          {"cache", options.cache_spec},
                          {"metrics", options.metrics ? "on" : "off"}});
  int signal = 0;
  sigwait(&stop_signals, &signal);
  log::Info("Stopping", {{"signal", signal == SIGINT ? "SIGINT" : "SIGTERM"}});
  server.reset();
  log::Info("Stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  std::string command = args[0];
  args.erase(args.begin());
  if (command == "seed") return Seed(args);
  if (command == "serve") return Serve(args);
  std::fprintf(stderr, "unknown command %s\n%s", command.c_str(), kUsage);
  return 2;
}
