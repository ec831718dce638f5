// The processes of one demo run, started in dependency order (collector, Redis, nodes, nginx,
// then the load) and stopped in the reverse: the load first so it does not count the shutdown
// as errors, then everything else at once.
//
// Every start waits for its process to answer (the collector's /-/ready, Redis's PING, each
// node's /healthz, nginx's stub_status) with a deadline, and gives up early when the process
// exits or a SIGINT/SIGTERM arrives. Ports are free loopback ports picked by the kernel, the
// nodes' own (they listen on port 0 and log the port they got).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "crm_demo/launcher/child_process.h"
#include "crm_demo/launcher/demo_options.h"
#include "crm_demo/launcher/run_directory.h"
#include "crm_demo/launcher/stop_signals.h"

namespace crmscope::launcher {

struct Binaries {
  std::string crm_node, crm_loadgen, collector, agent;
  std::string nginx = "nginx", redis = "redis-server";
};

// The build tree's binaries (build_dir/crm_demo/node/crm-node, ...); false naming what is missing.
bool FindBinaries(const std::string& build_dir, Binaries* binaries, std::string* error);

struct RunningNode {
  std::string name;  // node1, node2, ...
  std::string url;   // http://127.0.0.1:PORT
  int port = 0;
  ChildProcess* process = nullptr;
};

class DemoStack {
 public:
  DemoStack(const DemoOptions& options, RunDirectory dir, Binaries binaries, StopSignals& signals);
  ~DemoStack();  // Stop()
  DemoStack(const DemoStack&) = delete;
  DemoStack& operator=(const DemoStack&) = delete;

  // Seeds the database if needed and starts everything but the load. False with *error when
  // something failed, or with an empty *error when a stop signal interrupted the start.
  bool Start(std::string* error);
  // Starts crm-loadgen through nginx (nothing when --rate 0).
  bool StartLoad(std::string* error);
  // The first child found to have exited since the last call, or null.
  ChildProcess* ReapExited();
  // Stops every child (idempotent). Returns the names that needed SIGKILL.
  std::vector<std::string> Stop();

  const std::vector<RunningNode>& nodes() const { return nodes_; }
  const RunDirectory& dir() const { return dir_; }
  const std::string& proxy_url() const { return proxy_url_; }
  const std::string& collector_url() const { return collector_url_; }
  const std::string& admin_token() const { return admin_token_; }
  ChildProcess* loadgen() const { return loadgen_; }
  bool database_reused() const { return database_reused_; }

  // stack.json: what a tool or test needs to find and check this run.
  bool WriteStackFile(std::string* error) const;
  // The URLs and paths a user needs, printed once the stack is up.
  std::string Banner(const std::string& dashboards_dir) const;

 private:
  ChildProcess* Spawn(const std::string& name, const std::vector<std::string>& argv,
                      std::string* error);
  bool WaitUntil(ChildProcess& child, const std::string& what, int limit_s,
                 const std::function<bool()>& ready, std::string* error);
  bool PrepareDatabase(std::string* error);
  bool StartCollector(std::string* error);
  bool StartRedis(std::string* error);
  bool StartNode(int index, std::string* error);
  bool StartNginx(std::string* error);
  bool StartAgent(const std::string& name, const std::string& config, std::string* error);
  bool StartAgents(std::string* error);

  DemoOptions options_;
  RunDirectory dir_;
  Binaries binaries_;
  StopSignals& signals_;
  std::vector<std::unique_ptr<ChildProcess>> children_;  // in start order
  std::vector<ChildProcess*> reported_exits_;
  std::vector<RunningNode> nodes_;
  ChildProcess* loadgen_ = nullptr;
  std::vector<ChildProcess*> agents_;
  std::string admin_token_;
  std::string collector_url_, proxy_url_;
  int redis_port_ = 0;
  bool database_reused_ = false;
  bool stopped_ = false;
};

}  // namespace crmscope::launcher
