#include "bindings/lua/watchdog.hpp"

#include <pthread.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>

namespace rfq::lua {
namespace {

// How often the watchdog looks: a resume is stopped at most this long after its deadline.
constexpr std::chrono::milliseconds kPoll{5};

}  // namespace

struct Watchdog::Impl {
  struct Slot {
    Clock::time_point deadline;
    pthread_t thread;
    bool fired = false;
  };

  std::mutex mutex;
  std::condition_variable wake;
  std::map<std::uint64_t, Slot> slots;
  std::uint64_t next = 1;
  std::size_t users = 0;
  bool stopping = false;
  std::thread thread;

  Impl() : thread([this] { run(); }) {}

  ~Impl() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    wake.notify_one();
    thread.join();
  }

  void run() {
    std::unique_lock lock(mutex);
    while (!stopping) {
      if (users == 0) {
        wake.wait(lock);  // attach() wakes it
        continue;
      }
      const auto now = Clock::now();
      for (auto& [token, slot] : slots) {
        if (slot.fired || now < slot.deadline) continue;
        slot.fired = true;
        // Under the lock: end() cannot return (and the thread cannot move on to other work)
        // before the signal is queued; the handler checks that a resume is still running.
        sigval value{};
        value.sival_ptr = reinterpret_cast<void*>(static_cast<std::uintptr_t>(token));
        pthread_sigqueue(slot.thread, watchdog_signal(), value);
      }
      wake.wait_for(lock, kPoll);
    }
  }
};

Watchdog& Watchdog::instance() {
  static Watchdog w;
  return w;
}

Watchdog::Watchdog() : impl_(new Impl) {}
Watchdog::~Watchdog() { delete impl_; }

void Watchdog::attach() {
  {
    std::lock_guard lock(impl_->mutex);
    ++impl_->users;
  }
  impl_->wake.notify_one();
}

void Watchdog::detach() {
  std::lock_guard lock(impl_->mutex);
  --impl_->users;
}

std::uint64_t Watchdog::begin(Clock::time_point deadline) {
  std::lock_guard lock(impl_->mutex);
  const std::uint64_t token = impl_->next++;
  impl_->slots.emplace(token, Impl::Slot{deadline, pthread_self()});
  return token;
}

bool Watchdog::end(std::uint64_t token) {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->slots.find(token);
  if (it == impl_->slots.end()) return false;
  const bool fired = it->second.fired;
  impl_->slots.erase(it);
  return fired;
}

}  // namespace rfq::lua
