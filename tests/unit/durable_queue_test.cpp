// The remote-write sender's on-disk queue: order, resuming from the checkpoint, surviving
// kill -9, cutting off a torn tail, and the max_bytes bound dropping the oldest unread data.
#include "exporters/remote_write/durable_queue.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

using namespace crmscope::remote_write;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "crmscope-queue-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() { fs::remove_all(path); }
};

std::unique_ptr<DurableQueue> OpenQueue(const fs::path& dir, uint64_t max_bytes = 1 << 20,
                                        uint64_t segment_bytes = 0) {
  std::string error;
  auto queue = DurableQueue::Open(
      {.dir = dir.string(), .max_bytes = max_bytes, .segment_bytes = segment_bytes}, &error);
  INFO(error);
  REQUIRE(queue);
  return queue;
}

std::string Payload(int i) { return "record-" + std::to_string(i) + std::string(i % 7, 'x'); }

void AppendRecords(DurableQueue& queue, int from, int to, uint32_t samples = 1) {
  for (int i = from; i < to; ++i) {
    DurableQueue::Dropped dropped;
    std::string error;
    REQUIRE_MESSAGE(queue.Append(Payload(i), samples, 0, &dropped, &error), error);
  }
}

std::vector<QueueRecord> ReadAll(DurableQueue& queue) {
  std::vector<QueueRecord> records;
  QueueRecord record;
  while (queue.Read(&record)) records.push_back(record);
  return records;
}

std::vector<std::string> Payloads(const std::vector<QueueRecord>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.payload);
  return out;
}

std::vector<std::string> Expected(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) out.push_back(Payload(i));
  return out;
}

fs::path LastSegment(const fs::path& dir) {
  fs::path last;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".seg" && entry.path() > last) last = entry.path();
  }
  return last;
}

}  // namespace

TEST_CASE("records come back in order, across segments, with their counts") {
  TempDir dir;
  auto queue = OpenQueue(dir.path, 1 << 20, 256);  // several records per 256-byte segment
  AppendRecords(*queue, 0, 100, 3);
  std::vector<QueueRecord> records = ReadAll(*queue);
  CHECK(Payloads(records) == Expected(0, 100));
  CHECK(records.back().samples == 3);
  CHECK(records.back().end.segment > records.front().end.segment);
  CHECK(queue->caught_up());
  CHECK_FALSE(queue->drained());
  CHECK(queue->pending_bytes() == queue->bytes());
  std::string error;
  REQUIRE(queue->Commit(records[49].end, {}, &error));
  CHECK(queue->pending_bytes() < queue->bytes());
  REQUIRE(queue->Commit(records.back().end, {}, &error));
  CHECK(queue->drained());
  CHECK(queue->pending_bytes() == 0);
  // Delivered segments are deleted; only the one being appended to stays.
  int segments = 0;
  for (const auto& entry : fs::directory_iterator(dir.path)) segments += entry.path().extension() == ".seg";
  CHECK(segments == 1);
}

TEST_CASE("a reopened queue resumes after the committed position") {
  TempDir dir;
  QueuePosition delivered;
  {
    auto queue = OpenQueue(dir.path, 1 << 20, 256);
    AppendRecords(*queue, 0, 50);
    std::vector<QueueRecord> records = ReadAll(*queue);
    REQUIRE(records.size() == 50);
    delivered = records[29].end;  // 30 delivered, 20 read but in flight when the process stops
    std::string error;
    REQUIRE(queue->Commit(delivered, {records[39].end, delivered}, &error));
    // A position behind the committed one does not move it back, but the lanes are kept.
    REQUIRE(queue->Commit(records[10].end, {records[40].end, delivered}, &error));
  }
  auto queue = OpenQueue(dir.path, 1 << 20, 256);
  CHECK(queue->committed() == delivered);
  REQUIRE(queue->lanes_at_open().size() == 2);
  CHECK(queue->lanes_at_open()[0] > delivered);
  CHECK(queue->lanes_at_open()[1] == delivered);
  CHECK(Payloads(ReadAll(*queue)) == Expected(30, 50));
  AppendRecords(*queue, 50, 60);
  CHECK(Payloads(ReadAll(*queue)) == Expected(50, 60));
}

TEST_CASE("appends survive kill -9 of the appending process") {
  TempDir dir;
  constexpr int kRecords = 500;
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::string error;
    auto queue = DurableQueue::Open({.dir = dir.path.string(), .max_bytes = 1 << 20}, &error);
    for (int i = 0; queue && i < kRecords; ++i) {
      DurableQueue::Dropped dropped;
      if (!queue->Append(Payload(i), 1, 0, &dropped, &error)) _exit(1);
    }
    raise(SIGKILL);  // no destructor, no fsync, no close
    _exit(2);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  auto queue = OpenQueue(dir.path);
  CHECK(Payloads(ReadAll(*queue)) == Expected(0, kRecords));
}

