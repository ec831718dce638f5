// The HAProxy source against HAProxy itself: CSV captured from HAProxy 2.6, hand-made rows for
// the states and quoting, and a real haproxy on loopback whose stats, read through the socket
// and the stats page, must give the same values as HAProxy's own Prometheus exporter (promex)
// for every series both write.
#include "agent/sources/haproxy/haproxy_source.h"

#include <civetweb.h>
#include <curl/curl.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "agent/sources/haproxy/stats_csv.h"

extern char** environ;

namespace {

using crmscope::Labels;
using crmscope::agent::MetricKind;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Series keyed by their labels without job and instance, which promex does not write.
struct RecordingSink : crmscope::agent::SampleSink {
  std::map<std::string, double> values;
  std::map<std::string, MetricKind> kinds;
  void Add(const Labels& labels, double value) override {
    Labels without = labels;
    std::erase_if(without, [](const auto& l) { return l.name == "job" || l.name == "instance"; });
    CHECK(GetLabel(labels, "job") == "haproxy");
    values[crmscope::LabelsToString(without)] = value;
  }
  void AddAt(const Labels& labels, crmscope::TimestampMs, double value) override {
    Add(labels, value);
  }
  void Describe(std::string_view family, MetricKind kind, std::string_view,
                std::string_view) override {
    kinds[std::string(family)] = kind;
  }
  double at(const std::string& key) const {
    auto it = values.find(key);
    REQUIRE_MESSAGE(it != values.end(), (key + " missing"));
    return it->second;
  }
};

class FixedFetcher : public crmscope::agent::StatsFetcher {
 public:
  explicit FixedFetcher(std::string csv) : csv_(std::move(csv)) {}
  bool Fetch(std::string* csv, std::string* error) override {
    *csv = csv_;
    if (csv_.empty()) *error = "down";
    return !csv_.empty();
  }

 private:
  std::string csv_;
};

RecordingSink CollectCsv(const std::string& csv) {
  crmscope::agent::HaproxyConfig config;
  config.url = "http://127.0.0.1:8404/stats;csv";
  auto source = crmscope::agent::MakeHaproxySource(config, std::make_unique<FixedFetcher>(csv));
  RecordingSink sink;
  source->Collect(1000, sink);
  return sink;
}

// Captured from HAProxy 2.6.12 (Debian 12): frontends stats and fe_main, backend be_app with s1
// (health check failing: DOWN) and s2 (no check, weight 50).
const std::string kCapturedCsv =
    R"csv(# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,
stats,FRONTEND,,,1,1,9985,1,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,1,0,1,,,,0,0,0,0,0,0,,1,1,1,,,0,0,0,0,,,,,,,,,,,,,,,,,,,,,http,,1,1,1,1,0,0,0,,,0,0,,,,,,,0,,,,,,,,,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,1,1,1,88,0,0,0,
fe_main,FRONTEND,,,0,0,9985,0,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,3,0,,,,0,0,0,0,,,,0,0,0,0,0,0,,0,0,0,,,0,0,0,0,,,,,,,,,,,,,,,,,,,,,http,,0,0,0,0,0,0,0,,,0,0,,,,,,,0,,,,,,,,,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
be_app,s1,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1,1,0,1,1,2,2,,1,4,1,,0,,2,0,,0,L4CON,,0,0,0,0,0,0,0,,,,0,0,0,,,,,-1,Connection refused,,0,0,0,0,,,,Layer4 connection problem,,2,3,0,,,,,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,1,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,
be_app,s2,0,0,0,0,,0,0,0,,0,,0,0,0,0,no check,50,1,0,,,2,,,1,4,2,,0,,2,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,,,,,-1,,,0,0,0,0,,,,,,,,,,,,,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,0,50,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,
be_app,BACKEND,0,0,0,0,999,0,0,0,0,0,,0,0,0,0,UP,50,1,0,,0,2,0,,1,4,0,,0,,1,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,0,0,0,0,-1,,,0,0,0,0,,,,,,,,,,,,,,http,,,,,,,,0,0,0,0,0,,,0,0,0,0,0,,,,,50,0,0,0,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
)csv";

