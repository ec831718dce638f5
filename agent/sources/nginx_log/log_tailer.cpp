#include "agent/sources/nginx_log/log_tailer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace crmscope::agent::nginx_log {

namespace {

constexpr size_t kReadChunkBytes = 256 * 1024;
// Rotated files whose successor never gets a line (an idle server rotated daily) are closed
// past this many, so they cannot pile up.
constexpr size_t kMaxRotatedFiles = 4;

// -1 when the size cannot be known (a closed file).
int64_t FileSize(const FileDescriptor& fd) {
  struct stat st;
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0) return -1;
  return static_cast<int64_t>(st.st_size);
}

}  // namespace

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
  if (this != &other) {
    Reset();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void FileDescriptor::Reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

LogTailer::LogTailer(std::string path, Start start)
    : path_(std::move(path)), start_(start), buffer_(kReadChunkBytes) {}

LogTailer::~LogTailer() = default;

bool LogTailer::Open(OpenFile* file) const {
  FileDescriptor fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st;
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0) return false;
  *file = OpenFile();
  file->fd = std::move(fd);
  file->device = st.st_dev;
  file->inode = st.st_ino;
  file->offset = static_cast<uint64_t>(st.st_size);  // the caller decides where to start
  return true;
}

void LogTailer::FollowPath() {
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0) return;  // moved away, not recreated yet: read what is open
  if (current_.fd.valid() && st.st_dev == current_.device && st.st_ino == current_.inode) return;
  OpenFile next;
  if (!Open(&next)) return;
  if (current_.fd.valid() && next.device == current_.device && next.inode == current_.inode) {
    return;  // the path changed and changed back between stat and open
  }
  bool skip_history = first_poll_ && start_ == Start::kAtEnd && !current_.fd.valid();
  if (!skip_history) next.offset = 0;
  if (current_.fd.valid()) {
    rotated_.push_back(std::move(current_));
    ++rotations_;
  }
  current_ = std::move(next);
}

size_t LogTailer::Poll(LineConsumer& consumer, size_t max_bytes) {
  FollowPath();
  first_poll_ = false;
  size_t budget = max_bytes, total = 0;
  while (rotated_.size() > kMaxRotatedFiles) {
    total += ReadToEnd(&rotated_.front(), consumer, &budget);
    if (budget == 0) return total;
    Close(&rotated_.front(), consumer);
    rotated_.erase(rotated_.begin());
  }
  for (size_t i = 0; i < rotated_.size();) {
    // Checked before the read: once the successor has data, nginx has reopened, so a read that
    // then finds nothing more has seen the rotated file's last line.
    const FileDescriptor& successor = i + 1 < rotated_.size() ? rotated_[i + 1].fd : current_.fd;
    bool successor_written = FileSize(successor) > 0;
    size_t read = ReadToEnd(&rotated_[i], consumer, &budget);
    total += read;
    if (budget == 0) return total;
    if (successor_written && read == 0) {
      Close(&rotated_[i], consumer);
      rotated_.erase(rotated_.begin() + static_cast<ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  if (!current_.fd.valid()) return total;
  int64_t size = FileSize(current_.fd);
  if (size >= 0 && static_cast<uint64_t>(size) < current_.offset) {
    // copytruncate. The partial line's end went to the copy with the rest of the old content.
    current_.offset = 0;
    current_.partial.clear();
    current_.overlong = false;
    ++truncations_;
  }
  return total + ReadToEnd(&current_, consumer, &budget);
}

size_t LogTailer::ReadToEnd(OpenFile* file, LineConsumer& consumer, size_t* budget) {
  size_t total = 0;
  while (*budget > 0) {
    size_t want = std::min(buffer_.size(), *budget);
    ssize_t n = ::pread(file->fd.get(), buffer_.data(), want, static_cast<off_t>(file->offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    size_t got = static_cast<size_t>(n);
    file->offset += got;
    *budget -= got;
    total += got;
    SplitLines(file, buffer_.data(), got, consumer);
    if (got < want) break;  // a regular file reads short only at its end
  }
  return total;
}

void LogTailer::SplitLines(OpenFile* file, const char* data, size_t size, LineConsumer& consumer) {
  const char* p = data;
  const char* const end = data + size;
  while (p < end) {
    const char* newline =
        static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    size_t length = static_cast<size_t>((newline != nullptr ? newline : end) - p);
    if (newline != nullptr && file->partial.empty() && !file->overlong) {
      consumer.Line(std::string_view(p, std::min(length, kMaxLineBytes)));
    } else {
      size_t room = kMaxLineBytes - file->partial.size();
      file->partial.append(p, std::min(room, length));
      if (length > room) file->overlong = true;
      if (newline != nullptr) {
        consumer.Line(file->partial);
        file->partial.clear();
        file->overlong = false;
      }
    }
    if (newline == nullptr) break;
    p = newline + 1;
  }
}

void LogTailer::Close(OpenFile* file, LineConsumer& consumer) {
  // The writer is gone for good: what it left without a newline is still its last line.
  if (!file->partial.empty()) consumer.Line(file->partial);
  file->partial.clear();
  file->fd.Reset();
}

}  // namespace crmscope::agent::nginx_log
