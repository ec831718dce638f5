#include "crm_demo/loadgen/load_driver.h"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <limits>
#include <mutex>
#include <vector>

namespace crmscope::loadgen {

namespace {

constexpr int64_t kNsPerMs = 1'000'000;
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
// Upper bound on one wait, so a stop request that lands between the check and the wait (a
// signal is not guaranteed to interrupt it) is seen soon.
constexpr int kMaxWaitMs = 50;

struct EasyCleanup {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct MultiCleanup {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
struct SlistFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  void reset(int fd) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t DiscardBody(char*, size_t size, size_t count, void*) { return size * count; }

FailureKind ClassifyFailure(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return FailureKind::kTimeout;
    // Refused, reset, or closed before any response: the server (or its listen backlog) is
    // not there for this request.
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
      return FailureKind::kConnect;
    default:
      return FailureKind::kOther;
  }
}

// The open loop's timetable: request i is due at start + i / rate, for every i due before the
// end of the run. Computed from i rather than accumulated, so rounding never drifts.
class Timetable {
 public:
  Timetable(int64_t start_ns, double rate, int64_t duration_ns)
      : start_ns_(start_ns), interval_ns_(1e9 / rate) {
    count_ = static_cast<uint64_t>(std::ceil(static_cast<double>(duration_ns) / interval_ns_));
    while (count_ > 0 && At(count_ - 1) >= start_ns + duration_ns) --count_;
  }
  int64_t At(uint64_t i) const {
    return start_ns_ + static_cast<int64_t>(static_cast<double>(i) * interval_ns_);
  }
  uint64_t count() const { return count_; }
  // How many requests are due at `now`: the first index whose time is still ahead.
  uint64_t DueAt(int64_t now) const {
    if (now < start_ns_) return 0;
    auto due = static_cast<uint64_t>(static_cast<double>(now - start_ns_) / interval_ns_) + 1;
    while (due > 0 && At(due - 1) > now) --due;
    while (due < count_ && At(due) <= now) ++due;
    return std::min(due, count_);
  }

