#include "exporters/remote_write/durable_queue.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/log.h"

namespace crmscope::remote_write {

namespace {

namespace fs = std::filesystem;

constexpr size_t kHeaderBytes = 16;
constexpr std::string_view kSegmentSuffix = ".seg";
constexpr std::string_view kCheckpointMagic = "crmscope-queue-checkpoint-v1";

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~UniqueFd() { Reset(); }
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

std::string Errno(std::string_view what, const std::string& path) {
  return std::string(what) + " " + path + ": " + std::strerror(errno);
}

void PutU32(uint32_t v, char* out) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint32_t GetU32(const char* in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return v;
}

// The checksum covers the counts too, so a torn header cannot pass for a record.
uint32_t RecordCrc(const char* header, std::string_view payload) {
  uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(header + 4), 8);
  return static_cast<uint32_t>(
      crc32(crc, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size())));
}

bool ReadFull(int fd, char* out, size_t n, uint64_t offset) {
  while (n > 0) {
    ssize_t got = ::pread(fd, out, n, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    out += got;
    n -= static_cast<size_t>(got);
    offset += static_cast<uint64_t>(got);
  }
  return true;
}

// One writev in the normal case; a short write (disk full, a signal) continues where it stopped.
bool WriteAll(int fd, const char* header, std::string_view payload) {
  iovec parts[2] = {{const_cast<char*>(header), kHeaderBytes},
                    {const_cast<char*>(payload.data()), payload.size()}};
  iovec* next = parts;
  int count = 2;
  while (count > 0) {
    ssize_t n = ::writev(fd, next, count);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    size_t done = static_cast<size_t>(n);
    while (count > 0 && done >= next->iov_len) {
      done -= next->iov_len;
      ++next;
      --count;
    }
    if (count > 0) {
      next->iov_base = static_cast<char*>(next->iov_base) + done;
      next->iov_len -= done;
    }
  }
  return true;
}

bool SyncDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return fd && ::fsync(fd.get()) == 0;
}

struct RecordHeader {
  uint32_t length = 0, samples = 0, metadata = 0, crc = 0;
};

// Reads the record at `offset` of a segment `size` bytes long; false if it is torn or corrupt.
bool ReadRecord(int fd, uint64_t offset, uint64_t size, RecordHeader* header, std::string* payload) {
  char raw[kHeaderBytes];
  if (size - offset < kHeaderBytes || !ReadFull(fd, raw, kHeaderBytes, offset)) return false;
  header->length = GetU32(raw);
  header->samples = GetU32(raw + 4);
  header->metadata = GetU32(raw + 8);
  header->crc = GetU32(raw + 12);
  if (header->length > size - offset - kHeaderBytes) return false;
  payload->resize(header->length);
  if (!ReadFull(fd, payload->data(), header->length, offset + kHeaderBytes)) return false;
  return RecordCrc(raw, *payload) == header->crc;
}

}  // namespace

struct DurableQueue::Segment {
  uint64_t id = 0;
  uint64_t size = 0;
  uint64_t samples = 0, metadata = 0;            // in the whole segment
  uint64_t read_samples = 0, read_metadata = 0;  // of those, already handed to the reader
};

struct DurableQueue::Files {
  UniqueFd write;  // the last segment, O_APPEND
  UniqueFd read;
  uint64_t read_segment = 0;  // which segment `read` is open on
};

namespace {

std::string SegmentPath(const std::string& dir, uint64_t id) {
  char name[32];
  std::snprintf(name, sizeof name, "%08llu%s", static_cast<unsigned long long>(id),
                std::string(kSegmentSuffix).c_str());
  return (fs::path(dir) / name).string();
}

std::string CheckpointPath(const std::string& dir) { return (fs::path(dir) / "checkpoint").string(); }

struct Checkpoint {
  QueuePosition delivered;
  std::vector<QueuePosition> lanes;
};

// "crmscope-queue-checkpoint-v1 SEGMENT OFFSET LANES [SEGMENT OFFSET]..."
bool ReadCheckpoint(const std::string& dir, Checkpoint* checkpoint) {
  std::ifstream in(CheckpointPath(dir));
  std::string magic;
  Checkpoint c;
  size_t lanes = 0;
  if (!(in >> magic >> c.delivered.segment >> c.delivered.offset >> lanes) ||
      magic != kCheckpointMagic || lanes > 4096) {
    return false;
  }
  c.lanes.resize(lanes);
  for (QueuePosition& lane : c.lanes) {
    if (!(in >> lane.segment >> lane.offset)) return false;
  }
  *checkpoint = std::move(c);
  return true;
}

bool WriteCheckpoint(const std::string& dir, const Checkpoint& checkpoint, std::string* error) {
  std::string path = CheckpointPath(dir), tmp = path + ".tmp";
  std::ostringstream text;
  text << kCheckpointMagic << ' ' << checkpoint.delivered.segment << ' '
       << checkpoint.delivered.offset << ' ' << checkpoint.lanes.size();
  for (const QueuePosition& lane : checkpoint.lanes) text << ' ' << lane.segment << ' ' << lane.offset;
  text << '\n';
  std::string content = text.str();
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) {
    *error = Errno("cannot create", tmp);
    return false;
  }
  if (::write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size())) {
    *error = Errno("cannot write", tmp);
    return false;
  }
  fd.Reset();
  // No fsync: after a power loss an older checkpoint only means resending, which receivers
  // accept; rename keeps the file whole either way.
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = Errno("cannot rename", tmp);
    return false;
  }
  return true;
}

}  // namespace

