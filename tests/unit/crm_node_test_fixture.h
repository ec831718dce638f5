// Shared by the crm_node_*_test.cpp files: a small seeded database in a temp dir, a crm-node
// served in-process on a kernel-chosen loopback port, a libcurl client and a /metrics reader.
#pragma once

#include <curl/curl.h>
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "crm_demo/node/node_server.h"
#include "crm_demo/node/seed.h"
#include "crm_demo/node/sqlite_handles.h"

namespace crm_test {

using Clock = std::chrono::steady_clock;

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "crm-node-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// 2k customers, 10k orders, 2k tickets: seeds in well under a second, large enough that a full
// scan stands out from an index lookup by orders of magnitude.
inline std::string SeedSmall(const TempDir& dir, uint64_t seed = 42, int64_t orders = 10000) {
  crmscope::crm::SeedOptions o;
  o.db_path = (dir.path / "crm.db").string();
  o.customers = 2000;
  o.orders = orders;
  o.tickets = 2000;
  o.seed = seed;
  crmscope::crm::SeedSummary summary;
  std::string error;
  REQUIRE_MESSAGE(crmscope::crm::SeedCrmDatabase(o, &summary, &error), error);
  return o.db_path;
}

struct Response {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  double seconds = 0;
};

inline size_t CollectBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

inline size_t CollectHeader(char* data, size_t size, size_t n, void* out) {
  std::string line(data, size * n);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    value.erase(value.find_last_not_of("\r\n") + 1);
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
  }
  return size * n;
}

// One keep-alive connection to one node, like a proxy's upstream connection.
class Client {
 public:
  explicit Client(int port) : base_("http://127.0.0.1:" + std::to_string(port)) {
    curl_ = curl_easy_init();
    REQUIRE(curl_ != nullptr);
  }
  ~Client() { curl_easy_cleanup(curl_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Response Call(const std::string& method, const std::string& path, const std::string& body = "",
                const std::vector<std::string>& headers = {}) {
    Response r;
    std::string url = base_ + path;
    curl_easy_reset(curl_);
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &CollectBody);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &CollectHeader);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &r.headers);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 30L);
    if (!body.empty() || method == "POST" || method == "PATCH") {
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    curl_slist* list = nullptr;
    for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, list);
    auto start = Clock::now();
    CURLcode rc = curl_easy_perform(curl_);
    r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    curl_slist_free_all(list);
    REQUIRE_MESSAGE(rc == CURLE_OK, curl_easy_strerror(rc));
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &r.status);
    return r;
  }
  Response Get(const std::string& path) { return Call("GET", path); }

 private:
  std::string base_;
  CURL* curl_;
};

// "name{labels} value" lines of a /metrics body, by the text before the value.
inline std::map<std::string, double> ParseMetrics(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.rfind(' ');
    out[line.substr(0, space)] = std::strtod(line.c_str() + space + 1, nullptr);
  }
  return out;
}

inline double Metric(const std::map<std::string, double>& metrics, const std::string& series) {
  auto it = metrics.find(series);
  return it == metrics.end() ? NAN : it->second;
}

struct Node {
  std::unique_ptr<crmscope::crm::NodeServer> server;
  int port = 0;
};

inline crmscope::crm::ServeOptions DefaultOptions(const std::string& db_path) {
  crmscope::crm::ServeOptions o;
  o.db_path = db_path;
  o.listen_address = "127.0.0.1:0";
  o.node_name = "test-node";
  o.cache_spec = "lru";
  o.cache_capacity = 1000;
  o.threads = 4;
  o.admin_token = "secret";
  return o;
}

inline Node StartNode(const crmscope::crm::ServeOptions& options) {
  std::string error;
  Node node;
  node.server = crmscope::crm::NodeServer::Start(options, &error);
  REQUIRE_MESSAGE(node.server != nullptr, error);
  node.port = node.server->port();
  REQUIRE(node.port > 0);
  return node;
}

inline std::map<std::string, double> Scrape(Client& client) {
  Response r = client.Get("/metrics");
  REQUIRE(r.status == 200);
  return ParseMetrics(r.body);
}

// One SQL value from the database, for checking the API against the tables.
inline int64_t QueryInt(const std::string& db_path, const std::string& sql) {
  std::string error;
  crmscope::crm::SqliteDb db = crmscope::crm::OpenCrmDatabase(db_path, false, &error);
  REQUIRE_MESSAGE(db != nullptr, error);
  crmscope::crm::Statement stmt = crmscope::crm::Prepare(db.get(), sql, &error);
  REQUIRE_MESSAGE(stmt != nullptr, error);
  return sqlite3_step(stmt.get()) == SQLITE_ROW ? sqlite3_column_int64(stmt.get(), 0) : -1;
}

}  // namespace crm_test
