#include "crm_demo/launcher/run_directory.h"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "crm_demo/node/schema.h"
#include "crm_demo/node/sqlite_handles.h"

namespace crmscope::launcher {

namespace fs = std::filesystem;

namespace {

nlohmann::json SizesJson(const SeedSizes& sizes) {
  return {{"customers", sizes.customers},
          {"orders", sizes.orders},
          {"tickets", sizes.tickets},
          {"seed", sizes.seed}};
}

}  // namespace

RunDirectory RunDirectory::At(const std::string& root) {
  RunDirectory d;
  d.root = root;
  d.logs = root + "/logs";
  d.db_dir = root + "/db";
  d.db_file = d.db_dir + "/crm.db";
  d.seed_record = d.db_dir + "/seed.json";
  d.nginx_prefix = root + "/nginx";
  d.nginx_conf = d.nginx_prefix + "/nginx.conf";
  d.access_log = d.nginx_prefix + "/logs/access.log";
  d.error_log = d.nginx_prefix + "/logs/error.log";
  d.access_log_format = d.nginx_prefix + "/access_log_format.json";
  d.collector_data = root + "/data";
  d.redis_dir = root + "/redis";
  d.agents_dir = root + "/agents";
  d.admin_token = root + "/admin_token";
  d.stack_file = root + "/stack.json";
  return d;
}

bool RunDirectory::Create(std::string* error) const {
  std::error_code ec;
  for (const std::string& dir :
       {logs, db_dir, nginx_prefix + "/logs", nginx_prefix + "/temp", collector_data, redis_dir, agents_dir}) {
    fs::create_directories(dir, ec);
    if (ec) {
      *error = "cannot create " + dir + ": " + ec.message();
      return false;
    }
  }
  return true;
}

bool SeededWith(const RunDirectory& dir, const SeedSizes& sizes) {
  std::error_code ec;
  if (!fs::exists(dir.db_file, ec)) return false;
  std::ifstream in(dir.seed_record);
  nlohmann::json recorded = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  return !recorded.is_discarded() && recorded == SizesJson(sizes);
}

bool RecordSeed(const RunDirectory& dir, const SeedSizes& sizes, std::string* error) {
  return WriteFileAtomically(dir.seed_record, SizesJson(sizes).dump() + "\n", error);
}

bool RestoreIndexes(const std::string& db_file, std::string* error) {
  crm::SqliteDb db = crm::OpenCrmDatabase(db_file, /*create=*/false, error);
  return db && crm::CreateCrmIndexes(db.get(), error);
}

bool WriteAdminToken(const RunDirectory& dir, std::string* token, std::string* error) {
  if (token->empty()) {
    std::random_device random;
    char hex[33];
    for (int i = 0; i < 4; ++i) std::snprintf(hex + 8 * i, 9, "%08x", random());
    *token = hex;
  }
  return WriteFileAtomically(dir.admin_token, *token + "\n", error, 0600);
}

bool WriteFileAtomically(const std::string& path, const std::string& content, std::string* error,
                         unsigned mode) {
  std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    ::chmod(temp.c_str(), static_cast<mode_t>(mode));  // before the content: it may be a secret
    out << content;
    if (!out.flush()) {
      *error = "cannot write " + temp;
      return false;
    }
  }
  std::error_code ec;
  fs::rename(temp, path, ec);
  if (ec) *error = "cannot rename " + temp + " to " + path + ": " + ec.message();
  return !ec;
}

}  // namespace crmscope::launcher