DurableQueue::DurableQueue(const Options& options) : options_(options), files_(std::make_unique<Files>()) {
  if (options_.segment_bytes == 0) {
    options_.segment_bytes = std::clamp<uint64_t>(options_.max_bytes / 16, 4 << 10, 64 << 20);
  }
}

DurableQueue::~DurableQueue() = default;

std::unique_ptr<DurableQueue> DurableQueue::Open(const Options& options, std::string* error) {
  if (options.max_bytes < kHeaderBytes) {
    *error = "queue max_bytes must be at least " + std::to_string(kHeaderBytes);
    return nullptr;
  }
  std::unique_ptr<DurableQueue> queue(new DurableQueue(options));
  if (!queue->Load(error)) return nullptr;
  return queue;
}

namespace {

bool ListSegmentIds(const std::string& dir, std::vector<uint64_t>* ids, std::string* error) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    *error = "cannot create queue directory " + dir + ": " + ec.message();
    return false;
  }
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.size() <= kSegmentSuffix.size() || !name.ends_with(kSegmentSuffix)) continue;
    std::string digits = name.substr(0, name.size() - kSegmentSuffix.size());
    if (digits.find_first_not_of("0123456789") != std::string::npos) continue;
    ids->push_back(std::stoull(digits));
  }
  if (ec) {
    *error = "cannot list queue directory " + dir + ": " + ec.message();
    return false;
  }
  std::sort(ids->begin(), ids->end());
  return true;
}

}  // namespace

// Counts a segment's records (those before `read_up_to` as already read) and cuts it back to its
// last whole record.
bool DurableQueue::ScanSegment(uint64_t id, uint64_t read_up_to, std::string* error) {
  std::string path = SegmentPath(options_.dir, id);
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) != 0) {
    *error = Errno("cannot open", path);
    return false;
  }
  Segment segment{.id = id};
  uint64_t file_size = static_cast<uint64_t>(st.st_size);
  RecordHeader header;
  std::string payload;
  while (segment.size < file_size &&
         ReadRecord(fd.get(), segment.size, file_size, &header, &payload)) {
    if (segment.size < read_up_to) {
      segment.read_samples += header.samples;
      segment.read_metadata += header.metadata;
    }
    segment.size += kHeaderBytes + header.length;
    segment.samples += header.samples;
    segment.metadata += header.metadata;
  }
  if (segment.size < file_size) {
    // A record cut short by a crash or power loss (or damaged): nothing after it is reachable.
    log::Warn("Cutting off a torn or corrupt queue tail",
              {{"segment", path}, {"valid_bytes", std::to_string(segment.size)},
               {"file_bytes", std::to_string(file_size)}});
    corrupt_bytes_ += file_size - segment.size;
    if (::ftruncate(fd.get(), static_cast<off_t>(segment.size)) != 0) {
      *error = Errno("cannot truncate", path);
      return false;
    }
  }
  bytes_ += segment.size;
  segments_.push_back(segment);
  return true;
}

