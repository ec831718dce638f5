#include "crm_demo/node/fault_injector.h"

#include <algorithm>

#include "common/log.h"
#include "crm_demo/node/schema.h"
#include "crm_demo/node/sqlite_handles.h"

namespace crmscope::crm {

namespace {

bool RunDdl(const std::string& db_path, const std::string& sql, std::string* error) {
  SqliteDb db = OpenCrmDatabase(db_path, /*create=*/false, error);
  return db && Exec(db.get(), sql.c_str(), error);
}

}  // namespace

FaultInjector::FaultInjector(std::string db_path, CustomerCache* cache)
    : db_path_(std::move(db_path)),
      cache_(cache),
      normal_capacity_(cache ? cache->capacity() : 0),
      lock_holder_(db_path_) {
  reaper_ = std::thread([this] { Reap(); });
}

FaultInjector::~FaultInjector() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  reaper_.join();
  Clear();
}

bool FaultInjector::Add(const FaultSpec& spec, int64_t* id, std::string* error) {
  if (spec.type == FaultType::kCacheCapacity && cache_ == nullptr) {
    *error = "this node runs without a cache (--cache=off)";
    return false;
  }
  std::lock_guard<std::mutex> apply(apply_mu_);
  Active fault{0, spec, Clock::now(), {}};
  fault.ends = fault.started + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(spec.duration_s));
  std::vector<Active> wanted;
  {
    std::lock_guard<std::mutex> lock(mu_);
    wanted = active_;
  }
  wanted.push_back(fault);
  if (!Reconcile(wanted, error)) {
    wanted.pop_back();
    std::string ignored;
    Reconcile(wanted, &ignored);
    return false;
  }
  if (spec.type == FaultType::kSlowStart && cache_) {
    // A restarted node starts with an empty cache.
    size_t capacity = cache_->capacity();
    cache_->SetCapacity(0);
    cache_->SetCapacity(capacity);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    fault.id = *id = next_id_++;
    active_.push_back(std::move(fault));
    active_count_.store(active_.size(), std::memory_order_release);
  }
  changed_.notify_all();
  return true;
}

nlohmann::json FaultInjector::List() const {
  nlohmann::json faults = nlohmann::json::array();
  std::lock_guard<std::mutex> lock(mu_);
  Clock::time_point now = Clock::now();
  for (const Active& a : active_) {
    double remaining = std::chrono::duration<double>(a.ends - now).count();
    faults.push_back({{"id", a.id},
                      {"type", FaultTypeName(a.spec.type)},
                      {"params", a.spec.params},
                      {"duration_s", a.spec.duration_s},
                      {"remaining_s", std::max(0.0, remaining)}});
  }
  return nlohmann::json{{"faults", std::move(faults)}};
}

size_t FaultInjector::Clear() {
  std::lock_guard<std::mutex> apply(apply_mu_);
  size_t cleared;
  {
    std::lock_guard<std::mutex> lock(mu_);
    cleared = active_.size();
    active_.clear();
    active_count_.store(0, std::memory_order_release);
  }
  std::string error;
  if (!Reconcile({}, &error)) log::Error("cannot undo a fault", {{"err", error}});
  changed_.notify_all();
  return cleared;
}

FaultEffects FaultInjector::Compute(size_t template_id, double jitter_unit) const {
  FaultEffects effects;
  double keep = 1;  // independent error faults: a request escapes each one
  std::lock_guard<std::mutex> lock(mu_);
  Clock::time_point now = Clock::now();
  for (const Active& a : active_) {
    if (a.ends <= now) continue;  // over, though the reaper has not got to it yet
    const FaultSpec& f = a.spec;
    switch (f.type) {
      case FaultType::kLatency:
        if (!f.route_template || *f.route_template == template_id) {
          effects.delay_ms += f.ms + f.jitter_ms * jitter_unit;
        }
        break;
      case FaultType::kErrors:
        keep *= 1 - f.rate;
        break;
      case FaultType::kCpuBurn:
        effects.cpu_burn_ms += f.ms;
        break;
      case FaultType::kCacheOff:
        effects.cache_off = true;
        break;
      case FaultType::kSlowStart: {
        double elapsed = std::chrono::duration<double>(now - a.started).count();
        if (elapsed < f.ramp_s) effects.delay_ms += f.ms * (1 - elapsed / f.ramp_s);
        break;
      }
      default:  // effects outside the request path, applied by Reconcile
        break;
    }
  }
  effects.error_rate = 1 - keep;
  return effects;
}

void FaultInjector::Reap() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (active_.empty()) {
      changed_.wait(lock);
      continue;
    }
    Clock::time_point next = active_.front().ends;
    for (const Active& a : active_) next = std::min(next, a.ends);
    if (changed_.wait_until(lock, next) == std::cv_status::no_timeout) continue;
    lock.unlock();
    RemoveExpiredAndApply();
    lock.lock();
  }
}

void FaultInjector::RemoveExpiredAndApply() {
  std::lock_guard<std::mutex> apply(apply_mu_);
  std::vector<Active> remaining;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Clock::time_point now = Clock::now();
    std::erase_if(active_, [now](const Active& a) { return a.ends <= now; });
    active_count_.store(active_.size(), std::memory_order_release);
    remaining = active_;
  }
  std::string error;
  if (!Reconcile(remaining, &error)) log::Error("cannot undo a fault", {{"err", error}});
}

bool FaultInjector::Reconcile(const std::vector<Active>& faults, std::string* error) {
  std::set<std::string> want_dropped;
  double lock_share = 0;
  int64_t capacity = -1;
  for (const Active& a : faults) {
    if (a.spec.type == FaultType::kDropIndex) want_dropped.insert(a.spec.index);
    if (a.spec.type == FaultType::kDbLock) lock_share = std::max(lock_share, a.spec.share);
    if (a.spec.type == FaultType::kCacheCapacity) {
      capacity = capacity < 0 ? a.spec.entries : std::min(capacity, a.spec.entries);
    }
  }
  bool ok = true;
  // IF EXISTS / IF NOT EXISTS: other nodes share the database and may have got there first.
  for (const std::string& index : want_dropped) {
    if (dropped_indexes_.count(index)) continue;
    if (!RunDdl(db_path_, "DROP INDEX IF EXISTS " + index, error)) {
      ok = false;
      continue;
    }
    dropped_indexes_.insert(index);
  }
  for (auto it = dropped_indexes_.begin(); it != dropped_indexes_.end();) {
    const IndexDefinition* def = FindCrmIndex(*it);
    if (want_dropped.count(*it) || def == nullptr) {
      ++it;
    } else if (RunDdl(db_path_, std::string(def->create_sql), error)) {
      it = dropped_indexes_.erase(it);
    } else {
      ok = false;
      ++it;
    }
  }
  lock_holder_.SetShare(lock_share);
  if (cache_ && capacity >= 0) {
    cache_->SetCapacity(static_cast<size_t>(capacity));
    capacity_changed_ = true;
  } else if (cache_ && capacity_changed_) {
    cache_->SetCapacity(normal_capacity_);
    capacity_changed_ = false;
  }
  return ok;
}

}  // namespace crmscope::crm
