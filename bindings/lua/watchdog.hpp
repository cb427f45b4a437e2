#pragma once
// The runaway watchdog of `rfqd run`: one thread per process that watches the resumes of the
// VMs that ask for it. When a resume runs past its deadline, the watchdog sends the resuming
// thread a signal (watchdog_signal(), with the resume's token as its value); its handler, on that thread, sets Lua's count hook
// (lua_sethook is made to be called from a signal handler), and the hook ends the running
// coroutine (lua_vm.cpp). In the steady state no hook is set: a resume costs two uncontended
// mutex operations and a clock read, and the watchdog thread wakes every 5 ms while a VM uses
// it (attach/detach), never otherwise.

#include <chrono>
#include <csignal>
#include <cstdint>

namespace rfq::lua {

// The signal the watchdog interrupts a runaway thread with (a real-time one, so a host's own
// handlers of the classic signals are left alone).
inline int watchdog_signal() { return SIGRTMIN + 3; }

class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;

  static Watchdog& instance();

  // A VM that will call begin(): the watchdog thread polls while any is attached.
  void attach();
  void detach();

  // The calling thread starts a resume that may run until `deadline`. Returns a token for end().
  std::uint64_t begin(Clock::time_point deadline);
  // The resume ended (yield, return or error). True when the watchdog signalled it.
  bool end(std::uint64_t token);

  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  Watchdog();
  ~Watchdog();
  struct Impl;
  Impl* impl_;
};

}  // namespace rfq::lua
