// The Lua API as registered, as annotated (scripts/types/rfq.lua, scripts/types/rfq_test.lua)
// and as documented (docs/lua-api.md) must name the same functions: this test fails when one of
// them drifts. Covers the policy module `rfq` and the test module `rfq.test` (t.* and s:*).
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "bindings/lua/lua_vm.hpp"
#include "bindings/modules/policy_host.hpp"
#include "bindings/modules/rfq_test.hpp"
#include "engine/engine.hpp"
#include "engine/venues/okx/okx_venue.hpp"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

using namespace rfq;

namespace {

using Names = std::set<std::string>;

const std::string kTypesFile = RFQ_SOURCE_DIR "/scripts/types/rfq.lua";
const std::string kTestTypesFile = RFQ_SOURCE_DIR "/scripts/types/rfq_test.lua";
const std::string kDocsFile = RFQ_SOURCE_DIR "/docs/lua-api.md";

// A policy host as rfq_module_test builds it: virtual clock, engine, an OKX venue never started.
struct Host {
  boost::asio::io_context io;
  VirtualClock clock{io, 1'700'000'000'000};
  Engine engine{io, clock};
  std::unique_ptr<lua::PolicyHost> policy;

  Host() {
    okx::OkxVenueOptions o;
    std::string error;
    REQUIRE(net::parse_origin("http://127.0.0.1:9", o.rest, error));
    engine.add_venue(std::make_unique<okx::OkxVenue>(io, clock, engine.book(), o));
    lua::PolicySpec spec;
    spec.name = "annotations";
    policy = std::make_unique<lua::PolicyHost>(engine, spec);
  }

  lua_State* L() { return policy->vm().state(); }
};

// Function names in the table on top of the stack, recursing into nested tables
// ("rfq.cancel", "rfq.log.info"). Leaves the stack as it found it.
void collect_functions(lua_State* L, const std::string& prefix, Names& out, int depth = 0) {
  const int t = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, t) != 0) {
    if (lua_type(L, -2) == LUA_TSTRING) {
      const std::string name = prefix + "." + lua_tostring(L, -2);
      if (lua_type(L, -1) == LUA_TFUNCTION) {
        out.insert(name);
      } else if (lua_type(L, -1) == LUA_TTABLE && depth < 4) {
        collect_functions(L, name, out, depth + 1);
      }
    }
    lua_pop(L, 1);
  }
}

// Methods of a userdata type: functions in its metatable's __index table ("rfq.timer:cancel").
void collect_methods(lua_State* L, const char* meta, Names& out) {
  luaL_getmetatable(L, meta);
  REQUIRE(lua_type(L, -1) == LUA_TTABLE);
  REQUIRE(lua_getfield(L, -1, "__index") == LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TFUNCTION) {
      out.insert(std::string(meta) + ":" + lua_tostring(L, -2));
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 2);
}

