// The db_lock fault's lock: a thread with its own connection that holds SQLite's write lock
// (BEGIN IMMEDIATE) for `share` of every period (100 ms on average), as a long-running batch job or
// a migration would. Other connections' writes wait in their busy handler; in WAL mode reads go on.
// The database is shared, so every node's writes feel it.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace crmscope::crm {

class DbLockHolder {
 public:
  explicit DbLockHolder(std::string db_path) : db_path_(std::move(db_path)) {}
  ~DbLockHolder() { SetShare(0); }
  DbLockHolder(const DbLockHolder&) = delete;
  DbLockHolder& operator=(const DbLockHolder&) = delete;

  // 0 releases the lock and stops the thread; (0, 1] starts it or changes its share.
  void SetShare(double share);

 private:
  void Run();
  // Sleeps up to `ms` or until stopped; true when stopped.
  bool WaitStopped(double ms);

  const std::string db_path_;
  std::mutex mu_;
  std::condition_variable wake_;
  double share_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace crmscope::crm
