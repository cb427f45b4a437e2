#include "bindings/lua/lua_vm.hpp"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "bindings/lua/lua_task.hpp"
#include "bindings/lua/trampoline.hpp"
#include "bindings/lua/watchdog.hpp"

extern "C" {
#include <lauxlib.h>
#include <lualib.h>
}

namespace rfq::lua {
namespace {

std::atomic<std::uint64_t> g_generation{1};

constexpr const char* kLoadedKey = "rfq.loaded";

// Replaces load() so that binary chunks can never be loaded; dofile/loadfile are removed.
// Also: coroutine.resume/close refuse a task's own thread (obtained via coroutine.running), so
// one task cannot wake or kill another while it waits for a venue.
constexpr const char* kPrelude = R"lua(
local rawload = load
load = function(chunk, name, mode, ...)
  if select('#', ...) > 0 then return rawload(chunk, name, "t", ...) end
  return rawload(chunk, name, "t")
end
local is_task, resume, close = __rfq_is_task, coroutine.resume, coroutine.close
local enter, leave = __rfq_enter, __rfq_leave
local create, pack, unpack_, type_ = coroutine.create, table.pack, table.unpack, type
__rfq_is_task, __rfq_enter, __rfq_leave = nil, nil, nil
-- enter/leave tell the watchdog which coroutine runs, so a runaway in it can be stopped.
local function run(co, ...)
  enter(co)
  local r = pack(resume(co, ...))
  leave(co)
  return r
end
coroutine.resume = function(co, ...)
  if is_task(co) then error("coroutine.resume: cannot resume a policy task", 2) end
  return unpack_(run(co, ...))
end
coroutine.wrap = function(f)
  local co = create(f)
  return function(...)
    local r = run(co, ...)
    if r[1] then return unpack_(r, 2, r.n) end
    close(co)
    error(r[2], type_(r[2]) == "string" and 2 or 0)
  end
end
coroutine.close = function(co)
  if is_task(co) then error("coroutine.close: cannot close a policy task", 2) end
  return close(co)
end
local rawsetmetatable, rawget_ = setmetatable, rawget
setmetatable = function(t, mt)
  if type_(mt) == "table" and rawget_(mt, "__gc") ~= nil then
    error("setmetatable: __gc is not allowed (finalizers run outside the instruction limit)", 2)
  end
  return rawsetmetatable(t, mt)
end
)lua";

// What the watchdog's signal handler needs, on the thread that resumes Lua: the token of the
// resume running under the watchdog, and the Lua threads it runs (the task's own, then the
// coroutines it resumed). Written by that thread only; the handler runs on it too.
constexpr int kMaxRunning = 16;
struct Running {
  std::atomic<std::uint64_t> token{0};
  std::atomic<int> count{0};
  std::atomic<lua_State*> threads[kMaxRunning];
  std::atomic<bool> fired{false};
  std::atomic<std::int64_t> slice_ms{0};  // the running resume's budget, for the message
};
thread_local Running g_running;

void watchdog_hook(lua_State* L, lua_Debug*) {
  if (!g_running.fired.load()) {
    lua_sethook(L, nullptr, 0, 0);  // left on a coroutine by an earlier resume
    return;
  }
  // Stays set (count 1): a pcall that caught the error gets no further than its next
  // instruction.
  luaL_where(L, 0);
  lua_pushfstring(L, "ran for more than %I ms without waiting: runaway code stopped",
                  static_cast<lua_Integer>(g_running.slice_ms.load()));
  lua_concat(L, 2);
  lua_error(L);
}

void on_watchdog_signal(int, siginfo_t* info, void*) {
  const auto token = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(info->si_value.sival_ptr));
  if (token == 0 || g_running.token.load() != token) return;  // that resume already ended
  g_running.fired.store(true);
  const int n = std::min(g_running.count.load(), kMaxRunning);
  for (int i = 0; i < n; ++i) {
    if (lua_State* t = g_running.threads[i].load()) lua_sethook(t, &watchdog_hook, LUA_MASKCOUNT, 1);
  }
}

void install_watchdog_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = &on_watchdog_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(watchdog_signal(), &sa, nullptr);
  });
}