// A CivetWeb backend for HAProxy: /ok answers 200, /fail 503, /slow 200 after 30 ms.
int ServeBackend(mg_connection* conn) {
  std::string_view uri = mg_get_request_info(conn)->local_uri;
  if (uri == "/slow") std::this_thread::sleep_for(std::chrono::milliseconds(30));
  int status = uri == "/fail" ? 503 : 200;
  mg_printf(conn, "HTTP/1.1 %d X\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n",
            status);
  return status;
}

class Backend {
 public:
  Backend() {
    mg_init_library(0);
    const char* options[] = {"listening_ports", "127.0.0.1:0", "num_threads", "4", nullptr};
    mg_callbacks callbacks{};
    callbacks.begin_request = &ServeBackend;
    ctx_ = mg_start(&callbacks, nullptr, options);
    REQUIRE(ctx_ != nullptr);
    mg_server_port ports[1]{};
    REQUIRE(mg_get_server_ports(ctx_, 1, ports) == 1);
    port_ = ports[0].port;
  }
  ~Backend() { mg_stop(ctx_); }
  int port() const { return port_; }

 private:
  mg_context* ctx_ = nullptr;
  int port_ = 0;
};

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "haproxy-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() { fs::remove_all(path); }
};

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  close(fd);
  return ntohs(addr.sin_port);
}

class Child {
 public:
  explicit Child(std::vector<std::string> argv) {
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    REQUIRE(posix_spawnp(&pid_, args[0], nullptr, nullptr, args.data(), environ) == 0);
  }
  ~Child() {
    kill(pid_, SIGTERM);
    auto deadline = Clock::now() + std::chrono::seconds(5);
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

 private:
  pid_t pid_ = -1;
};

size_t AppendTo(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

long Get(const std::string& url, std::string* body) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  std::string ignored;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, AppendTo);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, body ? body : &ignored);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 5000L);
  if (curl_easy_perform(curl.get()) != CURLE_OK) return 0;
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  return status;
}

struct Exposition {
  std::map<std::string, double> values;  // LabelsToString -> value; NaN samples left out
  std::map<std::string, std::string> types;
};

// Enough of the text format for promex's output: no escapes in its label values.
Exposition ParseExposition(const std::string& text) {
  Exposition out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.starts_with("# TYPE ")) {
      size_t space = line.find(' ', 7);
      out.types[line.substr(7, space - 7)] = line.substr(space + 1);
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    size_t value_at = line.rfind(' ');
    std::string series = line.substr(0, value_at), value = line.substr(value_at + 1);
    if (value == "NaN") continue;
    size_t brace = series.find('{');
    Labels labels = {{"__name__", series.substr(0, brace)}};
    if (brace != std::string::npos) {
      size_t p = brace + 1;
      while (series[p] != '}') {
        size_t eq = series.find("=\"", p), close = series.find('"', eq + 2);
        labels.push_back({series.substr(p, eq - p), series.substr(eq + 2, close - eq - 2)});
        p = close + 1;
        if (series[p] == ',') ++p;
      }
    }
    crmscope::SortLabels(labels);
    out.values[crmscope::LabelsToString(labels)] = std::stod(value);
  }
  return out;
}

std::string FamilyOf(const std::string& key) { return key.substr(0, key.find('{')); }

