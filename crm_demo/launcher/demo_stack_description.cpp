// What DemoStack tells the world about itself: stack.json for programs, the banner for people.
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "crm_demo/launcher/demo_stack.h"
#include "crm_demo/launcher/nginx_config.h"

namespace crmscope::launcher {

namespace {

nlohmann::json ProcessJson(const ChildProcess* child) {
  if (child == nullptr) return nullptr;
  // The process group id equals the pid: a test checks that none of these groups survive.
  return {{"pid", child->pid()}, {"pgid", child->pid()}, {"log", child->log_path()}};
}

const ChildProcess* FindChild(const std::vector<std::unique_ptr<ChildProcess>>& children,
                              const std::string& name) {
  for (const auto& child : children) {
    if (child->name() == name) return child.get();
  }
  return nullptr;
}

}  // namespace

bool DemoStack::WriteStackFile(std::string* error) const {
  nlohmann::json nodes = nlohmann::json::array();
  for (const RunningNode& node : nodes_) {
    nodes.push_back({{"name", node.name},
                     {"url", node.url},
                     {"port", node.port},
                     {"process", ProcessJson(node.process)}});
  }
  nlohmann::json processes = nlohmann::json::array();
  for (const auto& child : children_) {
    processes.push_back({{"name", child->name()}, {"pid", child->pid()}, {"pgid", child->pid()}});
  }
  nlohmann::json stack = {
      {"run_dir", dir_.root},
      {"launcher_pid", ::getpid()},
      {"lb", LoadBalancingName(options_.lb)},
      {"cache", options_.cache},
      {"admin_token_file", dir_.admin_token},
      {"db", dir_.db_file},
      {"collector",
       {{"url", collector_url_},
        {"data", dir_.collector_data},
        {"process", ProcessJson(FindChild(children_, "collector"))}}},
      {"nginx",
       {{"url", proxy_url_},
        {"stub_status_url", proxy_url_ + std::string(kStubStatusPath)},
        {"prefix", dir_.nginx_prefix},
        {"config", dir_.nginx_conf},
        {"access_log", dir_.access_log},
        {"error_log", dir_.error_log},
        {"access_log_format", dir_.access_log_format},
        {"process", ProcessJson(FindChild(children_, "nginx"))}}},
      {"nodes", nodes},
      {"redis", redis_port_
                    ? nlohmann::json{{"address", "127.0.0.1:" + std::to_string(redis_port_)},
                                     {"process", ProcessJson(FindChild(children_, "redis"))}}
                    : nlohmann::json(nullptr)},
      {"processes", processes},
  };
  return WriteFileAtomically(dir_.stack_file, stack.dump(2) + "\n", error);
}

std::string DemoStack::Banner(const std::string& dashboards_dir) const {
  std::string out = "crmscope demo: " + std::to_string(nodes_.size()) +
                    " crm-nodes behind nginx (" + LoadBalancingName(options_.lb) + "), cache " +
                    options_.cache + "\n";
  auto line = [&out](const std::string& label, const std::string& value) {
    char head[32];
    std::snprintf(head, sizeof head, "  %-22s", label.c_str());
    out += head + value + "\n";
  };
  line("nginx", proxy_url_ + "   (stub_status " + proxy_url_ + std::string(kStubStatusPath) + ")");
  line("collector API", collector_url_ + "   (/api/v1/series, /api/v1/write, /metrics)");
  line("access log", dir_.access_log);
  line("access log format", dir_.access_log_format);
  for (const RunningNode& node : nodes_) {
    line(node.name, node.url + "   (/metrics, /healthz, /admin/faults)");
  }
  if (redis_port_ != 0) line("redis", "127.0.0.1:" + std::to_string(redis_port_));
  line("admin token", dir_.admin_token + "   (Authorization: Bearer <token>)");
  line("database", dir_.db_file + (database_reused_ ? "   (reused)" : "   (seeded now)"));
  line("logs", dir_.logs + "/");
  line("stack description", dir_.stack_file);
  std::error_code ec;
  line("Grafana provisioning", std::filesystem::is_directory(dashboards_dir, ec)
                                   ? dashboards_dir + "/"
                                   : dashboards_dir + "/ (not shipped yet)");
  return out;
}

}  // namespace crmscope::launcher