// __rfq_enter(co) / __rfq_leave(co): a coroutine starts / stops running inside the resume.
int l_enter(lua_State* L) {
  lua_State* co = lua_tothread(L, 1);
  if (co == nullptr || g_running.token.load() == 0) return 0;
  const int n = g_running.count.load();
  if (n < kMaxRunning) {
    g_running.threads[n].store(co);
    g_running.count.store(n + 1);
  }
  if (g_running.fired.load()) lua_sethook(co, &watchdog_hook, LUA_MASKCOUNT, 1);
  return 0;
}

int l_leave(lua_State* L) {
  lua_State* co = lua_tothread(L, 1);
  const int n = g_running.count.load();
  if (co == nullptr || n <= 1 || n > kMaxRunning) return 0;
  if (g_running.threads[n - 1].load() == co) g_running.count.store(n - 1);
  return 0;
}

// __rfq_is_task(co): true when co is the thread of a LuaTask.
int l_is_task(lua_State* L) {
  lua_State* co = lua_tothread(L, 1);
  lua_pushboolean(L, co != nullptr && LuaTask::current(co) != nullptr);
  return 1;
}

// The Lua panic handler: only reached by an error outside any protected call, which the host
// avoids; if it happens anyway, say why before Lua aborts.
int on_panic(lua_State* L) {
  const char* msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(not a string)";
  std::fprintf(stderr, "rfqd: unprotected Lua error, aborting: %s\n", msg);
  return 0;
}

struct NewThread {
  lua_State* co = nullptr;
  int ref = LUA_NOREF;
};

// Creates a thread anchored in the registry. Protected by the caller's lua_pcall.
int make_thread(lua_State* L) {
  auto* nt = static_cast<NewThread*>(lua_touserdata(L, 1));
  nt->co = lua_newthread(L);
  nt->ref = luaL_ref(L, LUA_REGISTRYINDEX);
  return 0;
}

bool valid_module_name(std::string_view name) {
  if (name.empty() || name.size() > 128 || name.front() == '.' || name.back() == '.') return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) return false;
  }
  return name.find("..") == std::string_view::npos;
}

// require(name): Lua files from the VM's require_paths only, text mode, cached per VM.
CallResult l_require(lua_State* L) {
  std::string name = check_string(L, 1, "require", "name");
  if (!valid_module_name(name)) {
    throw LuaMisuse("require: bad module name '" + name + "' (letters, digits, _ and . only)");
  }
  lua_getfield(L, LUA_REGISTRYINDEX, kLoadedKey);
  if (lua_getfield(L, -1, name.c_str()) != LUA_TNIL) return CallResult::values(1);
  lua_pop(L, 1);
  std::string rel = name;
  for (auto& c : rel) c = c == '.' ? '/' : c;
  LuaVm& vm = LuaVm::from(L);
  std::string tried;
  for (const auto& dir : vm.options().require_paths) {
    std::string path = dir + "/" + rel + ".lua";
    if (!std::ifstream(path).good()) {
      tried += "\n\tno file '" + path + "'";
      continue;
    }
    vm.note_required_file(path);
    std::string error;
    if (!LuaVm::load_file(L, path, error)) throw LuaMisuse("require: " + error);
    // Protected call: a module error must not longjmp across this frame's C++ locals. The
    // module's own code runs under the memory cap like any script code.
    lua_pushstring(L, name.c_str());
    vm.leave_host();
    const int status = lua_pcall(L, 1, 1, 0);
    vm.enter_host();
    if (status != LUA_OK) {
      std::string err = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "error object";
      lua_pop(L, 1);
      throw LuaMisuse("require '" + name + "': " + err);
    }
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, name.c_str());
    return CallResult::values(1);
  }
  throw LuaMisuse("require: module '" + name + "' not found:" + tried);
}

}  // namespace

struct LuaVm::Timer {
  int fn_ref;
  Millis interval;  // 0: one-shot
  std::string name;
  TimerHandle handle;
  std::weak_ptr<LuaTask> last;
  bool due = false;  // a one-shot that came due while the VM was paused
};

