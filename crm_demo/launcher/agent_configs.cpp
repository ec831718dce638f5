#include "crm_demo/launcher/agent_configs.h"

#include <yaml-cpp/yaml.h>

#include "crm_demo/launcher/access_log.h"

namespace crmscope::launcher {

namespace {

void Global(YAML::Emitter& out, int interval_s, const std::string& agent) {
  out << YAML::Key << "global" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "interval" << YAML::Value << std::to_string(interval_s) + "s";
  out << YAML::Key << "external_labels" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "agent" << YAML::Value << agent << YAML::EndMap;
  out << YAML::EndMap;
}

void RemoteWrite(YAML::Emitter& out, const std::string& url) {
  out << YAML::Key << "remote_write" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << "collector";
  out << YAML::Key << "url" << YAML::Value << url;
  // Small batches often: the demo's table and dashboards should move within a second or two.
  out << YAML::Key << "queue_config" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "batch_send_deadline" << YAML::Value << "1s";
  out << YAML::Key << "max_shards" << YAML::Value << 2 << YAML::EndMap;
  out << YAML::EndMap << YAML::EndSeq;
}

}  // namespace

std::string RenderProxyAgentConfig(const ProxyAgentSite& site) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  Global(out, site.interval_s, "proxy");
  out << YAML::Key << "sources" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "nginx_log" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "path" << YAML::Value << site.access_log;
  out << YAML::Key << "log_format" << YAML::Value << YAML::SingleQuoted
      << AccessLogFormatString();
  out << YAML::EndMap << YAML::EndSeq;
  out << YAML::Key << "stub_status" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "url" << YAML::Value << site.stub_status_url << YAML::EndMap
      << YAML::EndSeq;
  out << YAML::Key << "host" << YAML::Value << YAML::BeginMap << YAML::EndMap;
  out << YAML::EndMap;
  RemoteWrite(out, site.collector_write_url);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::string RenderNodeAgentConfig(const NodeAgentSite& site) {
  std::string target = "127.0.0.1:" + std::to_string(site.node_port);
  YAML::Emitter out;
  out << YAML::BeginMap;
  Global(out, site.interval_s, site.node_name);
  out << YAML::Key << "sources" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "scrape" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "job_name" << YAML::Value << "crm-node";
  out << YAML::Key << "static_configs" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "targets" << YAML::Value << YAML::Flow << YAML::BeginSeq << target
      << YAML::EndSeq;
  out << YAML::Key << "labels" << YAML::Value << YAML::BeginMap << YAML::Key << "node"
      << YAML::Value << site.node_name << YAML::EndMap;
  out << YAML::EndMap << YAML::EndSeq << YAML::EndMap << YAML::EndSeq;
  out << YAML::Key << "probes" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << "crm-node-health";
  out << YAML::Key << "url" << YAML::Value << "http://" + target + "/healthz";
  out << YAML::Key << "timeout" << YAML::Value << "2s" << YAML::EndMap << YAML::EndSeq;
  out << YAML::Key << "host" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "processes" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << site.node_name;
  out << YAML::Key << "pidfile" << YAML::Value << site.pid_file;
  out << YAML::EndMap << YAML::EndSeq << YAML::EndMap;
  out << YAML::EndMap;
  RemoteWrite(out, site.collector_write_url);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace crmscope::launcher
