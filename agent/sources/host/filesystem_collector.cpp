// node_exporter's "filesystem" collector: statvfs() of every mount in PID 1's mount table (the
// host's, as node_exporter reads it) that the mount point and type filters let through.
#include <re2/re2.h>
#include <sys/statvfs.h>

#include <array>

#include "agent/sources/host/node_collectors.h"
#include "agent/sources/host/proc_file.h"
#include "agent/sources/host/series_table.h"

namespace crmscope::agent::host {

namespace {

enum Field { kSize, kFree, kAvail, kFiles, kFilesFree, kReadonly, kDeviceError, kFieldCount };
struct Family {
  std::string_view name;
  std::string_view help;
};
constexpr std::array<Family, kFieldCount> kFamilies = {{
    {"node_filesystem_size_bytes", "Filesystem size in bytes."},
    {"node_filesystem_free_bytes", "Filesystem free space in bytes."},
    {"node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes."},
    {"node_filesystem_files", "Filesystem total file nodes."},
    {"node_filesystem_files_free", "Filesystem total free file nodes."},
    {"node_filesystem_readonly", "Filesystem read-only status."},
    {"node_filesystem_device_error",
     "Whether an error occurred while getting statistics for the given device."},
}};

// The mount table escapes blanks and backslashes as octal ("\040").
std::string Unescape(std::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      int value = 0;
      bool octal = true;
      for (size_t k = 1; k <= 3; ++k) {
        char c = field[i + k];
        octal = octal && c >= '0' && c <= '7';
        value = value * 8 + (c - '0');
      }
      if (octal) {
        out.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

bool HasOption(std::string_view options, std::string_view wanted) {
  while (!options.empty()) {
    size_t comma = options.find(',');
    if (options.substr(0, comma) == wanted) return true;
    if (comma == std::string_view::npos) break;
    options.remove_prefix(comma + 1);
  }
  return false;
}

class FilesystemCollector final : public NodeCollector {
 public:
  FilesystemCollector(const std::string& proc, const Labels& base,
                      const std::string& mount_points_exclude, const std::string& fs_types_exclude)
      : mounts_path_(proc + "/1/mounts"),
        fallback_path_(proc + "/self/mounts"),
        base_(base),
        mount_points_exclude_(mount_points_exclude),
        fs_types_exclude_(fs_types_exclude) {}

  void Collect(SampleSink& sink) override {
    if (!ReadProcFile(mounts_path_.c_str(), &buffer_) &&
        !ReadProcFile(fallback_path_.c_str(), &buffer_)) {
      return;
    }
    for (const Family& f : kFamilies) sink.Describe(f.name, MetricKind::kGauge, f.help, "");
    mounts_.StartCollection();
    std::string_view text = buffer_, line;
    while (NextLine(&text, &line)) {
      std::string_view device = NextField(&line), mount_point = NextField(&line),
                       fs_type = NextField(&line), options = NextField(&line);
      if (fs_type.empty()) continue;
      key_.assign(device).append(1, '\0').append(mount_point).append(1, '\0').append(fs_type);
      bool duplicate = false;
      SeriesTable::Row& row = mounts_.Find(
          key_,
          [&](SeriesTable::Row& r) {
            std::string path = Unescape(mount_point);
            r.skipped = RE2::PartialMatch(path, mount_points_exclude_) ||
                        RE2::PartialMatch(fs_type, fs_types_exclude_);
            if (r.skipped) return;
            for (const Family& f : kFamilies) {
              r.series.push_back(SeriesLabels(
                  base_, f.name, {{"device", device}, {"fstype", fs_type}, {"mountpoint", path}}));
            }
            r.families = {path};
          },
          &duplicate);
      if (row.skipped || duplicate) continue;
      AddMount(row, HasOption(options, "ro"), sink);
    }
    mounts_.DropUnseen();
  }

 private:
  // As node_exporter: sizes in f_bsize units, and on error only device_error and readonly.
  static void AddMount(const SeriesTable::Row& row, bool readonly, SampleSink& sink) {
    struct statvfs fs {};
    bool error = statvfs(row.families[0].c_str(), &fs) != 0;
    sink.Add(row.series[kDeviceError], error ? 1 : 0);
    sink.Add(row.series[kReadonly], readonly ? 1 : 0);
    if (error) return;
    double block = static_cast<double>(fs.f_bsize);
    sink.Add(row.series[kSize], static_cast<double>(fs.f_blocks) * block);
    sink.Add(row.series[kFree], static_cast<double>(fs.f_bfree) * block);
    sink.Add(row.series[kAvail], static_cast<double>(fs.f_bavail) * block);
    sink.Add(row.series[kFiles], static_cast<double>(fs.f_files));
    sink.Add(row.series[kFilesFree], static_cast<double>(fs.f_ffree));
  }

  std::string mounts_path_, fallback_path_;
  Labels base_;
  RE2 mount_points_exclude_, fs_types_exclude_;
  std::string buffer_;
  std::string key_;
  SeriesTable mounts_;
};

}  // namespace

std::unique_ptr<NodeCollector> MakeFilesystemCollector(const std::string& proc, const Labels& base,
                                                       const std::string& mount_points_exclude,
                                                       const std::string& fs_types_exclude) {
  return std::make_unique<FilesystemCollector>(proc, base, mount_points_exclude, fs_types_exclude);
}

}  // namespace crmscope::agent::host
