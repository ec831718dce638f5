// The nginx_log source's tailer: partial lines, where it starts, and both kinds of rotation while
// a writer keeps appending, with every line handed over exactly once.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "agent/sources/nginx_log/log_tailer.h"

using namespace crmscope::agent::nginx_log;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "nginx_log_tailer_XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string File(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

class Lines final : public LineConsumer {
 public:
  void Line(std::string_view line) override { lines.emplace_back(line); }
  std::vector<std::string> lines;
};

void Append(const std::string& path, std::string_view text) {
  FileDescriptor fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
  REQUIRE(fd.valid());
  REQUIRE(::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()));
}

// Counts the lines "line <n> <padding>" a writer produced; each n must come exactly once.
class SeenOnce final : public LineConsumer {
 public:
  explicit SeenOnce(size_t n) : seen_(n, 0) {}
  void Line(std::string_view line) override {
    size_t n = 0;
    if (std::sscanf(std::string(line).c_str(), "line %zu", &n) != 1 || n >= seen_.size()) {
      ++malformed;
      return;
    }
    ++seen_[n];
    ++total;
  }
  size_t Duplicates() const {
    size_t d = 0;
    for (int count : seen_) d += count > 1 ? 1 : 0;
    return d;
  }
  size_t total = 0, malformed = 0;

 private:
  std::vector<int> seen_;
};

// Appends `total` lines as nginx does (O_APPEND), sometimes a line in two writes, never more than
// `credit` lines ahead of what the test allowed, and reopens the path when asked (nginx -s
// reopen). Holding `mu` stops it between two lines.
class Writer {
 public:
  Writer(std::string path, size_t total) : path_(std::move(path)), total_(total) {}
  void Run() {
    std::mt19937 random(42);
    FileDescriptor fd = OpenLog();
    auto deadline = Clock::now() + std::chrono::seconds(60);
    for (size_t i = 0; i < total_ && Clock::now() < deadline;) {
      if (i >= credit.load()) {
        std::this_thread::yield();
        continue;
      }
      std::lock_guard lock(mu);
      if (reopen.exchange(false)) fd = OpenLog();
      std::string line = "line " + std::to_string(i) + " " + std::string(random() % 80, 'x') + "\n";
      size_t split = random() % 4 == 0 ? line.size() / 2 : line.size();
      ssize_t a = ::write(fd.get(), line.data(), split);
      ssize_t b = ::write(fd.get(), line.data() + split, line.size() - split);
      if (a + b != static_cast<ssize_t>(line.size())) break;
      written = ++i;
    }
  }
  std::mutex mu;
  std::atomic<size_t> credit{0}, written{0};
  std::atomic<bool> reopen{false};