 private:
  int64_t start_ns_;
  double interval_ns_;
  uint64_t count_ = 0;
};

struct Slot {
  std::unique_ptr<CURL, EasyCleanup> easy;
  Request request;
  std::string url;
  int64_t scheduled_ns = 0;
  bool busy = false;
};

}  // namespace

int64_t MonotonicNowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct LoadDriver::State {
  LoadOptions options;
  std::unique_ptr<CURLM, MultiCleanup> multi;
  std::unique_ptr<curl_slist, SlistFree> get_headers;   // --header lines; null when none
  std::unique_ptr<curl_slist, SlistFree> body_headers;  // those plus the JSON body's
  std::vector<Slot> slots;
  std::vector<size_t> free_slots;
  // libcurl's socket interface over our own epoll set: curl_multi_perform would visit every
  // transfer (and poll each socket) per call, which cost a third of the load generator's CPU
  // against a fast server; socket_action touches only the sockets that are ready.
  UniqueFd epoll;
  // Wakes the wait at the next scheduled send with nanosecond precision; epoll's timeout is in
  // milliseconds, which would add up to 1 ms of start delay to every request.
  UniqueFd timer;
  int64_t curl_deadline_ns = kNever;  // when libcurl wants CURL_SOCKET_TIMEOUT
  std::vector<bool> watched;          // by fd: in the epoll set (saves a failing MOD per request)
  std::unique_ptr<RunStats> interval = std::make_unique<RunStats>();
  int64_t interval_start_ns = 0;
  int64_t run_start_ns = 0;
  Workload* workload = nullptr;   // during Run
  int64_t closed_loop_end_ns = 0;  // closed loop: no request starts after this

  ~State() {
    // libcurl wants the easy handles out of the multi handle before either is cleaned up.
    for (Slot& slot : slots) {
      if (slot.busy) curl_multi_remove_handle(multi.get(), slot.easy.get());
    }
  }

  bool SetUp(std::string* error);
  bool SetUpEventLoop(std::string* error);
  size_t busy() const { return slots.size() - free_slots.size(); }
  void Start(Workload& workload, int64_t scheduled_ns);
  void RunCurlTimeoutIfDue();
  void Collect(RunStats* stats);
  void WaitUntil(int64_t wake_ns);
  void StartClosedLoopRequests();
  void ReportIfDue(int64_t now, const IntervalReport& on_interval, RunStats* total);
  int64_t NextReportAt() const {
    return options.report_interval_ns > 0 ? interval_start_ns + options.report_interval_ns
                                          : kNever;
  }
  void RunClosedLoop(const std::atomic<bool>& stop, const IntervalReport& on_interval,
                     RunStats* total);
  void RunOpenLoop(const std::atomic<bool>& stop, const IntervalReport& on_interval,
                   RunStats* total);
  void AbandonInFlight();  // drops transfers still running, leaving every slot free

  static int OnSocket(CURL* easy, curl_socket_t fd, int what, void* state, void* socket_data);
  static int OnCurlTimer(CURLM* multi, long timeout_ms, void* state);
};

int LoadDriver::State::OnSocket(CURL*, curl_socket_t fd, int what, void* state_ptr, void*) {
  State& state = *static_cast<State*>(state_ptr);
  const int epoll_fd = state.epoll.get();
  if (fd < 0) return 0;
  const auto index = static_cast<size_t>(fd);
  if (index >= state.watched.size()) state.watched.resize(index + 64, false);
  if (what == CURL_POLL_REMOVE) {
    if (state.watched[index]) epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
    state.watched[index] = false;
    return 0;
  }
  epoll_event event{};
  event.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
  event.data.fd = fd;
  // A socket closed behind our back leaves the epoll set by itself; its number may come back.
  const bool modified = state.watched[index] &&
                        (epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &event) == 0 || errno != ENOENT);
  if (!modified) epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
  state.watched[index] = true;
  return 0;
}

int LoadDriver::State::OnCurlTimer(CURLM*, long timeout_ms, void* state) {
  static_cast<State*>(state)->curl_deadline_ns =
      timeout_ms < 0 ? kNever : MonotonicNowNs() + timeout_ms * kNsPerMs;
  return 0;
}

bool LoadDriver::State::SetUpEventLoop(std::string* error) {
  multi.reset(curl_multi_init());
  epoll.reset(epoll_create1(EPOLL_CLOEXEC));
  timer.reset(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = timer.get();
  if (!multi || epoll.get() < 0 || timer.get() < 0 ||
      epoll_ctl(epoll.get(), EPOLL_CTL_ADD, timer.get(), &event) != 0) {
    *error = "cannot set up libcurl's multi handle, epoll or a timer";
    return false;
  }
  curl_multi_setopt(multi.get(), CURLMOPT_SOCKETFUNCTION, &State::OnSocket);
  curl_multi_setopt(multi.get(), CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi.get(), CURLMOPT_TIMERFUNCTION, &State::OnCurlTimer);
  curl_multi_setopt(multi.get(), CURLMOPT_TIMERDATA, this);
  const long pool = options.connections;
  curl_multi_setopt(multi.get(), CURLMOPT_MAXCONNECTS, pool);
  curl_multi_setopt(multi.get(), CURLMOPT_MAX_TOTAL_CONNECTIONS, pool);
  return true;
}

bool LoadDriver::State::SetUp(std::string* error) {
  InitCurlOnce();
  if (!SetUpEventLoop(error)) return false;
  for (const std::string& header : options.headers) {
    get_headers.reset(curl_slist_append(get_headers.release(), header.c_str()));
    body_headers.reset(curl_slist_append(body_headers.release(), header.c_str()));
  }
  // "Expect:" off: crm-node's bodies are small and a 100-continue round trip would be measured.
  body_headers.reset(curl_slist_append(body_headers.release(), "Content-Type: application/json"));
  body_headers.reset(curl_slist_append(body_headers.release(), "Expect:"));

  slots.resize(static_cast<size_t>(options.connections));
  for (size_t i = 0; i < slots.size(); ++i) {
    CURL* easy = curl_easy_init();
    if (!easy) {
      *error = "curl_easy_init failed";
      return false;
    }
    slots[i].easy.reset(easy);
    slots[i].url.reserve(options.target.size() + 256);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, reinterpret_cast<void*>(i));
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &DiscardBody);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout_ns / kNsPerMs));
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "crm-loadgen/0.1");
    // An explicit (empty) proxy: otherwise libcurl reads the proxy environment variables on
    // every request, and a stray http_proxy would send the load somewhere else.
    curl_easy_setopt(easy, CURLOPT_PROXY, "");
    free_slots.push_back(slots.size() - 1 - i);
  }
  return true;
}

