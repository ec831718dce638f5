// The demo's run directory, everything a run writes, in one place a user can inspect:
//
//   RUN/stack.json               URLs, ports, pids and paths of the running stack (for tools,
//                                tests and the agent; written once the stack is up)
//   RUN/admin_token              bearer token of the nodes' /admin/faults (mode 0600)
//   RUN/logs/<process>.log       stdout and stderr of each process
//   RUN/db/crm.db, seed.json     the seeded database and the sizes it was seeded with
//   RUN/nginx/                   nginx's prefix: nginx.conf, nginx.pid, temp/, logs/access.log,
//                                logs/error.log, access_log_format.json
//   RUN/data/                    the collector's storage
//   RUN/agents/<agent>.yml, <agent>/   each crmscope-agent's configuration and queue; node<N>.pid
//   RUN/redis/                   redis-server's working directory (--cache redis)
#pragma once

#include <string>
#include <string_view>

#include "crm_demo/launcher/demo_options.h"

namespace crmscope::launcher {

struct RunDirectory {
  std::string root;  // absolute
  std::string logs, db_dir, db_file, seed_record, nginx_prefix, nginx_conf, access_log, error_log,
      access_log_format, collector_data, redis_dir, admin_token, stack_file, agents_dir;

  static RunDirectory At(const std::string& root);
  bool Create(std::string* error) const;
  std::string LogOf(std::string_view process) const {
    return logs + "/" + std::string(process) + ".log";
  }
};

// True when db_file exists and seed_record says it was seeded with `sizes`.
bool SeededWith(const RunDirectory& dir, const SeedSizes& sizes);
bool RecordSeed(const RunDirectory& dir, const SeedSizes& sizes, std::string* error);
// Recreates any of the three indexes a drop_index fault left dropped, which happens when a node
// is killed before the fault ends; a reused database must start healthy.
bool RestoreIndexes(const std::string& db_file, std::string* error);

// `token` when set, else a fresh random one; written to dir.admin_token either way.
bool WriteAdminToken(const RunDirectory& dir, std::string* token, std::string* error);

// Through a temporary file (given `mode` before it is renamed) and rename, so a reader never
// sees half a file.
bool WriteFileAtomically(const std::string& path, const std::string& content, std::string* error,
                         unsigned mode = 0644);

}  // namespace crmscope::launcher