bool DurableQueue::Load(std::string* error) {
  const std::string& dir = options_.dir;
  std::vector<uint64_t> ids;
  if (!ListSegmentIds(dir, &ids, error)) return false;
  Checkpoint saved;
  bool have_checkpoint = ReadCheckpoint(dir, &saved);
  const QueuePosition& checkpoint = saved.delivered;
  if (!have_checkpoint && fs::exists(CheckpointPath(dir))) {
    log::Warn("Unreadable queue checkpoint, resending the whole queue", {{"dir", dir}});
  }
  for (uint64_t id : ids) {
    // Segments wholly before the checkpoint were delivered; a crash came before their deletion.
    if (have_checkpoint && id < checkpoint.segment) {
      ::unlink(SegmentPath(dir, id).c_str());
      continue;
    }
    uint64_t read_up_to = have_checkpoint && id == checkpoint.segment ? checkpoint.offset : 0;
    if (!ScanSegment(id, read_up_to, error)) return false;
  }
  if (segments_.empty()) {
    uint64_t id = have_checkpoint ? checkpoint.segment + 1 : 1;
    segments_.push_back(Segment{.id = id});
    UniqueFd fd(::open(SegmentPath(dir, id).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    if (!fd) {
      *error = Errno("cannot create", SegmentPath(dir, id));
      return false;
    }
    SyncDir(dir);
  }
  std::string last = SegmentPath(dir, segments_.back().id);
  files_->write.Reset(::open(last.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  if (!files_->write) {
    *error = Errno("cannot open", last);
    return false;
  }
  Segment* at = have_checkpoint ? FindSegment(checkpoint.segment) : nullptr;
  read_ = at && checkpoint.offset <= at->size ? checkpoint : QueuePosition{segments_.front().id, 0};
  committed_ = read_;
  if (have_checkpoint) lanes_at_open_ = committed_lanes_ = saved.lanes;
  return true;
}

DurableQueue::Segment* DurableQueue::FindSegment(uint64_t id) {
  for (Segment& s : segments_) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

bool DurableQueue::Roll(std::string* error) {
  if (::fdatasync(files_->write.get()) != 0) {
    *error = Errno("cannot sync", SegmentPath(options_.dir, segments_.back().id));
    return false;
  }
  uint64_t id = segments_.back().id + 1;
  std::string path = SegmentPath(options_.dir, id);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!fd) {
    *error = Errno("cannot create", path);
    return false;
  }
  SyncDir(options_.dir);
  files_->write = std::move(fd);
  segments_.push_back(Segment{.id = id});
  unsynced_ = false;
  return true;
}

void DurableQueue::DropOldest(Dropped* dropped) {
  const Segment& oldest = segments_.front();
  ::unlink(SegmentPath(options_.dir, oldest.id).c_str());
  ++dropped->segments;
  dropped->samples += oldest.samples - oldest.read_samples;
  dropped->metadata += oldest.metadata - oldest.read_metadata;
  bytes_ -= oldest.size;
  segments_.pop_front();
  if (read_.segment < segments_.front().id) read_ = {segments_.front().id, 0};
}

bool DurableQueue::Append(std::string_view payload, uint32_t samples, uint32_t metadata,
                          Dropped* dropped, std::string* error) {
  uint64_t need = kHeaderBytes + payload.size();
  if (need > options_.max_bytes || payload.size() > UINT32_MAX) {
    *error = "record of " + std::to_string(need) + " bytes does not fit a queue of max_bytes " +
             std::to_string(options_.max_bytes);
    return false;
  }
  char header[kHeaderBytes];
  PutU32(static_cast<uint32_t>(payload.size()), header);
  PutU32(samples, header + 4);
  PutU32(metadata, header + 8);
  PutU32(RecordCrc(header, payload), header + 12);

  std::lock_guard<std::mutex> lock(mu_);
  Segment* open = &segments_.back();
  if (open->size > 0 && open->size + need > options_.segment_bytes) {
    if (!Roll(error)) return false;
  }
  while (bytes_ + need > options_.max_bytes) {
    if (segments_.size() == 1 && !Roll(error)) return false;
    DropOldest(dropped);
  }
  open = &segments_.back();
  if (!WriteAll(files_->write.get(), header, payload)) {
    *error = Errno("cannot append to", SegmentPath(options_.dir, open->id));
    // Take back a partial record, so the next append does not land behind garbage.
    if (::ftruncate(files_->write.get(), static_cast<off_t>(open->size)) != 0) {
      log::Error("Cannot cut back a partial queue record", {{"err", std::strerror(errno)}});
    }
    return false;
  }
  open->size += need;
  open->samples += samples;
  open->metadata += metadata;
  bytes_ += need;
  unsynced_ = true;
  readable_.notify_all();
  return true;
}

bool DurableQueue::Read(QueueRecord* record) {
  RecordHeader header;
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    Segment* segment = FindSegment(read_.segment);
    if (!segment) segment = &segments_.front();  // dropped while we were reading it
    if (read_.segment != segment->id) read_ = {segment->id, 0};
    if (read_.offset >= segment->size) {
      if (segment == &segments_.back()) return false;
      read_ = {read_.segment + 1, 0};
      continue;
    }
    QueuePosition at = read_;
    uint64_t size = segment->size;
    if (files_->read_segment != at.segment || !files_->read) {
      std::string path = SegmentPath(options_.dir, at.segment);
      files_->read.Reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      files_->read_segment = at.segment;
    }
    int fd = files_->read.get();
    // The bytes below `size` are complete (written before Append returned), so they can be
    // read without the lock while others append.
    lock.unlock();
    bool ok = fd >= 0 && ReadRecord(fd, at.offset, size, &header, &record->payload);
    lock.lock();
    if (read_ != at) continue;  // the segment was dropped meanwhile: its records count as dropped
    segment = FindSegment(at.segment);
    if (!ok) {
      log::Error("Corrupt record in the queue, skipping the rest of its segment",
                 {{"segment", SegmentPath(options_.dir, at.segment)},
                  {"offset", std::to_string(at.offset)}});
      corrupt_bytes_ += size - at.offset;
      read_.offset = size;
      continue;
    }
    read_.offset += kHeaderBytes + header.length;
    segment->read_samples += header.samples;
    segment->read_metadata += header.metadata;
    record->samples = header.samples;
    record->metadata = header.metadata;
    record->end = read_;
    return true;
  }
}

bool DurableQueue::caught_up() const {
  std::lock_guard<std::mutex> lock(mu_);
  const Segment& last = segments_.back();
  return read_.segment == last.id && read_.offset >= last.size;
}

void DurableQueue::WaitReadable(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  readable_.wait_until(lock, deadline, [&] {
    const Segment& last = segments_.back();
    return woken_ || read_.segment != last.id || read_.offset < last.size;
  });
  woken_ = false;
}

void DurableQueue::Wake() {
  std::lock_guard<std::mutex> lock(mu_);
  woken_ = true;
  readable_.notify_all();
}

bool DurableQueue::Commit(QueuePosition delivered, const std::vector<QueuePosition>& lanes,
                          std::string* error) {
  std::lock_guard<std::mutex> commit_lock(commit_mu_);
  delivered = std::max(delivered, committed_);
  if (delivered == committed_ && lanes == committed_lanes_) return true;
  if (!WriteCheckpoint(options_.dir, {delivered, lanes}, error)) return false;
  committed_ = delivered;
  committed_lanes_ = lanes;
  std::lock_guard<std::mutex> lock(mu_);
  while (segments_.size() > 1) {
    const Segment& oldest = segments_.front();
    bool delivered_whole = oldest.id < delivered.segment ||
                           (oldest.id == delivered.segment && delivered.offset >= oldest.size);
    if (!delivered_whole) break;
    ::unlink(SegmentPath(options_.dir, oldest.id).c_str());
    bytes_ -= oldest.size;
    segments_.pop_front();
  }
  return true;
}

bool DurableQueue::Sync(std::string* error) {
  UniqueFd fd;
  uint64_t id = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!unsynced_) return true;
    // fdatasync can take many milliseconds: on a duplicate descriptor, Appends go on meanwhile.
    fd.Reset(::dup(files_->write.get()));
    id = segments_.back().id;
    unsynced_ = false;
  }
  if (!fd || ::fdatasync(fd.get()) != 0) {
    *error = Errno("cannot sync", SegmentPath(options_.dir, id));
    return false;
  }
  return true;
}

bool DurableQueue::drained() const {
  std::lock_guard<std::mutex> commit_lock(commit_mu_);
  std::lock_guard<std::mutex> lock(mu_);
  const Segment& last = segments_.back();
  return committed_ >= QueuePosition{last.id, last.size};
}

uint64_t DurableQueue::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

uint64_t DurableQueue::pending_bytes() const {
  std::lock_guard<std::mutex> commit_lock(commit_mu_);
  std::lock_guard<std::mutex> lock(mu_);
  // Segments wholly before committed_ are gone; only the first may hold delivered records.
  const Segment& first = segments_.front();
  uint64_t delivered = committed_.segment == first.id ? std::min(committed_.offset, first.size) : 0;
  return bytes_ - delivered;
}

uint64_t DurableQueue::corrupt_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return corrupt_bytes_;
}

QueuePosition DurableQueue::committed() const {
  std::lock_guard<std::mutex> lock(commit_mu_);
  return committed_;
}

}  // namespace crmscope::remote_write
