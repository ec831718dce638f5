// A running agent: its configuration loaded, one durable remote-write queue per endpoint, the
// sources collecting on their schedule, and the HTTP endpoint with the agent's own /metrics.
#pragma once

#include <chrono>
#include <memory>
#include <string>

namespace crmscope::agent {

class AgentRuntime {
 public:
  struct Options {
    std::string config_file;
    std::string listen_address = "127.0.0.1:9310";
    std::string storage_path = "data/agent";  // queues go to <storage_path>/queue/<name>
  };

  // Loads the configuration, opens the queues (resending what an earlier run left), starts the
  // sources and the HTTP endpoint. Null with *error naming the file and line, or the address.
  static std::unique_ptr<AgentRuntime> Start(const Options& options, std::string* error);
  ~AgentRuntime();
  AgentRuntime(const AgentRuntime&) = delete;
  AgentRuntime& operator=(const AgentRuntime&) = delete;

  int port() const;  // the HTTP port bound, also when asked for port 0
  // Stops collecting, then keeps sending what is queued for up to `flush`.
  void Stop(std::chrono::milliseconds flush);

  struct State;

 private:
  explicit AgentRuntime(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace crmscope::agent