 private:
  FileDescriptor OpenLog() {
    return FileDescriptor(::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
  }
  std::string path_;
  size_t total_;
};

enum class Rotation { kRenameAndCreate, kCopyTruncate };

void CopyTruncate(const std::string& path, const std::string& copy) {
  fs::copy_file(path, copy, fs::copy_options::overwrite_existing);
  REQUIRE(::truncate(path.c_str(), 0) == 0);
}

// Runs a writer and rotates its file every `rotate_every` lines while tailing it.
void TailWhileRotating(Rotation rotation, size_t total, size_t rotate_every) {
  TempDir dir;
  const std::string path = dir.File("access.log");
  Append(path, "");
  LogTailer tailer(path, LogTailer::Start::kAtBeginning);
  SeenOnce seen(total);
  Writer writer(path, total);
  std::thread writing([&] { writer.Run(); });

  constexpr size_t kCreditStep = 150;  // lines the writer may run ahead of the tailer's polls
  size_t rotations = 0, next_rotation = rotate_every;
  auto deadline = Clock::now() + std::chrono::seconds(60);
  while (seen.total < total && Clock::now() < deadline) {
    writer.credit = writer.written.load() + kCreditStep;
    if (writer.written.load() >= next_rotation) {
      next_rotation += rotate_every;
      ++rotations;
      if (rotation == Rotation::kRenameAndCreate) {
        // logrotate with `rotate 2`: .1 -> .2, current -> .1, a new empty file, then the reopen
        // signal; the writer keeps writing the old file until it gets to it.
        std::error_code ec;
        fs::rename(path + ".1", path + ".2", ec);
        fs::rename(path, path + ".1");
        Append(path, "");
        // Twice in a row now and then, before the tailer has looked: a chain of rotated files.
        if (rotations % 3 == 0) {
          fs::rename(path + ".1", path + ".2", ec);
          fs::rename(path, path + ".1");
          Append(path, "");
        }
        writer.reopen = true;
      } else {
        // logrotate loses what is written between its copy and its truncate, and what the
        // tailer had not read: the writer pauses for that window, after a last read.
        std::lock_guard lock(writer.mu);
        tailer.Poll(seen, SIZE_MAX);
        CopyTruncate(path, path + ".1");
      }
    }
    tailer.Poll(seen, SIZE_MAX);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  writing.join();
  CHECK(writer.written.load() == total);
  CHECK(rotations >= 5);
  CHECK(seen.malformed == 0);
  CHECK(seen.Duplicates() == 0);
  CHECK(seen.total == total);
  // A double rotation between two polls is one for the tailer: it never saw the file in between.
  if (rotation == Rotation::kRenameAndCreate) CHECK(tailer.rotations() >= rotations * 2 / 3);
  if (rotation == Rotation::kCopyTruncate) CHECK(tailer.truncations() == rotations);
}

}  // namespace

TEST_CASE("a line is handed over only once its newline is written") {
  TempDir dir;
  const std::string path = dir.File("access.log");
  Append(path, "");
  LogTailer tailer(path, LogTailer::Start::kAtBeginning);
  Lines lines;
  Append(path, "first\nsec");
  CHECK(tailer.Poll(lines, SIZE_MAX) == 9);
  REQUIRE(lines.lines.size() == 1);
  CHECK(lines.lines[0] == "first");
  Append(path, "ond");
  tailer.Poll(lines, SIZE_MAX);
  CHECK(lines.lines.size() == 1);
  Append(path, "\nthird\n");
  tailer.Poll(lines, SIZE_MAX);
  REQUIRE(lines.lines.size() == 3);
  CHECK(lines.lines[1] == "second");
  CHECK(lines.lines[2] == "third");
  CHECK(tailer.Poll(lines, SIZE_MAX) == 0);
}

TEST_CASE("the agent starts at the end of an existing log, and at the start of a later one") {
  TempDir dir;
  const std::string path = dir.File("access.log");
  Append(path, "old 1\nold 2\n");
  LogTailer tailer(path, LogTailer::Start::kAtEnd);
  Lines lines;
  tailer.Poll(lines, SIZE_MAX);
  Append(path, "new 1\n");
  tailer.Poll(lines, SIZE_MAX);
  REQUIRE(lines.lines.size() == 1);
  CHECK(lines.lines[0] == "new 1");

  const std::string later = dir.File("later.log");
  LogTailer waiting(later, LogTailer::Start::kAtEnd);
  Lines later_lines;
  CHECK(waiting.Poll(later_lines, SIZE_MAX) == 0);  // missing: not an error
  Append(later, "a\nb\n");
  waiting.Poll(later_lines, SIZE_MAX);
  CHECK(later_lines.lines == std::vector<std::string>{"a", "b"});
}

TEST_CASE("a budget spreads a backlog over several polls without losing a byte") {
  TempDir dir;
  const std::string path = dir.File("access.log");
  std::string backlog;
  for (int i = 0; i < 1000; ++i) backlog += "line " + std::to_string(i) + "\n";
  Append(path, backlog);
  LogTailer tailer(path, LogTailer::Start::kAtBeginning);
  Lines lines;
  size_t polls = 0;
  while (tailer.Poll(lines, 1000) > 0 && polls < 100) ++polls;
  CHECK(polls == (backlog.size() + 999) / 1000);
  REQUIRE(lines.lines.size() == 1000);
  CHECK(lines.lines[999] == "line 999");
}

TEST_CASE("rename-and-create: the old file is finished first, and rotated files are closed") {
  TempDir dir;
  const std::string path = dir.File("access.log");
  Append(path, "a\n");
  LogTailer tailer(path, LogTailer::Start::kAtBeginning);
  Lines lines;
  tailer.Poll(lines, SIZE_MAX);
  fs::rename(path, path + ".1");
  Append(path + ".1", "b (old file, after the rename)\npart");
  Append(path, "c (new file)\n");
  tailer.Poll(lines, SIZE_MAX);
  Append(path + ".1", "ial\n");  // a worker that has not reopened yet
  tailer.Poll(lines, SIZE_MAX);
  tailer.Poll(lines, SIZE_MAX);
  CHECK(lines.lines ==
        std::vector<std::string>{"a", "b (old file, after the rename)", "c (new file)", "partial"});
  CHECK(tailer.rotations() == 1);
  Append(path + ".1", "too late\n");  // the old file is closed by now
  Append(path, "d\n");
  tailer.Poll(lines, SIZE_MAX);
  CHECK(lines.lines.back() == "d");
  CHECK(lines.lines.size() == 5);
}

TEST_CASE("copytruncate: a file shorter than what was read is read again from its start") {
  TempDir dir;
  const std::string path = dir.File("access.log");
  Append(path, "one\ntwo\n");
  LogTailer tailer(path, LogTailer::Start::kAtBeginning);
  Lines lines;
  tailer.Poll(lines, SIZE_MAX);
  CopyTruncate(path, path + ".1");
  Append(path, "3\n");
  tailer.Poll(lines, SIZE_MAX);
  CHECK(lines.lines == std::vector<std::string>{"one", "two", "3"});
  CHECK(tailer.truncations() == 1);
}

TEST_CASE("rename-and-create under continuous writing: every line exactly once") {
  TailWhileRotating(Rotation::kRenameAndCreate, 30000, 2500);
}

TEST_CASE("copytruncate under continuous writing: every line exactly once") {
  TailWhileRotating(Rotation::kCopyTruncate, 30000, 2500);
}