Names registered_functions(Host& h) {
  lua_State* L = h.L();
  Names out;
  REQUIRE(lua_getglobal(L, "rfq") == LUA_TTABLE);
  collect_functions(L, "rfq", out);
  lua_pop(L, 1);
  collect_methods(L, "rfq.timer", out);
  collect_methods(L, "rfq.task", out);
  collect_methods(L, "rfq.subscription", out);
  REQUIRE(lua_gettop(L) == 0);
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  INFO("reading " << path);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `function rfq.X(`, `function rfq.log.X(`, `function Timer:X(`, `function Task:X(` at the start
// of a line. Timer/Task are the local class tables of rfq.Timer / rfq.Task.
Names annotated_functions(const std::string& source) {
  static const std::regex fn(R"(^\s*function\s+(rfq(\.[A-Za-z_][A-Za-z0-9_]*)+)\s*\()");
  static const std::regex method(R"(^\s*function\s+(Timer|Task|Subscription):([A-Za-z_][A-Za-z0-9_]*)\s*\()");
  Names out;
  std::istringstream lines(source);
  std::string line;
  std::smatch m;
  while (std::getline(lines, line)) {
    if (std::regex_search(line, m, fn)) {
      out.insert(m[1].str());
    } else if (std::regex_search(line, m, method)) {
      const std::string type = m[1] == "Timer" ? "rfq.timer" : m[1] == "Task" ? "rfq.task" : "rfq.subscription";
      out.insert(type + ":" + m[2].str());
    }
  }
  return out;
}

// The name as a script writes it: methods on their instance ("timer:cancel", "task:wait").
std::string doc_name(const std::string& registered) {
  for (const char* meta : {"rfq.timer:", "rfq.task:", "rfq.subscription:"}) {
    const std::string p(meta);
    if (registered.rfind(p, 0) == 0) return p.substr(4) + registered.substr(p.size());
  }
  return registered;
}

// API names in "### " headings: "### rfq.cancel", "### rfq.log.debug, rfq.log.info, ...",
// "### timer:cancel". Each comma-separated part up to the first space or '(' is a name.
Names documented_functions(const std::string& markdown) {
  Names out;
  std::istringstream lines(markdown);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("### ", 0) != 0) continue;
    std::istringstream parts(line.substr(4));
    std::string part;
    while (std::getline(parts, part, ',')) {
      const auto begin = part.find_first_not_of(" `");
      if (begin == std::string::npos) continue;
      const auto end = part.find_first_of(" `(", begin);
      std::string name = part.substr(begin, end == std::string::npos ? end : end - begin);
      if (name.rfind("rfq.", 0) == 0 || name.rfind("timer:", 0) == 0 ||
          name.rfind("task:", 0) == 0 || name.rfind("subscription:", 0) == 0) {
        out.insert(name);
      }
    }
  }
  return out;
}

// ---- rfq.test ---------------------------------------------------------------------------

// A test file's VM as `rfqd test` builds it: its own sandboxed state with rfq.test opened.
struct TestVm {
  boost::asio::io_context io;
  VirtualClock clock{io, 0};
  lua::LuaVm vm{io, clock, lua::VmOptions{}};
  lua::TestRegistry registry;

  TestVm() { lua::open_test_module(vm, registry); }
  lua_State* L() { return vm.state(); }
};

// "t.case", ... from what require "rfq.test" returns, and "s:advance", ... from the methods of
// the world handle (metatable "rfq.test.world").
Names registered_test_functions(TestVm& v) {
  lua_State* L = v.L();
  Names out;
  REQUIRE(lua_getglobal(L, "require") == LUA_TFUNCTION);
  lua_pushstring(L, "rfq.test");
  const int status = lua_pcall(L, 1, 1, 0);
  const char* error = status == LUA_OK ? "" : lua_tostring(L, -1);
  INFO("require \"rfq.test\" failed: " << (error != nullptr ? error : "(not a string)"));
  REQUIRE(status == LUA_OK);
  REQUIRE(lua_type(L, -1) == LUA_TTABLE);
  collect_functions(L, "t", out);
  lua_pop(L, 1);
  Names methods;
  collect_methods(L, "rfq.test.world", methods);
  for (const auto& m : methods) out.insert("s:" + m.substr(m.find(':') + 1));
  REQUIRE(lua_gettop(L) == 0);
  return out;
}

// `function t.X(` and `function World:X(` at the start of a line: `t` is the module table and
// World the class table of rfq.TestWorld in scripts/types/rfq_test.lua.
Names annotated_test_functions(const std::string& source) {
  static const std::regex fn(R"(^\s*function\s+t\.([A-Za-z_][A-Za-z0-9_]*)\s*\()");
  static const std::regex method(R"(^\s*function\s+World:([A-Za-z_][A-Za-z0-9_]*)\s*\()");
  Names out;
  std::istringstream lines(source);
  std::string line;
  std::smatch m;
  while (std::getline(lines, line)) {
    if (std::regex_search(line, m, fn)) {
      out.insert("t." + m[1].str());
    } else if (std::regex_search(line, m, method)) {
      out.insert("s:" + m[1].str());
    }
  }
  return out;
}

