// Host and process metrics read from /proc, named, typed and labelled as node_exporter 1.5 and
// Prometheus's process collector name them, so the usual dashboards apply:
//
//   cpu:        node_cpu_seconds_total{cpu,mode}, node_cpu_guest_seconds_total{cpu,mode}
//   stat:       node_boot_time_seconds, node_context_switches_total, node_forks_total,
//               node_intr_total, node_procs_running, node_procs_blocked
//   loadavg:    node_load1, node_load5, node_load15
//   meminfo:    node_memory_<Field>_bytes for every kB line of /proc/meminfo
//               (node_memory_MemTotal_bytes, ..._MemAvailable_bytes, ..._Active_anon_bytes),
//               node_memory_<Field> for the unitless ones (HugePages_Total)
//   diskstats:  node_disk_{reads,writes}_completed_total, _read_bytes_total, _written_bytes_total,
//               _io_time_seconds_total, _io_now, ... {device}
//   netdev:     node_network_{receive,transmit}_{bytes,packets,errs,drop,...}_total{device}
//   filesystem: node_filesystem_{size,free,avail}_bytes, _files, _files_free, _readonly,
//               _device_error{device,fstype,mountpoint}
//   processes:  process_cpu_seconds_total, process_resident_memory_bytes,
//               process_virtual_memory_bytes, process_open_fds, process_max_fds,
//               process_start_time_seconds, process_threads {process,pid} for every process
//               found; crmscope_processes{process}, how many were found (0: not running).
//
// process_threads is the name crmscope's own process collector and the Rust and Python client
// libraries use (the Go client has no threads metric; namedprocess_exporter's is a group sum).
// The device and mount point filters default to Debian's node_exporter defaults, so both export
// the same series. Every series carries job (default "node") and instance (default the host
// name), then the configured constant labels.
//
// Config (`sources: host:`, a mapping):
//   collectors: [cpu, stat, loadavg, meminfo, diskstats, netdev, filesystem]   # default: all
//   disk_device_exclude: '^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$'     # RE2, unanchored
//   network_device_exclude: '^lo$'
//   mount_points_exclude: '^/(dev|proc|run|sys|mnt|media|var/lib/docker/.+|...)($|/)'
//   fs_types_exclude: '^(autofs|binfmt_misc|bpf|cgroup2?|...|tracefs)$'
//   processes:
//     - {name: crm-node, pidfile: /run/crm-node.pid}   # the pid the file holds
//     - {name: nginx, comm: nginx}                     # every process whose comm is this
//     - {name: redis-server}                           # comm defaults to the name
//   interval: 1s            # default: the global interval
//   job: node
//   labels: {role: proxy}
//   proc_path: /proc        # node_exporter's --path.procfs
// comm is the kernel's 15-character process name (/proc/PID/comm); longer names match on their
// first 15 characters, as the kernel truncates them. A new process is found on the collection
// after it starts; an old one that takes the name by exec, within 30 collections.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/sources/source.h"
#include "common/labels.h"

namespace crmscope::agent {

struct ProcessMatch {
  std::string name;     // the `process` label
  std::string pidfile;  // either the pid file,
  std::string comm;     // or the command name to look for
};

struct HostConfig {
  // Which node_exporter collectors to run: cpu, stat, loadavg, meminfo, diskstats, netdev,
  // filesystem.
  std::vector<std::string> collectors = {"cpu",       "stat",   "loadavg",   "meminfo",
                                         "diskstats", "netdev", "filesystem"};
  std::string disk_device_exclude = "^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$";
  std::string network_device_exclude = "^lo$";
  std::string mount_points_exclude =
      "^/(dev|proc|run|sys|mnt|media|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)";
  std::string fs_types_exclude =
      "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|"
      "iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|"
      "sysfs|tracefs)$";
  std::vector<ProcessMatch> processes;
  std::string job = "node";
  Labels labels;            // constant labels added to every series (sorted); may set instance
  int64_t interval_ms = 0;  // 0 = global interval
  // Where /proc is (node_exporter's --path.procfs), for a container with the host's /proc
  // mounted elsewhere.
  std::string proc_path = "/proc";
};

// Errors are "LINE:COL: message" (regexps are compiled here). Unknown keys are errors.
bool ParseHostConfig(const YAML::Node& item, HostConfig* out, std::string* error);
std::unique_ptr<Source> MakeHostSource(const HostConfig& config);

}  // namespace crmscope::agent