class Haproxy {
 public:
  Haproxy(int backend_port)
      : stats_port_(FreePort()), prom_port_(FreePort()), front_port_(FreePort()) {
    std::string d = dir_.path.string();
    int closed_port = FreePort();
    std::ofstream conf(dir_.path / "haproxy.cfg");
    conf << "global\n  stats socket " << d << "/admin.sock mode 600 level admin\n"
         << "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n"
         << "  timeout server 5s\n"
         << "frontend stats\n  bind 127.0.0.1:" << stats_port_
         << "\n  stats enable\n  stats uri /stats\n"
         << "frontend prom\n  bind 127.0.0.1:" << prom_port_
         << "\n  http-request use-service prometheus-exporter\n"
         << "frontend fe_main\n  bind 127.0.0.1:" << front_port_ << "\n  default_backend be_app\n"
         << "backend be_app\n  balance roundrobin\n"
         << "  server s1 127.0.0.1:" << backend_port << " check inter 100ms\n"
         << "  server s2 127.0.0.1:" << closed_port << " check inter 100ms fall 1\n"
         << "  server s3 127.0.0.1:" << closed_port << " disabled\n";
    conf.close();
    child_ = std::make_unique<Child>(
        std::vector<std::string>{"haproxy", "-db", "-f", d + "/haproxy.cfg"});
  }
  std::string socket() const { return (dir_.path / "admin.sock").string(); }
  std::string stats_url() const {
    return "http://127.0.0.1:" + std::to_string(stats_port_) + "/stats";
  }
  std::string prom_url() const {
    return "http://127.0.0.1:" + std::to_string(prom_port_) + "/metrics";
  }
  std::string front_url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(front_port_) + path;
  }

 private:
  TempDir dir_;
  int stats_port_, prom_port_, front_port_;
  std::unique_ptr<Child> child_;
};

}  // namespace