LuaVm::LuaVm(boost::asio::io_context& io, Clock& clock, VmOptions options)
    : io_(io), clock_(clock), options_(std::move(options)), generation_(g_generation++) {
  L_ = lua_newstate(&LuaVm::allocate, this);
  if (L_ == nullptr) throw std::runtime_error("cannot create Lua state (memory limit too low?)");
  *static_cast<LuaTask**>(lua_getextraspace(L_)) = nullptr;
  lua_atpanic(L_, &on_panic);
  // Policies make short-lived tables on every call (requests, results): generational mode
  // collects them in small young collections instead of long incremental cycles.
  lua_gc(L_, LUA_GCGEN, 0, 0);
  open_sandbox();
  if (options_.instruction_limit == 0 && options_.watchdog_slice.count() > 0) {
    watched_ = true;
    install_watchdog_handler();
    Watchdog::instance().attach();
  }
  if (options_.instruction_limit != 0) {
    hook_every_ = static_cast<int>(std::min<std::uint64_t>(options_.instruction_limit, 1000));
    if (options_.instruction_limit_message.empty()) {
      options_.instruction_limit_message = "instruction limit exceeded (" +
                                           std::to_string(options_.instruction_limit) +
                                           " per resume): runaway code stopped";
    }
  }
}

void LuaVm::start_slice(lua_State* thread, Millis slice) {
  if (hook_every_ == 0 && options_.watchdog_slice.count() > 0) {
    slice_over_ = false;
    g_running.token.store(0);
    g_running.threads[0].store(thread);
    g_running.count.store(1);
    g_running.fired.store(false);
    const Millis budget = slice.count() > 0 ? slice : options_.watchdog_slice;
    g_running.slice_ms.store(budget.count());
    runaway_message_ = "ran for more than " + std::to_string(budget.count()) +
                       " ms without waiting: runaway code stopped";
    watchdog_token_ = Watchdog::instance().begin(Watchdog::Clock::now() + budget);
    g_running.token.store(watchdog_token_);
    return;
  }
  if (hook_every_ == 0) return;
  slice_used_ = 0;
  slice_over_ = false;
  slice_thread_ = thread;
  lua_sethook(thread, &instruction_hook, LUA_MASKCOUNT, hook_every_);
}

void LuaVm::end_slice(lua_State* thread) {
  if (watchdog_token_ != 0) {
    g_running.token.store(0);
    g_running.count.store(0);
    const bool fired = Watchdog::instance().end(watchdog_token_) || g_running.fired.load();
    watchdog_token_ = 0;
    if (fired) {
      slice_over_ = true;
      lua_sethook(thread, nullptr, 0, 0);
    }
    return;
  }
  if (hook_every_ != 0) lua_sethook(thread, nullptr, 0, 0);
  slice_thread_ = nullptr;
}

// Coroutines created while a slice runs inherit the hook, so their instructions count too.
void LuaVm::instruction_hook(lua_State* L, lua_Debug*) {
  LuaVm& vm = from(L);
  if (!vm.slice_over_ && lua_gethookcount(L) != vm.hook_every_) {
    // A coroutine left raising by an earlier slice's runaway, resumed in a new slice.
    lua_sethook(L, &instruction_hook, LUA_MASKCOUNT, vm.hook_every_);
    return;
  }
  if (!vm.slice_over_) {
    vm.slice_used_ += static_cast<std::uint64_t>(vm.hook_every_);
    if (vm.slice_used_ < vm.options_.instruction_limit) return;
    vm.slice_over_ = true;
  }
  // From now on every instruction of this thread, and of the slice's own thread when this is
  // a coroutine, fails: a pcall or a coroutine's resumer that caught the error gets no further
  // than its next instruction.
  lua_sethook(L, &instruction_hook, LUA_MASKCOUNT, 1);
  if (vm.slice_thread_ != nullptr && vm.slice_thread_ != L) {
    lua_sethook(vm.slice_thread_, &instruction_hook, LUA_MASKCOUNT, 1);
  }
  luaL_where(L, 0);  // in a hook, level 0 is the Lua function being run
  lua_pushstring(L, vm.options_.instruction_limit_message.c_str());
  lua_concat(L, 2);
  lua_error(L);
}

LuaVm::~LuaVm() {
  if (watched_) Watchdog::instance().detach();
  closing_ = true;
  timers_.clear();  // handles cancel; callbacks never run
  tasks_.clear();   // unreferences threads while the state is still open
  *alive_ = false;  // tasks destroyed later (e.g. held by a late completion) leave the state alone
  lua_close(L_);
}

