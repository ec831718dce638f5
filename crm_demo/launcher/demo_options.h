// The flags of `crmscope demo`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "crm_demo/launcher/fault_plan.h"
#include "crm_demo/launcher/nginx_config.h"

namespace crmscope::launcher {

struct SeedSizes {
  int64_t customers = 100000, orders = 500000, tickets = 100000, seed = 42;
  bool operator==(const SeedSizes&) const = default;
};

struct DemoOptions {
  int nodes = 3;
  LoadBalancing lb;
  std::string cache = "lru";       // lru | lfu | off | redis
  int64_t cache_capacity = 10000;  // entries per node (or in Redis terms, ignored)
  double rate = 200;               // requests/s from crm-loadgen; 0 runs no load generator
  int64_t duration_ms = 90'000;    // 0: until Ctrl-C
  std::vector<PlannedFault> faults;
  std::string run_dir = "run/demo";
  SeedSizes sizes;
  int64_t table_interval_ms = 5000;
  int nginx_workers = 1;
  // CivetWeb holds a worker thread per open connection, idle keep-alive ones included, and
  // nginx keeps up to 32 idle connections per worker on top of those in use: with crm-node's
  // default 16 threads, requests at saturation waited seconds for a thread (18 of 138k took
  // 0.5-3.6 s through nginx at 32 connections); with 64, none took over 0.5 s.
  int node_threads = 64;
  std::string loadgen_args;  // extra crm-loadgen flags, space-separated
  std::string build_dir;     // where the binaries are; default: beside this one
  std::string admin_token;   // default: random, written to the run directory
};

// Flags as --name value or --name=value. Returns false with *error for a bad flag, or sets
// *help when --help was asked.
bool ParseDemoOptions(const std::vector<std::string>& args, DemoOptions* options, bool* help,
                      std::string* error);
std::string DemoUsage();

}  // namespace crmscope::launcher
