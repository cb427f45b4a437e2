#include "bindings/cli/test_command.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <ostream>
#include <sstream>

#include "bindings/lua/lua_vm.hpp"
#include "bindings/modules/rfq_test.hpp"
#include "engine/core/clock.hpp"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

namespace rfq::cli {
namespace {

namespace fs = std::filesystem;

// Lua instructions a test file's main chunk, or one case's own code, may run (not counting the
// policies, which have their own limit per resume): a runaway test fails, the run goes on.
constexpr std::uint64_t kTestInstructionLimit = 200'000'000;

constexpr std::size_t kErrorsShown = 3;  // unexpected policy errors listed in a failure

struct CaseResult {
  std::string name;
  bool ok = true;
  std::string message;
  double seconds = 0;  // wall time, JUnit only (TAP stays byte-identical between runs)
};

struct FileResult {
  std::string path;
  std::vector<CaseResult> cases;
};

// print(...) in a test file: one TAP comment line ("# a\tb"), so the stream stays valid.
int l_print(lua_State* L) {
  auto* out = static_cast<std::ostream*>(lua_touserdata(L, lua_upvalueindex(1)));
  const int n = lua_gettop(L);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "# ");
  for (int i = 1; i <= n; ++i) {
    if (i > 1) luaL_addchar(&b, '\t');
    luaL_tolstring(L, i, nullptr);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  std::size_t len = 0;
  const char* text = lua_tolstring(L, -1, &len);
  for (std::size_t i = 0; i < len; ++i) {
    out->put(text[i]);
    if (text[i] == '\n') *out << "# ";
  }
  out->put('\n');
  return 0;
}

// Calls the function under `nargs` arguments on top of the stack, within the test code's
// instruction limit; "" or the error text.
std::string protected_call(lua::LuaVm& vm, int nargs) {
  lua_State* L = vm.state();
  vm.start_slice(L);
  const int status = lua_pcall(L, nargs, 0, 0);
  vm.end_slice(L);
  if (status == LUA_OK && vm.slice_over()) return vm.options().instruction_limit_message;
  if (status == LUA_OK) return {};
  std::string message =
      lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(error object is not a string)";
  lua_pop(L, 1);
  return message;
}

// Files named on the command line run whatever their name; folders give their *_test.lua
// files (recursively), so helpers and fixture policies can sit beside the tests.
bool collect(const std::vector<std::string>& paths, std::vector<std::string>& files,
             std::ostream& err) {
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (const auto& e : fs::recursive_directory_iterator(p, ec)) {
        const std::string name = e.path().filename().string();
        if (e.is_regular_file() && name.size() > 9 && name.ends_with("_test.lua")) {
          found.push_back(e.path().lexically_normal().string());
        }
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(p, ec)) {
      files.push_back(fs::path(p).lexically_normal().string());
    } else {
      err << "rfqd test: no such file or folder: " << p << "\n";
      return false;
    }
  }
  return true;
}

std::string tap_description(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '#' || c == '\\') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

void tap_failure(std::ostream& out, const std::string& message) {
  out << "  ---\n  message: |-\n";
  std::istringstream lines(message);
  for (std::string line; std::getline(lines, line);) out << "    " << line << "\n";
  out << "  ...\n";
}

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

bool write_junit(const std::string& path, const std::vector<FileResult>& files) {
  std::ofstream f(path, std::ios::trunc);
  if (!f) return false;
  std::size_t total = 0, failed = 0;
  for (const auto& file : files) {
    total += file.cases.size();
    for (const auto& c : file.cases) failed += c.ok ? 0 : 1;
  }
  f << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  f << "<testsuites name=\"rfqd test\" tests=\"" << total << "\" failures=\"" << failed << "\">\n";
  for (const auto& file : files) {
    std::size_t file_failed = 0;
    double seconds = 0;
    for (const auto& c : file.cases) {
      file_failed += c.ok ? 0 : 1;
      seconds += c.seconds;
    }
    f << "  <testsuite name=\"" << xml_escape(file.path) << "\" tests=\"" << file.cases.size()
      << "\" failures=\"" << file_failed << "\" time=\"" << seconds << "\">\n";
    for (const auto& c : file.cases) {
      f << "    <testcase classname=\"" << xml_escape(file.path) << "\" name=\""
        << xml_escape(c.name) << "\" time=\"" << c.seconds << "\"";
      if (c.ok) {
        f << "/>\n";
        continue;
      }
      const std::string first = c.message.substr(0, c.message.find('\n'));
      f << ">\n      <failure message=\"" << xml_escape(first) << "\">" << xml_escape(c.message)
        << "</failure>\n    </testcase>\n";
    }
    f << "  </testsuite>\n";
  }
  f << "</testsuites>\n";
  return static_cast<bool>(f.flush());
}

class Runner {
 public:
  Runner(const TestOptions& options, std::ostream& out) : options_(options), out_(out) {}

  FileResult run_file(const std::string& path) {
    FileResult result{path, {}};
    lua::VmOptions vo;
    vo.name = path;
    vo.instruction_limit = kTestInstructionLimit;
    vo.instruction_limit_message = "instruction limit exceeded (" +
                                   std::to_string(kTestInstructionLimit) +
                                   "): the test's own code is stuck in a loop";
    const std::string dir = fs::path(path).parent_path().string();
    vo.require_paths = {dir.empty() ? "." : dir, RFQ_SCRIPTS_DIR "/lib"};
    lua::LuaVm vm(io_, clock_, vo);
    lua::TestRegistry registry;
    lua::open_test_module(vm, registry);
    lua_State* L = vm.state();
    // print() writes TAP comment lines, so a test's output never breaks the stream.
    lua_pushlightuserdata(L, &out_);
    lua_pushcclosure(L, &l_print, 1);
    lua_setglobal(L, "print");
    // The stock math.randomseed, kept before any test code can replace or remove it.
    lua_getglobal(L, "math");
    lua_getfield(L, -1, "randomseed");
    randomseed_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 1);
    seed_math_random(L);