void LuaVm::provide_module(const char* name) {
  lua_getfield(L_, LUA_REGISTRYINDEX, kLoadedKey);
  lua_insert(L_, -2);
  lua_setfield(L_, -2, name);
  lua_pop(L_, 1);
}

LuaVm& LuaVm::from(lua_State* L) {
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  return *static_cast<LuaVm*>(ud);
}

void* LuaVm::allocate(void* ud, void* ptr, std::size_t osize, std::size_t nsize) {
  auto* vm = static_cast<LuaVm*>(ud);
  const std::size_t old = ptr != nullptr ? osize : 0;
  if (nsize == 0) {
    vm->memory_used_ -= old;
    std::free(ptr);
    return nullptr;
  }
  const std::size_t limit = vm->options_.memory_limit;
  if (limit != 0 && nsize > old && vm->memory_used_ - old + nsize > limit && !vm->closing_ &&
      vm->host_depth_ == 0) {
    return nullptr;  // Lua raises "not enough memory" in the running coroutine
  }
  void* p = std::realloc(ptr, nsize);
  if (p == nullptr) return nullptr;
  vm->memory_used_ = vm->memory_used_ - old + nsize;
  return p;
}

void LuaVm::open_sandbox() {
  static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},        {LUA_COLIBNAME, luaopen_coroutine},
                                  {LUA_TABLIBNAME, luaopen_table},  {LUA_STRLIBNAME, luaopen_string},
                                  {LUA_MATHLIBNAME, luaopen_math},  {LUA_UTF8LIBNAME, luaopen_utf8},
                                  {LUA_OSLIBNAME, luaopen_os}};
  for (const auto& lib : libs) {
    luaL_requiref(L_, lib.name, lib.func, 1);
    lua_pop(L_, 1);
  }
  // os keeps only the clock and date functions.
  lua_getglobal(L_, "os");
  for (const char* name : {"execute", "exit", "getenv", "remove", "rename", "tmpname", "setlocale"}) {
    lua_pushnil(L_);
    lua_setfield(L_, -2, name);
  }
  lua_pop(L_, 1);
  for (const char* name : {"dofile", "loadfile"}) {
    lua_pushnil(L_);
    lua_setglobal(L_, name);
  }
  lua_newtable(L_);
  lua_setfield(L_, LUA_REGISTRYINDEX, kLoadedKey);
  lua_pushcfunction(L_, &trampoline<l_require>);
  lua_setglobal(L_, "require");
  lua_pushcfunction(L_, &l_is_task);
  lua_setglobal(L_, "__rfq_is_task");
  lua_pushcfunction(L_, &l_enter);
  lua_setglobal(L_, "__rfq_enter");
  lua_pushcfunction(L_, &l_leave);
  lua_setglobal(L_, "__rfq_leave");
  if (luaL_dostring(L_, kPrelude) != LUA_OK) {
    std::string err = lua_tostring(L_, -1);
    lua_pop(L_, 1);
    throw std::runtime_error("sandbox prelude failed: " + err);
  }
}

bool LuaVm::load_string(lua_State* target, const std::string& source,
                        const std::string& chunk_name, std::string& error) {
  if (luaL_loadbufferx(target, source.data(), source.size(), chunk_name.c_str(), "t") != LUA_OK) {
    error = lua_tostring(target, -1) != nullptr ? lua_tostring(target, -1) : "load failed";
    lua_pop(target, 1);
    return false;
  }
  return true;
}

bool LuaVm::load_file(lua_State* target, const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open file";
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  // "@path" makes messages read "path:line: ..." like the stock Lua loader.
  return load_string(target, ss.str(), "@" + path, error);
}

std::shared_ptr<LuaTask> LuaVm::spawn(int nargs, std::string task_name) {
  return spawn_from(L_, nargs, std::move(task_name));
}

