// crm-node seed: deterministic, realistic, fast; and the crm-node binary's command line: seed,
// serve on port 0 with the bound port in its log, clean exit on SIGTERM.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "tests/unit/crm_node_test_fixture.h"

using namespace crm_test;

namespace {

// FNV-1a over every column of every row, in id order.
uint64_t TableChecksum(const std::string& db_path, const std::string& table) {
  std::string error;
  crmscope::crm::SqliteDb db = crmscope::crm::OpenCrmDatabase(db_path, false, &error);
  REQUIRE(db != nullptr);
  crmscope::crm::Statement stmt =
      crmscope::crm::Prepare(db.get(), "SELECT * FROM " + table + " ORDER BY id", &error);
  REQUIRE(stmt != nullptr);
  uint64_t hash = 14695981039346656037ULL;
  auto mix = [&hash](const unsigned char* data, int n) {
    for (int i = 0; i < n; ++i) hash = (hash ^ data[i]) * 1099511628211ULL;
  };
  while (sqlite3_step(stmt.get()) == SQLITE_ROW) {
    for (int c = 0; c < sqlite3_column_count(stmt.get()); ++c) {
      mix(sqlite3_column_text(stmt.get(), c), sqlite3_column_bytes(stmt.get(), c));
      mix(reinterpret_cast<const unsigned char*>("|"), 1);
    }
  }
  return hash;
}

std::string SeedInto(const TempDir& dir, const std::string& name, uint64_t seed, int64_t orders) {
  crmscope::crm::SeedOptions o;
  o.db_path = (dir.path / name).string();
  o.customers = 2000;
  o.orders = orders;
  o.tickets = 500;
  o.seed = seed;
  crmscope::crm::SeedSummary summary;
  std::string error;
  REQUIRE_MESSAGE(crmscope::crm::SeedCrmDatabase(o, &summary, &error), error);
  return o.db_path;
}

}  // namespace

TEST_CASE("the same flags build the same database; another seed another one") {
  TempDir dir;
  std::string a = SeedInto(dir, "a.db", 42, 5000);
  std::string b = SeedInto(dir, "b.db", 42, 5000);
  std::string c = SeedInto(dir, "c.db", 43, 5000);
  std::string d = SeedInto(dir, "d.db", 42, 7000);
  for (const char* table : {"customers", "orders", "tickets"}) {
    CAPTURE(table);
    CHECK(TableChecksum(a, table) == TableChecksum(b, table));
    CHECK(TableChecksum(a, table) != TableChecksum(c, table));
  }
  // Each table has its own random stream: more orders leave the customers as they were.
  CHECK(TableChecksum(a, "customers") == TableChecksum(d, "customers"));
  CHECK(TableChecksum(a, "tickets") == TableChecksum(d, "tickets"));
  CHECK(QueryInt(d, "SELECT count(*) FROM orders") == 7000);
}