    std::string error;
    if (!vm.load_file(path, error)) {
      report(result, {"(loading the file)", false, error});
      return result;
    }
    if (std::string e = protected_call(vm, 0); !e.empty()) {
      report(result, {"(running the file's main chunk)", false, e});
      return result;
    }
    if (registry.cases.empty()) {
      report(result, {"(no cases)", false, path + ": the file registers no t.case"});
      return result;
    }
    registry.running = true;
    for (const auto& c : registry.cases) {
      if (!options_.filter.empty() &&
          (path + ": " + c.name).find(options_.filter) == std::string::npos) {
        continue;
      }
      report(result, run_case(vm, c, dir));
    }
    return result;
  }

  std::size_t count() const { return count_; }
  std::size_t failed() const { return failed_; }

 private:
  CaseResult run_case(lua::LuaVm& vm, const lua::TestCase& c, const std::string& dir) {
    const auto started = std::chrono::steady_clock::now();
    CaseResult r{c.name, true, {}};
    lua::TestWorldOptions wo;
    wo.seed = options_.seed;
    wo.test_dir = dir;
    wo.scripts_lib_dir = RFQ_SCRIPTS_DIR "/lib";
    {
      lua::TestWorld world(wo);
      if (std::string e = world.start(); !e.empty()) {
        r = {c.name, false, c.where + ": the simulated world did not start: " + e};
      } else {
        lua_State* L = vm.state();
        seed_math_random(L);
        lua_rawgeti(L, LUA_REGISTRYINDEX, c.fn_ref);
        lua::push_test_world(L, world);
        lua_pushvalue(L, -1);
        const int s_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        std::string e2 = protected_call(vm, 1);
        lua_rawgeti(L, LUA_REGISTRYINDEX, s_ref);
        lua::retire_test_world(L, -1);
        lua_pop(L, 1);
        luaL_unref(L, LUA_REGISTRYINDEX, s_ref);
        if (!e2.empty()) {
          r = {c.name, false, e2};
        } else if (!world.unread_errors().empty()) {
          std::string m = c.where + ": policy task errors the case did not take with s:errors():";
          const auto& errors = world.unread_errors();
          for (std::size_t i = 0; i < errors.size() && i < kErrorsShown; ++i) m += "\n" + errors[i];
          if (errors.size() > kErrorsShown) {
            m += "\n(" + std::to_string(errors.size() - kErrorsShown) + " more)";
          }
          r = {c.name, false, m};
        }
      }
    }
    lua_gc(vm.state(), LUA_GCCOLLECT);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return r;
  }

  // math.random in the test's own code repeats with --seed (before the main chunk and before
  // each case), like everything else.
  void seed_math_random(lua_State* L) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, randomseed_ref_);
    lua_pushinteger(L, static_cast<lua_Integer>(options_.seed));
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) lua_pop(L, 1);
  }

  void report(FileResult& file, CaseResult r) {
    ++count_;
    if (!r.ok) ++failed_;
    out_ << (r.ok ? "ok " : "not ok ") << count_ << " - "
         << tap_description(file.path + ": " + r.name) << "\n";
    if (!r.ok) tap_failure(out_, r.message);
    file.cases.push_back(std::move(r));
  }

  const TestOptions& options_;
  std::ostream& out_;
  boost::asio::io_context io_;  // the test files' own VMs never use it
  VirtualClock clock_{io_, 0};
  std::size_t count_ = 0;
  std::size_t failed_ = 0;
  int randomseed_ref_ = LUA_NOREF;  // in the current file's VM
};

}  // namespace

int test_command(const TestOptions& options, std::ostream& out, std::ostream& err) {
  std::vector<std::string> files;
  const std::vector<std::string> default_paths{"tests/lua"};
  if (!collect(options.paths.empty() ? default_paths : options.paths, files, err)) return 2;
  if (files.empty()) {
    err << "rfqd test: no *_test.lua file found\n";
    return 2;
  }
  if (!options.junit.empty() && !std::ofstream(options.junit, std::ios::app)) {
    err << "rfqd test: --junit: cannot write " << options.junit << "\n";
    return 2;
  }
  out << "TAP version 14\n";
  Runner runner(options, out);
  std::vector<FileResult> results;
  for (const auto& f : files) results.push_back(runner.run_file(f));
  out << "1.." << runner.count() << "\n";
  out << "# " << runner.count() << " cases, " << runner.count() - runner.failed() << " passed, "
      << runner.failed() << " failed (seed " << options.seed << ")\n";
  out.flush();
  if (!options.junit.empty() && !write_junit(options.junit, results)) {
    err << "rfqd test: --junit: cannot write " << options.junit << "\n";
    return 2;
  }
  if (runner.count() == 0) {
    err << "rfqd test: no case matches --filter '" << options.filter << "'\n";
    return 2;
  }
  return runner.failed() == 0 ? 0 : 1;
}

}  // namespace rfq::cli