void LoadDriver::State::Start(Workload& workload, int64_t scheduled_ns) {
  const size_t index = free_slots.back();
  free_slots.pop_back();
  Slot& slot = slots[index];
  workload.Next(&slot.request);
  slot.url.assign(options.target);
  slot.url += slot.request.path;
  slot.scheduled_ns = scheduled_ns;
  slot.busy = true;
  CURL* easy = slot.easy.get();
  curl_easy_setopt(easy, CURLOPT_URL, slot.url.c_str());
  if (slot.request.body.empty() && slot.request.method[0] == 'G') {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, static_cast<char*>(nullptr));
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, get_headers.get());
  } else {
    // The body stays in slot.request until the transfer is done; libcurl does not copy it.
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, slot.request.body.c_str());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(slot.request.body.size()));
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, slot.request.method);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, body_headers.get());
  }
  curl_multi_add_handle(multi.get(), easy);
  ++interval->started;
  // Adding only arms a zero timeout; running it now puts the request on the wire before the
  // next one is prepared, so a batch of starts does not delay its first requests.
  RunCurlTimeoutIfDue();
}

void LoadDriver::State::RunCurlTimeoutIfDue() {
  if (curl_deadline_ns > MonotonicNowNs()) return;
  curl_deadline_ns = kNever;  // the action may set a new one
  int running = 0;
  curl_multi_socket_action(multi.get(), CURL_SOCKET_TIMEOUT, 0, &running);
  Collect(interval.get());
}

void LoadDriver::State::Collect(RunStats* stats) {
  const int64_t now = MonotonicNowNs();
  int left = 0;
  while (CURLMsg* message = curl_multi_info_read(multi.get(), &left)) {
    if (message->msg != CURLMSG_DONE) continue;
    CURL* easy = message->easy_handle;
    const CURLcode result = message->data.result;
    void* slot_index = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &slot_index);
    Slot& slot = slots[reinterpret_cast<size_t>(slot_index)];
    if (result == CURLE_OK) {
      long status = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      stats->RecordResponse(slot.request.op, status, now - slot.scheduled_ns);
    } else {
      stats->RecordFailure(slot.request.op, ClassifyFailure(result));
    }
    curl_multi_remove_handle(multi.get(), easy);
    slot.busy = false;
    free_slots.push_back(reinterpret_cast<size_t>(slot_index));
  }
}