TEST_CASE("the seeded database has the schema, WAL mode and realistic distributions") {
  TempDir dir;
  std::string db = SeedInto(dir, "crm.db", 42, 10000);
  CHECK(QueryInt(db, "SELECT count(*) FROM customers") == 2000);
  CHECK(QueryInt(db, "SELECT count(*) FROM orders") == 10000);
  CHECK(QueryInt(db, "SELECT count(*) FROM tickets") == 500);
  CHECK(QueryInt(db,
                 "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN "
                 "('idx_customers_name', 'idx_orders_customer_id', 'idx_tickets_status')") == 3);
  CHECK(QueryInt(db, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'") == 1);
  CHECK_FALSE(std::filesystem::exists(db + ".seeding"));
  // Zipf-like names: the commonest name is far above average, yet most names are rare.
  int64_t top =
      QueryInt(db, "SELECT count(*) c FROM customers GROUP BY name ORDER BY c DESC LIMIT 1");
  int64_t distinct = QueryInt(db, "SELECT count(DISTINCT name) FROM customers");
  CHECK(top >= 10);
  CHECK(top <= 100);
  CHECK(distinct > 700);
  CHECK(QueryInt(db, "SELECT count(*) FROM customers WHERE email NOT LIKE '%_@_%.__%'") == 0);
  // Order counts are skewed over customers, and every order belongs to a customer.
  int64_t busiest =
      QueryInt(db, "SELECT count(*) c FROM orders GROUP BY customer_id ORDER BY c DESC LIMIT 1");
  CHECK(busiest > 5 * 10000 / 2000);
  CHECK(
      QueryInt(db,
               "SELECT count(*) FROM orders WHERE customer_id NOT IN (SELECT id FROM customers)") ==
      0);
  int64_t open = QueryInt(db, "SELECT count(*) FROM tickets WHERE status = 'open'");
  CHECK(open > 50);
  CHECK(open < 150);
}

TEST_CASE("seeding replaces an existing database and its WAL") {
  TempDir dir;
  std::string db = SeedInto(dir, "crm.db", 1, 100);
  std::string again = SeedInto(dir, "crm.db", 2, 200);
  CHECK(QueryInt(again, "SELECT count(*) FROM orders") == 200);
  CHECK(TableChecksum(again, "customers") ==
        TableChecksum(SeedInto(dir, "x.db", 2, 200), "customers"));
}

namespace {

struct Child {
  pid_t pid = -1;
  int stderr_fd = -1;
  ~Child() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    if (stderr_fd >= 0) close(stderr_fd);
  }
};

std::string CrmNodeBinary() { return std::string(CRMSCOPE_BINARY_DIR) + "/crm_demo/node/crm-node"; }

void Spawn(const std::vector<std::string>& args, Child* child) {
  int fds[2];
  REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  child->pid = fork();
  REQUIRE(child->pid >= 0);
  if (child->pid == 0) {
    dup2(fds[1], STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  child->stderr_fd = fds[0];
}

// Reads the child's stderr until `needle` appears or the deadline passes.
std::string ReadUntil(int fd, const std::string& needle, double seconds) {
  std::string text;
  auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (text.find(needle) == std::string::npos && Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

int WaitExit(pid_t pid, double seconds) {
  auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  int status = 0;
  while (Clock::now() < deadline) {
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

}  // namespace

TEST_CASE("crm-node seed and serve: the bound port in the log, a clean exit on SIGTERM") {
  REQUIRE_MESSAGE(std::filesystem::exists(CrmNodeBinary()), "build the crm-node target first");
  TempDir dir;
  std::string db = (dir.path / "crm.db").string();
  {
    Child seed;
    Spawn({CrmNodeBinary(), "seed", "--db=" + db, "--customers=1000", "--orders=3000",
           "--tickets=300"},
          &seed);
    std::string log = ReadUntil(seed.stderr_fd, "msg=Seeded", 60);
    CHECK(log.find("customers=1000") != std::string::npos);
    CHECK(log.find("orders=3000") != std::string::npos);
    CHECK(log.find("duration=") != std::string::npos);
    CHECK(WaitExit(seed.pid, 30) == 0);
    seed.pid = -1;
  }
  for (int sig : {SIGTERM, SIGINT}) {
    CAPTURE(sig);
    Child serve;
    Spawn({CrmNodeBinary(), "serve", "--db=" + db, "--web.listen-address=127.0.0.1:0",
           "--node-name=cli", "--cache=lfu", "--cache.ttl=30s", "--threads=2"},
          &serve);
    std::string log = ReadUntil(serve.stderr_fd, "\n", 30);
    size_t at = log.find("msg=Listening address=127.0.0.1:");
    REQUIRE_MESSAGE(at != std::string::npos, log);
    int port = std::atoi(log.c_str() + at + std::string("msg=Listening address=127.0.0.1:").size());
    REQUIRE(port > 0);
    {
      Client client(port);
      Response r = client.Get("/healthz");
      CHECK(r.status == 200);
      CHECK(r.headers["x-crm-node"] == "cli");
    }
    kill(serve.pid, sig);
    CHECK(WaitExit(serve.pid, 10) == 0);
    serve.pid = -1;
  }
  // Bad flags are refused with a message and a failing status.
  Child bad;
  Spawn({CrmNodeBinary(), "serve", "--db=" + db, "--threads=many"}, &bad);
  CHECK(ReadUntil(bad.stderr_fd, "threads", 10).find("--threads=many") != std::string::npos);
  CHECK(WaitExit(bad.pid, 10) == 1);
  bad.pid = -1;
  Child missing;
  Spawn({CrmNodeBinary(), "serve", "--db=" + (dir.path / "none.db").string()}, &missing);
  CHECK(WaitExit(missing.pid, 10) == 1);
  missing.pid = -1;
}

TEST_CASE("seeding the default sizes takes seconds") {
  TempDir dir;
  crmscope::crm::SeedOptions o;
  o.db_path = (dir.path / "full.db").string();
  crmscope::crm::SeedSummary summary;
  std::string error;
  REQUIRE_MESSAGE(crmscope::crm::SeedCrmDatabase(o, &summary, &error), error);
  MESSAGE("100k customers, 500k orders, 100k tickets seeded in " << summary.seconds << " s, "
                                                                 << summary.file_bytes << " bytes");
  CHECK(summary.seconds < 30);
  CHECK(QueryInt(o.db_path, "SELECT count(*) FROM orders") == 500000);
}