std::shared_ptr<LuaTask> LuaVm::spawn_from(lua_State* from, int nargs, std::string task_name) {
  // The thread is made under lua_pcall on the main thread: out of memory here (a timer tick
  // on the loop) must fail this spawn, not abort the process.
  NewThread nt;
  lua_pushcfunction(L_, &make_thread);
  lua_pushlightuserdata(L_, &nt);
  const int status = lua_pcall(L_, 1, 0, 0);
  if (status != LUA_OK) lua_pop(L_, 1);  // the error object
  if (status != LUA_OK || nt.co == nullptr || !lua_checkstack(nt.co, nargs + 1)) {
    if (nt.ref != LUA_NOREF) luaL_unref(L_, LUA_REGISTRYINDEX, nt.ref);
    lua_pop(from, nargs + 1);
    report_error(task_name, "could not start the task: not enough memory");
    return nullptr;
  }
  lua_State* co = nt.co;
  lua_xmove(from, co, nargs + 1);
  const std::uint64_t id = next_task_id_++;
  auto task = std::make_shared<LuaTask>(*this, co, nt.ref, id, std::move(task_name));
  // The first task of a VM is its main chunk: its first resume has the load deadline.
  if (id == 1 && options_.load_deadline.count() > 0) task->first_slice_ = options_.load_deadline;
  *static_cast<LuaTask**>(lua_getextraspace(co)) = task.get();
  tasks_.emplace(task.get(), task);
  std::weak_ptr<LuaTask> weak = task;
  boost::asio::post(io_, [this, alive = alive_, weak, gen = generation_, nargs] {
    if (!*alive) return;
    when_running([weak, gen, nargs] {
      auto t = weak.lock();
      if (t && t->generation() == gen && t->state() == TaskState::NotStarted) t->start(nargs);
    });
  });
  return task;
}

void LuaVm::set_paused(bool paused) {
  if (paused_ == paused || closing_) return;
  paused_ = paused;
  if (paused_) return;
  // Held work runs from the loop, in the order it came; a pause in between holds the rest again.
  auto held = std::exchange(held_, {});
  for (auto& fn : held) {
    boost::asio::post(io_, [this, alive = alive_, fn = std::make_shared<UniqueFunction<void()>>(
                                                      std::move(fn))]() mutable {
      if (*alive) when_running(std::move(*fn));
    });
  }
  std::vector<std::uint64_t> due;
  for (const auto& [id, t] : timers_) {
    if (t->due) due.push_back(id);
  }
  std::sort(due.begin(), due.end());  // in the order they were made
  for (auto id : due) {
    boost::asio::post(io_, [this, alive = alive_, id] {
      if (*alive) fire(id);
    });
  }
}

void LuaVm::forget(LuaTask* task) { tasks_.erase(task); }

void LuaVm::note_required_file(const std::string& path) {
  if (std::find(required_files_.begin(), required_files_.end(), path) != required_files_.end()) {
    return;
  }
  required_files_.push_back(path);
  if (require_observer_) require_observer_();
}

void LuaVm::report_error(const std::string& task_name, const std::string& message) {
  ++errors_;
  if (error_sink_) error_sink_(task_name, message);
}

std::uint64_t LuaVm::add_timer(int fn_ref, Millis delay, Millis interval, std::string name) {
  std::uint64_t id = next_timer_id_++;
  timers_.emplace(id, std::make_unique<Timer>(Timer{fn_ref, interval, std::move(name), {}, {}}));
  auto& t = *timers_.at(id);
  t.handle = clock_.schedule(delay, [this, id] { fire(id); });
  return id;
}

void LuaVm::cancel_timer(std::uint64_t id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  luaL_unref(L_, LUA_REGISTRYINDEX, it->second->fn_ref);
  timers_.erase(it);
}

void LuaVm::fire(std::uint64_t id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  Timer& t = *it->second;
  const bool repeat = t.interval.count() > 0;
  if (repeat) t.handle = clock_.schedule(t.interval, [this, id] { fire(id); });
  if (paused_) {
    if (repeat) {
      ++skipped_ticks_;
    } else {
      t.due = true;
    }
    return;
  }
  // A tick whose previous run is still suspended is skipped, so slow ticks never pile up.
  if (auto last = t.last.lock(); last && last->state() != TaskState::Finished) {
    ++skipped_ticks_;
    return;
  }
  if (!lua_checkstack(L_, 4)) return report_error(t.name, "tick skipped: no stack space");
  lua_rawgeti(L_, LUA_REGISTRYINDEX, t.fn_ref);
  t.last = spawn(0, t.name);
  if (!repeat) cancel_timer(id);
}

}  // namespace rfq::lua