TEST_CASE("a torn record at the tail is cut off and appending goes on behind the last whole one") {
  TempDir dir;
  {
    auto queue = OpenQueue(dir.path);
    AppendRecords(*queue, 0, 10);
  }
  fs::path last = LastSegment(dir.path);
  uintmax_t whole = fs::file_size(last);
  {
    // A header promising more bytes than follow, as a write cut short by power loss leaves it.
    std::ofstream out(last, std::ios::binary | std::ios::app);
    const char torn[] = {'\x40', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 'a', 'b'};
    out.write(torn, sizeof torn);
  }
  auto queue = OpenQueue(dir.path);
  CHECK(fs::file_size(last) == whole);
  CHECK(queue->corrupt_bytes() == 18);
  AppendRecords(*queue, 10, 12);
  CHECK(Payloads(ReadAll(*queue)) == Expected(0, 12));
}

TEST_CASE("a corrupted record ends its segment; the segments after it are still read") {
  TempDir dir;
  {
    auto queue = OpenQueue(dir.path, 1 << 20, 16);  // one record per segment
    AppendRecords(*queue, 0, 3);
  }
  std::vector<fs::path> segments;
  for (const auto& entry : fs::directory_iterator(dir.path)) {
    if (entry.path().extension() == ".seg") segments.push_back(entry.path());
  }
  std::sort(segments.begin(), segments.end());
  REQUIRE(segments.size() == 3);
  {
    std::fstream f(segments[1], std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(17);  // a payload byte: the checksum no longer matches
    f.put('#');
  }
  auto queue = OpenQueue(dir.path, 1 << 20, 16);
  CHECK(Payloads(ReadAll(*queue)) == std::vector<std::string>{Payload(0), Payload(2)});
}

TEST_CASE("at max_bytes the oldest segments go, and only their unread samples count as dropped") {
  TempDir dir;
  constexpr uint64_t kMaxBytes = 4096, kSegmentBytes = 512;
  auto queue = OpenQueue(dir.path, kMaxBytes, kSegmentBytes);
  // Each record: 16-byte header + a 100-byte payload, 4 per 512-byte segment.
  const std::string payload(100, 'p');
  auto append = [&](DurableQueue::Dropped* dropped) {
    std::string error;
    REQUIRE_MESSAGE(queue->Append(payload, 10, 1, dropped, &error), error);
  };
  DurableQueue::Dropped dropped;
  for (int i = 0; i < 35; ++i) append(&dropped);  // 8 full segments and 3 records: 4060 bytes
  CHECK(dropped.segments == 0);
  CHECK(queue->bytes() == 35 * 116);
  QueueRecord record;
  REQUIRE(queue->Read(&record));  // one record of the oldest segment is in flight
  append(&dropped);               // 4176 bytes would pass the bound: the oldest segment goes
  CHECK(dropped.segments == 1);
  CHECK(dropped.samples == 30);  // 4 records of 10, one of them already read
  CHECK(dropped.metadata == 3);
  CHECK(queue->bytes() <= kMaxBytes);
  dropped = {};
  for (int i = 0; i < 8; ++i) append(&dropped);
  CHECK(dropped.segments == 2);
  CHECK(dropped.samples == 80);
  CHECK(queue->bytes() <= kMaxBytes);
  // The reader goes on with the oldest record kept: of 44, the 12 of 3 segments went (the one
  // read among them).
  CHECK(ReadAll(*queue).size() == 44 - 12);
}

TEST_CASE("a record larger than max_bytes is refused, not half-written") {
  TempDir dir;
  auto queue = OpenQueue(dir.path, 1024);
  DurableQueue::Dropped dropped;
  std::string error;
  CHECK_FALSE(queue->Append(std::string(2000, 'x'), 1, 0, &dropped, &error));
  CHECK(error.find("max_bytes") != std::string::npos);
  CHECK(queue->bytes() == 0);
  CHECK(queue->Append("small", 1, 0, &dropped, &error));
  CHECK(ReadAll(*queue).size() == 1);
}

TEST_CASE("a reader waiting for data wakes on append") {
  TempDir dir;
  auto queue = OpenQueue(dir.path);
  std::thread writer([&] { AppendRecords(*queue, 0, 1); });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  QueueRecord record;
  bool got = false;
  while (!got && std::chrono::steady_clock::now() < deadline) {
    queue->WaitReadable(deadline);
    got = queue->Read(&record);
  }
  writer.join();
  CHECK(got);
  CHECK(record.payload == Payload(0));
}
