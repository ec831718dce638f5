// Follows a log file as nginx writes it, across rotation, handing over each complete line once.
//
// Rename-and-create (logrotate's default, then `nginx -s reopen`): the path names a new inode
// while nginx may still append to the old one until every worker has reopened. The old file
// stays open and is read to its end before the new one, and is closed only once the new file has
// received data (so nginx has moved on) and a last read of the old one found nothing more.
//
// copytruncate: the file shrinks below the offset already read, so reading starts again at 0.
// What nginx wrote between logrotate's copy and its truncate and that was not read yet is in the
// copy only; logrotate documents that window. A file truncated and then refilled past the old
// offset between two polls cannot be told from a grown file: poll more often than that.
//
// A line without its newline yet (nginx's write in progress) is kept until it is complete. A
// line longer than kMaxLineBytes is cut there, its remainder discarded up to the newline.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crmscope::agent::nginx_log {

// Owns one open file descriptor.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() { Reset(); }
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileDescriptor& operator=(FileDescriptor&& other) noexcept;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset();

 private:
  int fd_ = -1;
};

class LineConsumer {
 public:
  virtual ~LineConsumer() = default;
  virtual void Line(std::string_view line) = 0;  // without its '\n'
};

class LogTailer {
 public:
  static constexpr size_t kMaxLineBytes = 64 * 1024;

  // kAtEnd: a file present at the first Poll is read from its current end (what is already there
  // predates the agent); a file that appears later, or replaces it, is read from its start.
  enum class Start { kAtEnd, kAtBeginning };

  LogTailer(std::string path, Start start);
  ~LogTailer();
  LogTailer(const LogTailer&) = delete;
  LogTailer& operator=(const LogTailer&) = delete;

  // Reads what arrived since the last call, at most about `max_bytes` (the rest waits for the next
  // call), and passes each complete line to `consumer`. Returns the bytes read. A missing file is
  // not an error: it is looked for again at the next call.
  size_t Poll(LineConsumer& consumer, size_t max_bytes);

  const std::string& path() const { return path_; }
  uint64_t rotations() const { return rotations_; }
  uint64_t truncations() const { return truncations_; }

 private:
  struct OpenFile {
    FileDescriptor fd;
    dev_t device = 0;
    ino_t inode = 0;
    uint64_t offset = 0;
    std::string partial;
    bool overlong = false;  // discarding the rest of a line past kMaxLineBytes
  };

  bool Open(OpenFile* file) const;
  static void Close(OpenFile* file, LineConsumer& consumer);
  void FollowPath();
  // Reads `file` from its offset to its end or until *budget is spent; returns the bytes read.
  size_t ReadToEnd(OpenFile* file, LineConsumer& consumer, size_t* budget);
  static void SplitLines(OpenFile* file, const char* data, size_t size, LineConsumer& consumer);

  std::string path_;
  Start start_;
  bool first_poll_ = true;
  OpenFile current_;
  std::vector<OpenFile> rotated_;  // oldest first, still being read
  std::vector<char> buffer_;
  uint64_t rotations_ = 0, truncations_ = 0;
};

}  // namespace crmscope::agent::nginx_log