// "### t.case", "### s:add_rfq": the rfq.test entries of docs/lua-api.md.
Names documented_test_functions(const std::string& markdown) {
  static const std::regex heading(
      R"(^### (t\.[A-Za-z_][A-Za-z0-9_]*|s:[A-Za-z_][A-Za-z0-9_]*)\s*$)");
  Names out;
  std::istringstream lines(markdown);
  std::string line;
  std::smatch m;
  while (std::getline(lines, line)) {
    if (std::regex_match(line, m, heading)) out.insert(m[1].str());
  }
  return out;
}

std::string list(const Names& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s.empty() ? "(none)" : s;
}

Names minus(const Names& a, const Names& b) {
  Names out;
  for (const auto& n : a) {
    if (b.count(n) == 0) out.insert(n);
  }
  return out;
}

// The names `expected` (registered) and `found` (annotated or documented in `where`) must be
// the same set; the failure lists the difference both ways.
void check_same_names(const Names& expected, const Names& found, const std::string& where) {
  const Names missing = minus(expected, found);
  const Names stale = minus(found, expected);
  INFO("registered but missing from " << where << ": " << list(missing));
  INFO("in " << where << " but not registered: " << list(stale));
  CHECK(missing.empty());
  CHECK(stale.empty());
}

// A LuaLS meta file must at least compile as Lua.
void check_compiles(const std::string& path) {
  std::unique_ptr<lua_State, decltype(&lua_close)> L(luaL_newstate(), &lua_close);
  const int status = luaL_loadfilex(L.get(), path.c_str(), "t");
  INFO((status == LUA_OK ? std::string() : std::string(lua_tostring(L.get(), -1))));
  CHECK(status == LUA_OK);
}

}  // namespace

TEST_CASE("rfq annotations: every registered function is annotated and every annotation is "
          "registered",
          "[lua][docs]") {
  Host h;
  const Names registered = registered_functions(h);
  REQUIRE(registered.count("rfq.cancel") == 1);  // the walk itself works
  REQUIRE(registered.count("rfq.log.info") == 1);
  REQUIRE(registered.count("rfq.timer:cancel") == 1);
  REQUIRE(registered.count("rfq.subscription:cancel") == 1);
  REQUIRE(registered.count("rfq.task:wait") == 1);

  check_same_names(registered, annotated_functions(read_file(kTypesFile)),
                   "scripts/types/rfq.lua");
}

TEST_CASE("rfq annotations: the meta file is valid Lua", "[lua][docs]") {
  check_compiles(kTypesFile);
}

TEST_CASE("rfq docs: docs/lua-api.md has an entry heading for every registered function and "
          "none for a function that does not exist",
          "[lua][docs]") {
  Host h;
  Names expected;
  for (const auto& n : registered_functions(h)) expected.insert(doc_name(n));
  check_same_names(expected, documented_functions(read_file(kDocsFile)),
                   "the '### name' entries of docs/lua-api.md");
}

TEST_CASE("rfq.test annotations: every t.* function and s:* method is annotated and every "
          "annotation is registered",
          "[lua][docs]") {
  TestVm v;
  const Names registered = registered_test_functions(v);
  REQUIRE(registered.count("t.case") == 1);  // the walk itself works: module and world methods
  REQUIRE(registered.count("t.eq") == 1);
  REQUIRE(registered.count("s:add_rfq") == 1);
  REQUIRE(registered.count("s:advance") == 1);

  check_same_names(registered, annotated_test_functions(read_file(kTestTypesFile)),
                   "scripts/types/rfq_test.lua");
}

TEST_CASE("rfq.test annotations: the meta file is valid Lua and names the module",
          "[lua][docs]") {
  check_compiles(kTestTypesFile);
  // LuaLS resolves require "rfq.test" to this file through the name on its ---@meta line.
  const std::string source = read_file(kTestTypesFile);
  CHECK(source.rfind("---@meta rfq.test\n", 0) == 0);
}

TEST_CASE("rfq.test annotations: docs/lua-api.md has an entry heading for every t.* function and "
          "s:* method and none for one that does not exist",
          "[lua][docs]") {
  TestVm v;
  const Names registered = registered_test_functions(v);
  check_same_names(registered, documented_test_functions(read_file(kDocsFile)),
                   "the '### name' entries of docs/lua-api.md");
}