TEST_CASE("haproxy: a real HAProxy through its socket and its stats page, beside promex") {
  Backend backend;
  Haproxy haproxy(backend.port());
  crmscope::agent::HaproxyConfig config;
  config.socket = haproxy.socket();
  config.timeout_ms = 2000;
  auto source = crmscope::agent::MakeHaproxySource(config);
  const std::string s1 = "proxy=\"be_app\", server=\"s1\"", s2 = "proxy=\"be_app\", server=\"s2\"",
                    s3 = "proxy=\"be_app\", server=\"s3\"";
  auto state = [](const RecordingSink& sink, const std::string& server, const char* state) {
    auto it = sink.values.find("haproxy_server_status{" + server + ", state=\"" + state + "\"}");
    return it != sink.values.end() && it->second == 1;
  };
  // Ready when the checks have found s1 up and s2 down.
  auto deadline = Clock::now() + std::chrono::seconds(10);
  for (;;) {
    RecordingSink sink;
    source->Collect(1000, sink);
    if (state(sink, s1, "UP") && state(sink, s2, "DOWN")) break;
    REQUIRE_MESSAGE(Clock::now() < deadline, "haproxy not ready within 10 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  constexpr int kOk = 20, kFail = 5, kSlow = 3;
  for (int i = 0; i < kOk; ++i) REQUIRE(Get(haproxy.front_url("/ok"), nullptr) == 200);
  for (int i = 0; i < kFail; ++i) REQUIRE(Get(haproxy.front_url("/fail"), nullptr) == 503);
  for (int i = 0; i < kSlow; ++i) REQUIRE(Get(haproxy.front_url("/slow"), nullptr) == 200);

  RecordingSink ours;
  source->Collect(2000, ours);
  std::string promex_text;
  REQUIRE(Get(haproxy.prom_url(), &promex_text) == 200);
  Exposition promex = ParseExposition(promex_text);

  CHECK(ours.at("haproxy_up{}") == 1);
  CHECK(ours.at("haproxy_server_http_responses_total{code=\"2xx\", " + s1 + "}") == kOk + kSlow);
  CHECK(ours.at("haproxy_server_http_responses_total{code=\"5xx\", " + s1 + "}") == kFail);
  CHECK(ours.at("haproxy_backend_http_responses_total{code=\"5xx\", proxy=\"be_app\"}") == kFail);
  CHECK(ours.at("haproxy_frontend_http_requests_total{proxy=\"fe_main\"}") == kOk + kFail + kSlow);
  CHECK(ours.at("haproxy_server_sessions_total{" + s1 + "}") == kOk + kFail + kSlow);
  CHECK(ours.at("haproxy_server_max_response_time_seconds{" + s1 + "}") >= 0.03);
  CHECK(ours.at("haproxy_server_max_response_time_seconds{" + s1 + "}") < 1);
  CHECK(state(ours, s1, "UP"));
  CHECK(state(ours, s2, "DOWN"));
  CHECK(state(ours, s3, "MAINT"));

  // Every series both write has the same value; the "prom" frontend serving promex moves.
  std::set<std::string> time_based = {
      "haproxy_server_check_last_change_seconds", "haproxy_backend_check_last_change_seconds",
      "haproxy_server_downtime_seconds_total",    "haproxy_backend_downtime_seconds_total",
      "haproxy_server_last_session_seconds",      "haproxy_backend_last_session_seconds"};
  std::set<std::string> our_families;
  size_t compared = 0;
  for (const auto& [key, value] : ours.values) {
    std::string family = FamilyOf(key);
    our_families.insert(family);
    if (family == "haproxy_up" || key.find("proxy=\"prom\"") != std::string::npos) continue;
    auto it = promex.values.find(key);
    REQUIRE_MESSAGE(it != promex.values.end(), ("promex lacks " + key));
    if (time_based.count(family)) {
      CHECK_MESSAGE(std::abs(it->second - value) <= 2, key);
    } else if (family.ends_with("_time_average_seconds")) {
      // HAProxy 2.6's promex divides the sum by 1024 before 1024 samples exist; the CSV by the
      // samples seen, which we keep: the same value from the 1024th connection on.
      CHECK_MESSAGE(value >= it->second, key);
    } else {
      CHECK_MESSAGE(it->second == doctest::Approx(value), key);
    }
    ++compared;
  }
  CHECK(compared > 150);
  for (const auto& [key, value] : promex.values) {
    if (!our_families.count(FamilyOf(key)) || key.find("proxy=\"prom\"") != std::string::npos) {
      continue;
    }
    CHECK_MESSAGE(ours.values.count(key) == 1, ("we lack " + key));
  }
  for (const std::string& family : our_families) {
    if (family == "haproxy_up") continue;
    CHECK_MESSAGE(
        promex.types[family] == (ours.kinds[family] == MetricKind::kCounter ? "counter" : "gauge"),
        family);
  }

  // The stats page gives the same series (";csv" appended to its URL).
  crmscope::agent::HaproxyConfig page_config;
  page_config.url = haproxy.stats_url();
  auto page_source = crmscope::agent::MakeHaproxySource(page_config);
  RecordingSink page;
  page_source->Collect(3000, page);
  CHECK(page.at("haproxy_up{}") == 1);
  std::set<std::string> socket_keys, page_keys;
  for (const auto& [key, value] : ours.values) socket_keys.insert(key);
  for (const auto& [key, value] : page.values) page_keys.insert(key);
  CHECK(socket_keys == page_keys);
  CHECK(page.at("haproxy_server_http_responses_total{code=\"2xx\", " + s1 + "}") == kOk + kSlow);
}

TEST_CASE("haproxy: a socket nobody serves gives haproxy_up 0") {
  crmscope::agent::HaproxyConfig config;
  config.socket = "/nonexistent/haproxy.sock";
  auto source = crmscope::agent::MakeHaproxySource(config);
  RecordingSink sink;
  source->Collect(1000, sink);
  CHECK(sink.values == std::map<std::string, double>{{"haproxy_up{}", 0}});
  CHECK(std::string(source->name()) == "haproxy:/nonexistent/haproxy.sock");
}

TEST_CASE("haproxy: CSV records split by column name, quotes and trailing commas") {
  std::vector<std::string_view> fields;
  std::string_view text = "a,\"b,\"\"c\"\"\",,d,\ne,f\n";
  size_t used = crmscope::agent::SplitCsvRecord(text, &fields);
  CHECK(used == 16);
  REQUIRE(fields.size() == 5);
  CHECK(fields[0] == "a");
  CHECK(fields[1] == "b,\"\"c\"\"");
  CHECK(fields[2] == "");
  CHECK(fields[3] == "d");
  CHECK(fields[4] == "");

  crmscope::agent::StatsCsv csv;
  std::string error;
  CHECK_FALSE(csv.Reset("<html>", &error));
  CHECK(error == "not HAProxy stats CSV (no \"# pxname,...\" header)");
  REQUIRE(csv.Reset(kCapturedCsv, &error));
  CHECK(csv.Column("pxname") == 0);
  CHECK(csv.Column("rtime") == 60);
  CHECK(csv.Column("h1_spliced_bytes_out") == 127);
  CHECK(csv.Column("no_such_column") == -1);
  std::vector<std::string> rows;
  while (csv.NextRow()) {
    rows.push_back(std::string(csv.Field(0)) + "/" + std::string(csv.Field(1)) + "/" +
                   std::string(csv.Field(csv.Column("status"))));
  }
  CHECK(rows == std::vector<std::string>{"stats/FRONTEND/OPEN", "fe_main/FRONTEND/OPEN",
                                         "be_app/s1/DOWN", "be_app/s2/no check",
                                         "be_app/BACKEND/UP"});
}

TEST_CASE("haproxy: captured CSV as promex's series") {
  RecordingSink sink = CollectCsv(kCapturedCsv);
  CHECK(sink.at("haproxy_up{}") == 1);
  const std::string s1 = "proxy=\"be_app\", server=\"s1\"", s2 = "proxy=\"be_app\", server=\"s2\"";
  CHECK(sink.at("haproxy_server_status{" + s1 + ", state=\"DOWN\"}") == 1);
  CHECK(sink.at("haproxy_server_status{" + s1 + ", state=\"UP\"}") == 0);
  CHECK(sink.at("haproxy_server_status{" + s2 + ", state=\"UP\"}") == 1);
  CHECK(sink.at("haproxy_server_status{" + s2 + ", state=\"MAINT\"}") == 0);
  CHECK(sink.at("haproxy_server_weight{" + s2 + "}") == 50);
  CHECK(sink.at("haproxy_server_check_failures_total{" + s1 + "}") == 1);
  CHECK(sink.at("haproxy_server_check_up_down_total{" + s1 + "}") == 1);
  CHECK(sink.at("haproxy_server_last_session_seconds{" + s1 + "}") == -1);
  CHECK(sink.at("haproxy_backend_weight{proxy=\"be_app\"}") == 50);
  CHECK(sink.at("haproxy_backend_limit_sessions{proxy=\"be_app\"}") == 999);
  CHECK(sink.at("haproxy_backend_active_servers{proxy=\"be_app\"}") == 1);
  CHECK(sink.at("haproxy_backend_status{proxy=\"be_app\", state=\"UP\"}") == 1);
  CHECK(sink.at("haproxy_frontend_status{proxy=\"fe_main\", state=\"UP\"}") == 1);
  CHECK(sink.at("haproxy_frontend_limit_sessions{proxy=\"stats\"}") == 9985);
  CHECK(sink.at("haproxy_frontend_http_requests_total{proxy=\"stats\"}") == 1);
  CHECK(sink.at("haproxy_frontend_http_responses_total{code=\"2xx\", proxy=\"stats\"}") == 0);
  CHECK(sink.at("haproxy_server_http_responses_total{code=\"5xx\", " + s2 + "}") == 0);
  // Empty fields (no check on s2, no maxconn on servers) give no sample, where promex says NaN.
  CHECK(sink.values.count("haproxy_server_check_failures_total{" + s2 + "}") == 0);
  CHECK(sink.values.count("haproxy_server_limit_sessions{" + s1 + "}") == 0);
  // Each kind keeps to its own fields.
  CHECK(sink.values.count("haproxy_frontend_current_queue{proxy=\"fe_main\"}") == 0);
  CHECK(sink.kinds["haproxy_server_connection_errors_total"] == MetricKind::kCounter);
  CHECK(sink.kinds["haproxy_server_current_sessions"] == MetricKind::kGauge);
  CHECK(sink.kinds["haproxy_backend_http_responses_total"] == MetricKind::kCounter);
}

TEST_CASE("haproxy: server states as promex derives them, and milliseconds as seconds") {
  std::string csv =
      "# pxname,svname,status,rtime,qtime_max,hrsp_5xx,check_desc,weight,\n"
      "be,a,UP,12,1500,7,\"refused, twice\",1,\n"
      "be,b,UP 1/3,,,,,2,\n"
      "be,c,DOWN 1/2,,,,,3,\n"
      "be,d,NOLB,,,,,4,\n"
      "be,e,MAINT (via be/a),,,,,5,\n"
      "be,f,DRAIN (agent),,,,,6,\n"
      "be,g,MAINT,,,,,7,\n"
      "be,BACKEND,DOWN,3,,9,,0,\n"
      "fe,FRONTEND,STOP,,,,,,\n";
  RecordingSink sink = CollectCsv(csv);
  auto state_of = [&](const std::string& server) {
    std::string found;
    for (std::string state : {"DOWN", "UP", "MAINT", "DRAIN", "NOLB"}) {
      if (sink.at("haproxy_server_status{proxy=\"be\", server=\"" + server + "\", state=\"" +
                  state + "\"}") == 1) {
        found += state;
      }
    }
    return found;
  };
  CHECK(state_of("a") == "UP");
  CHECK(state_of("b") == "UP");
  CHECK(state_of("c") == "DOWN");
  CHECK(state_of("d") == "NOLB");
  CHECK(state_of("e") == "MAINT");
  CHECK(state_of("f") == "DRAIN");
  CHECK(state_of("g") == "MAINT");
  CHECK(sink.at("haproxy_server_weight{proxy=\"be\", server=\"a\"}") == 1);  // after the quotes
  CHECK(sink.at("haproxy_server_response_time_average_seconds{proxy=\"be\", server=\"a\"}") ==
        doctest::Approx(0.012));
  CHECK(sink.at("haproxy_server_max_queue_time_seconds{proxy=\"be\", server=\"a\"}") ==
        doctest::Approx(1.5));
  CHECK(sink.at("haproxy_server_http_responses_total{code=\"5xx\", proxy=\"be\", server=\"a\"}") ==
        7);
  CHECK(sink.at("haproxy_backend_response_time_average_seconds{proxy=\"be\"}") ==
        doctest::Approx(0.003));
  CHECK(sink.at("haproxy_backend_status{proxy=\"be\", state=\"DOWN\"}") == 1);
  CHECK(sink.at("haproxy_frontend_status{proxy=\"fe\", state=\"DOWN\"}") == 1);
  CHECK(sink.at("haproxy_frontend_status{proxy=\"fe\", state=\"UP\"}") == 0);
}

TEST_CASE("haproxy: what is not stats CSV gives haproxy_up 0 alone") {
  CHECK(CollectCsv("").values == std::map<std::string, double>{{"haproxy_up{}", 0}});
  CHECK(CollectCsv("<html>stats</html>").values ==
        std::map<std::string, double>{{"haproxy_up{}", 0}});
}

TEST_CASE("haproxy: config") {
  crmscope::agent::HaproxyConfig config;
  std::string error;
  REQUIRE(crmscope::agent::ParseHaproxyConfig(
      YAML::Load("url: 'http://127.0.0.1:8404/stats;csv'\ntimeout: 2s\njob: lb"), &config, &error));
  CHECK(config.url == "http://127.0.0.1:8404/stats;csv");
  CHECK(config.timeout_ms == 2000);
  CHECK(config.job == "lb");
  REQUIRE(crmscope::agent::ParseHaproxyConfig(
      YAML::Load("socket: /run/haproxy.sock\ninterval: 10s\nlabels: {site: a}"), &config, &error));
  CHECK(config.socket == "/run/haproxy.sock");
  CHECK(config.interval_ms == 10000);
  CHECK(config.labels == Labels{{"site", "a"}});
  CHECK_FALSE(crmscope::agent::ParseHaproxyConfig(YAML::Load("url: http://x/\nsocket: /s"), &config,
                                                  &error));
  CHECK(error == "1:1: haproxy needs exactly one of url and socket");
  CHECK_FALSE(crmscope::agent::ParseHaproxyConfig(YAML::Load("{}"), &config, &error));
  CHECK(error == "1:1: haproxy needs exactly one of url and socket");
  CHECK_FALSE(
      crmscope::agent::ParseHaproxyConfig(YAML::Load("socket: /s\nsockets: /t"), &config, &error));
  CHECK(error == "2:1: unknown key \"sockets\" in haproxy");
  CHECK_FALSE(
      crmscope::agent::ParseHaproxyConfig(YAML::Load("socket: /s\ntimeout: 0s"), &config, &error));
  CHECK(error == "2:10: timeout must be greater than 0");
}