void LoadDriver::State::WaitUntil(int64_t wake_ns) {
  const int64_t now = MonotonicNowNs();
  const int64_t bound = now + kMaxWaitMs * kNsPerMs;
  const int64_t deadline = std::min({wake_ns, curl_deadline_ns, bound});
  if (deadline > now) {
    int timeout_ms = static_cast<int>((deadline - now + kNsPerMs - 1) / kNsPerMs);
    if (wake_ns == deadline) {
      itimerspec when{};
      when.it_value.tv_sec = wake_ns / 1'000'000'000;
      when.it_value.tv_nsec = wake_ns % 1'000'000'000;
      timerfd_settime(timer.get(), TFD_TIMER_ABSTIME, &when, nullptr);
      timeout_ms = kMaxWaitMs + 1;  // the timer fires first
    }
    epoll_event events[64];
    const int n = epoll_wait(epoll.get(), events, 64, timeout_ms);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == timer.get()) {
        uint64_t expirations = 0;
        [[maybe_unused]] ssize_t got = read(fd, &expirations, sizeof expirations);
        continue;
      }
      const uint32_t e = events[i].events;
      const int mask = ((e & EPOLLIN) ? CURL_CSELECT_IN : 0) |
                       ((e & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                       ((e & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
      int running = 0;
      curl_multi_socket_action(multi.get(), fd, mask, &running);
      // Per socket rather than per batch: a transfer's end is timed when it is read, not after
      // the rest of the batch, and a closed-loop connection sends its next request at once.
      Collect(interval.get());
      if (options.closed_loop) StartClosedLoopRequests();
    }
  }
  RunCurlTimeoutIfDue();
}

void LoadDriver::State::ReportIfDue(int64_t now, const IntervalReport& on_interval,
                                    RunStats* total) {
  if (options.report_interval_ns <= 0 || now - interval_start_ns < options.report_interval_ns) {
    return;
  }
  interval->elapsed_ns = now - interval_start_ns;
  if (on_interval) on_interval(*interval, now - run_start_ns);
  total->Merge(*interval);
  interval->Reset();
  interval_start_ns = now;
}

LoadDriver::LoadDriver(std::unique_ptr<State> state) : state_(std::move(state)) {}
LoadDriver::~LoadDriver() = default;

std::unique_ptr<LoadDriver> LoadDriver::Create(const LoadOptions& options, std::string* error) {
  if (options.connections < 1) {
    *error = "at least one connection is needed";
    return nullptr;
  }
  if (!options.closed_loop && !(options.rate > 0)) {
    *error = "the open loop needs a rate above 0";
    return nullptr;
  }
  auto state = std::make_unique<State>();
  state->options = options;
  if (!state->SetUp(error)) return nullptr;
  return std::unique_ptr<LoadDriver>(new LoadDriver(std::move(state)));
}

void LoadDriver::State::StartClosedLoopRequests() {
  // Timed from its own start, as wrk times from the write: in a closed loop nothing was
  // scheduled earlier. The clock bounds the loop: a refused connection fails inside Start and
  // frees its slot at once.
  for (int64_t t = MonotonicNowNs(); !free_slots.empty() && t < closed_loop_end_ns;
       t = MonotonicNowNs()) {
    Start(*workload, t);
  }
}

void LoadDriver::State::RunClosedLoop(const std::atomic<bool>& stop,
                                     const IntervalReport& on_interval, RunStats* total) {
  closed_loop_end_ns = run_start_ns + options.duration_ns;
  while (!stop.load(std::memory_order_relaxed)) {
    Collect(interval.get());
    const int64_t now = MonotonicNowNs();
    if (now >= closed_loop_end_ns) break;
    StartClosedLoopRequests();
    ReportIfDue(now, on_interval, total);
    WaitUntil(std::min(closed_loop_end_ns, NextReportAt()));
  }
  // Like wrk, what is in flight at the end is dropped, not waited for.
  interval->unfinished += busy();
}

void LoadDriver::State::RunOpenLoop(const std::atomic<bool>& stop,
                                    const IntervalReport& on_interval, RunStats* total) {
  const Timetable timetable(run_start_ns, options.rate, options.duration_ns);
  const int64_t drain_deadline = run_start_ns + options.duration_ns +
                                 (options.drain_ns >= 0 ? options.drain_ns : options.timeout_ns);
  uint64_t next = 0;         // the next request of the timetable to start
  uint64_t late_before = 0;  // requests [next, late_before) found no free connection when due
  while (!stop.load(std::memory_order_relaxed)) {
    Collect(interval.get());
    const int64_t now = MonotonicNowNs();
    const uint64_t due = timetable.DueAt(now);
    while (next < due && !free_slots.empty()) {
      if (next < late_before) ++interval->late_starts;
      Start(*workload, timetable.At(next++));
    }
    if (next < due) late_before = std::max(late_before, due);
    if ((next == timetable.count() && busy() == 0) || now >= drain_deadline) break;
    ReportIfDue(now, on_interval, total);
    int64_t wake = std::min(NextReportAt(), drain_deadline);
    if (next < timetable.count() && !free_slots.empty()) wake = std::min(wake, timetable.At(next));
    WaitUntil(wake);
  }
  interval->unfinished += busy() + (timetable.DueAt(MonotonicNowNs()) - next);
}

void LoadDriver::State::AbandonInFlight() {
  for (size_t i = 0; i < slots.size(); ++i) {
    if (!slots[i].busy) continue;
    curl_multi_remove_handle(multi.get(), slots[i].easy.get());
    slots[i].busy = false;
    free_slots.push_back(i);
  }
}

void LoadDriver::Run(Workload& workload, const std::atomic<bool>& stop,
                     const IntervalReport& on_interval, RunStats* total) {
  State& s = *state_;
  total->Reset();
  s.interval->Reset();
  s.run_start_ns = s.interval_start_ns = MonotonicNowNs();
  s.workload = &workload;
  if (s.options.closed_loop) {
    s.RunClosedLoop(stop, on_interval, total);
  } else {
    s.RunOpenLoop(stop, on_interval, total);
  }
  s.workload = nullptr;
  s.AbandonInFlight();
  const int64_t now = MonotonicNowNs();
  s.interval->elapsed_ns = now - s.interval_start_ns;
  total->Merge(*s.interval);
  s.interval->Reset();
  // A closed loop's requests are counted up to the end of the duration, as wrk counts them.
  const int64_t end_ns = s.run_start_ns + s.options.duration_ns;
  total->elapsed_ns = (s.options.closed_loop ? std::min(now, end_ns) : now) - s.run_start_ns;
}

}  // namespace crmscope::loadgen
