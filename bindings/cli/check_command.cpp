#include "bindings/cli/check_command.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>
#include <utility>

#include "bindings/lua/lua_scan.hpp"
#include "bindings/lua/lua_task.hpp"
#include "bindings/modules/policy_host.hpp"
#include "engine/core/error.hpp"
#include "engine/engine.hpp"
#include "engine/net/http_transport.hpp"
#include "engine/net/ws_connection.hpp"
#include "engine/venues/deribit/deribit_venue.hpp"
#include "engine/venues/okx/okx_venue.hpp"
#include "engine/venues/okx_spread/okx_spread_venue.hpp"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
}

namespace rfq::cli {
namespace {

namespace asio = boost::asio;
using lua::Token;
using lua::TokenKind;

constexpr std::int64_t kStartMs = 1'700'000'000'000;  // the stub world's wall clock
constexpr int kMaxRfqDepth = 4;                       // rfq.a.b.c.d: deeper tables are not walked

// ---- the stub world: the real venues, on transports that never send ------------------------

// Every request fails with DISCONNECTED on the next turn of the loop, as with a venue whose
// connections are down: a main chunk that cancels gets its `nil, err, code` without a socket.
class NoHttp final : public net::HttpTransport {
 public:
  explicit NoHttp(asio::io_context& io) : io_(io) {}
  void async_request(net::HttpRequest, Millis, Handler handler) override {
    asio::post(io_, [h = std::move(handler)]() mutable {
      std::move(h)(make_error_code(Errc::disconnected), net::HttpResponse{});
    });
  }
  void warm_up(Millis, ReadyHandler handler) override {
    asio::post(io_, [h = std::move(handler)]() mutable {
      std::move(h)(make_error_code(Errc::disconnected));
    });
  }
  void close() override {}

 private:
  asio::io_context& io_;
};

// A WebSocket that never opens. Venues make one only when started, which check never does;
// this guarantees no socket even if that changes.
class NoWs final : public net::WsConnection {
 public:
  void start() override {}
  bool send(std::string) override { return false; }
  void reconnect() override {}
  void stop() override {}
  bool is_open() const override { return false; }
  std::size_t connects() const override { return 0; }
};

std::unique_ptr<net::WsConnection> make_no_ws(const net::WsClientOptions&, net::WsCallbacks) {
  return std::make_unique<NoWs>();
}

// What `rfqd run` builds, minus the network: an engine on a virtual clock with every venue the
// API knows registered (so rfq.budget("deribit") answers), none of them ever started.
// Handlers the main chunk may cause at its one instant (e.g. a task spawning tasks forever).
constexpr std::size_t kSettleLimit = 1'000'000;

struct StubWorld {
  asio::io_context io;
  VirtualClock clock{io, kStartMs};
  Engine engine{io, clock};

  StubWorld() {
    clock.set_settle_limit(kSettleLimit);
    okx::OkxVenueOptions o;
    o.transport = std::make_shared<NoHttp>(io);
    o.ws_factory = &make_no_ws;
    engine.add_venue(std::make_unique<okx::OkxVenue>(io, clock, engine.book(), std::move(o)));
    okx_spread::OkxSpreadVenueOptions s;
    s.ws_factory = &make_no_ws;
    engine.add_venue(std::make_unique<okx_spread::OkxSpreadVenue>(io, clock, std::move(s)));
    deribit::DeribitVenueOptions d;
    d.ws_factory = &make_no_ws;
    d.seed = 1;  // no std::random_device: the same script checks the same way every time
    engine.add_venue(
        std::make_unique<deribit::DeribitVenue>(io, clock, engine.book(), std::move(d)));
  }
};

// ---- what a script may name, read from the policy's own VM ---------------------------------

// Taken from the VM before the script runs, so the lists follow the code and cannot drift.
struct Vocabulary {
  std::set<std::string> rfq_names;       // "rfq.cancel", "rfq.log", "rfq.log.info", ...
  std::set<std::string> rfq_tables;      // "rfq", "rfq.log": names whose fields are all known
  std::set<std::string> removed;         // globals of the stock libraries the sandbox lacks
  std::set<std::string> removed_fields;  // "os.execute": fields taken out of a kept library
};

// Every string key of the table at the top of the stack, recursing into nested tables.
void collect_rfq(lua_State* L, const std::string& prefix, Vocabulary& v, int depth) {
  v.rfq_tables.insert(prefix);
  const int t = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, t) != 0) {
    if (lua_type(L, -2) == LUA_TSTRING) {
      const std::string name = prefix + "." + lua_tostring(L, -2);
      v.rfq_names.insert(name);
      if (lua_type(L, -1) == LUA_TTABLE && depth < kMaxRfqDepth) {
        collect_rfq(L, name, v, depth + 1);
      }
    }
    lua_pop(L, 1);
  }
}

using StatePtr = std::unique_ptr<lua_State, decltype(&lua_close)>;

// The sandbox is compared with a stock state that has every standard library open: what the
// stock state has and the sandbox does not is what open_sandbox removed.
void collect_removed(lua_State* sandbox, Vocabulary& v) {
  StatePtr stock(luaL_newstate(), &lua_close);
  if (!stock) throw std::runtime_error("cannot create a Lua state");
  lua_State* S = stock.get();
  luaL_openlibs(S);
  lua_pushglobaltable(S);
  lua_pushnil(S);
  while (lua_next(S, -2) != 0) {
    if (lua_type(S, -2) == LUA_TSTRING) {
      const std::string lib = lua_tostring(S, -2);
      const int kept = lua_getglobal(sandbox, lib.c_str());
      if (kept == LUA_TNIL) {
        v.removed.insert(lib);
      } else if (kept == LUA_TTABLE && lua_type(S, -1) == LUA_TTABLE) {
        lua_pushnil(S);
        while (lua_next(S, -2) != 0) {
          if (lua_type(S, -2) == LUA_TSTRING) {
            const char* field = lua_tostring(S, -2);
            if (lua_getfield(sandbox, -1, field) == LUA_TNIL)
              v.removed_fields.insert(lib + "." + field);
            lua_pop(sandbox, 1);
          }
          lua_pop(S, 1);
        }
      }
      lua_pop(sandbox, 1);
    }
    lua_pop(S, 1);
  }
}

Vocabulary read_vocabulary(lua_State* L) {
  Vocabulary v;
  if (lua_getglobal(L, "rfq") == LUA_TTABLE) collect_rfq(L, "rfq", v, 1);
  lua_pop(L, 1);
  collect_removed(L, v);
  return v;
}

// ---- findings ------------------------------------------------------------------------------

struct Finding {
  int line;             // 0: no position known
  std::string message;  // "syntax error: ...", "unknown rfq name 'rfq.x'", ...
  bool operator<(const Finding& o) const {
    return std::tie(line, message) < std::tie(o.line, o.message);
  }
};

using Findings = std::set<Finding>;  // sorted by line, duplicates dropped

// Lua names a file chunk "path", or "...tail-of-path" when the path is long.
bool names_script(std::string_view chunk, std::string_view path) {
  if (chunk == path) return true;
  return chunk.size() > 3 && chunk.starts_with("...") && path.ends_with(chunk.substr(3));
}

// "chunk:LINE: text" -> {LINE, text} when chunk is this script; {0, message} otherwise (an
// error with no position, or one raised in a module the script required).
Finding locate(std::string message, const std::string& path) {
  // One line per finding: the traceback goes, line breaks inside the message become spaces.
  if (auto tb = message.find("\nstack traceback:"); tb != std::string::npos) message.resize(tb);
  std::replace(message.begin(), message.end(), '\n', ' ');
  for (auto colon = message.find(':'); colon != std::string::npos;
       colon = message.find(':', colon + 1)) {
    std::size_t end = colon + 1;
    while (end < message.size() && std::isdigit(static_cast<unsigned char>(message[end]))) ++end;
    if (end == colon + 1 || message.compare(end, 2, ": ") != 0) continue;
    if (!names_script(std::string_view(message).substr(0, colon), path)) continue;
    int line = 0;
    const auto [p, ec] = std::from_chars(message.data() + colon + 1, message.data() + end, line);
    if (ec != std::errc() || p != message.data() + end) continue;  // not a line number we keep
    return {line, message.substr(end + 2)};
  }
  return {0, message};
}

// ---- the static scan -----------------------------------------------------------------------

// Name-level checks over the tokens of the whole file, function bodies included. Scopes are
// not tracked: a local (or parameter, or loop variable) named like a global hides the global
// for the rest of the file, which can hide a finding but never invents one.
class Scan {
 public:
  Scan(const std::vector<Token>& tokens, const Vocabulary& vocab)
      : t_(tokens), vocab_(vocab), declaration_(tokens.size(), false) {}

  void run(Findings& out) {
    for (std::size_t i = 0; i < t_.size(); ++i) {
      if (is(i, TokenKind::Keyword, "local")) local_statement(i);
      if (is(i, TokenKind::Keyword, "for")) declare_list(i + 1, i + 1);
      if (is(i, TokenKind::Keyword, "function")) parameters(i);
    }
    for (std::size_t i = 0; i < t_.size(); ++i) {
      if (t_[i].kind == TokenKind::Name && !declaration_[i] && is_global_use(i)) check(i, out);
    }
  }

 private:
  bool is(std::size_t i, TokenKind kind, std::string_view text) const {
    return i < t_.size() && t_[i].kind == kind && t_[i].text == text;
  }
  bool symbol(std::size_t i, std::string_view text) const { return is(i, TokenKind::Symbol, text); }
  bool field_access(std::size_t i) const { return symbol(i, ".") || symbol(i, ":"); }

  // Marks the names of a list "a, b <const>, c" from i as declared, visible from token
  // `from` on (or right after each name when from is past it). Returns the index after it.
  std::size_t declare_list(std::size_t i, std::size_t from) {
    while (i < t_.size() && t_[i].kind == TokenKind::Name) {
      declaration_[i] = true;
      auto [it, fresh] = hidden_from_.emplace(t_[i].text, std::max(from, i + 1));
      if (!fresh) it->second = std::min(it->second, std::max(from, i + 1));
      ++i;
      if (symbol(i, "<")) i += 3;  // attribute: <const>, <close>
      if (!symbol(i, ",")) break;
      ++i;
    }
    return i;
  }

  // `local function f` is visible at once (it may call itself); `local x = expr` from the next
  // line, so that `local io = io` still reports the io on the right.
  void local_statement(std::size_t i) {
    if (is(i + 1, TokenKind::Keyword, "function")) {
      declare_list(i + 2, i + 2);
      return;
    }
    const std::size_t after = declare_list(i + 1, t_.size());
    std::size_t from = after;
    if (symbol(after, "=")) {
      while (from < t_.size() && t_[from].line == t_[after].line) ++from;
    }
    for (std::size_t k = i + 1; k < after; ++k) {
      if (declaration_[k]) hidden_from_[t_[k].text] = std::min(hidden_from_[t_[k].text], from);
    }
  }

  // function [a.b:c] (p1, p2, ...): the parameters are declarations.
  void parameters(std::size_t i) {
    std::size_t j = i + 1;
    while (j < t_.size() && (t_[j].kind == TokenKind::Name || field_access(j))) ++j;
    if (symbol(j, "(")) declare_list(j + 1, j + 1);
  }

  // Not a field (a.io, a:io), a label (goto io, ::io::), an assignment target or a table key
  // (io = 1, { io = 1 }), and not hidden by a local.
  bool is_global_use(std::size_t i) const {
    if (i > 0 &&
        (field_access(i - 1) || symbol(i - 1, "::") || is(i - 1, TokenKind::Keyword, "goto"))) {
      return false;
    }
    if (symbol(i + 1, "=")) return false;
    auto it = hidden_from_.find(t_[i].text);
    return it == hidden_from_.end() || i < it->second;
  }

  void check(std::size_t i, Findings& out) const {
    const std::string& name = t_[i].text;
    if (name == "rfq") return check_rfq(i, out);
    if (vocab_.removed.count(name) != 0) {
      out.insert({t_[i].line, "forbidden global '" + name + "'"});
    } else if (field_access(i + 1) && i + 2 < t_.size() && t_[i + 2].kind == TokenKind::Name &&
               vocab_.removed_fields.count(name + "." + t_[i + 2].text) != 0) {
      out.insert({t_[i].line, "forbidden global '" + name + t_[i + 1].text + t_[i + 2].text + "'"});
    }
  }

  // rfq.a.b: each step must be a field the module defines, as long as the step before it is
  // one of the module's tables (fields of what a function returns are not known here).
  void check_rfq(std::size_t i, Findings& out) const {
    std::string path = "rfq";
    std::string written = "rfq";
    for (std::size_t j = i; vocab_.rfq_tables.count(path) != 0 && field_access(j + 1) &&
                            j + 2 < t_.size() && t_[j + 2].kind == TokenKind::Name;
         j += 2) {
      path += "." + t_[j + 2].text;
      written += t_[j + 1].text + t_[j + 2].text;
      if (vocab_.rfq_names.count(path) == 0) {
        out.insert({t_[j + 2].line, "unknown rfq name '" + written + "'"});
        return;
      }
    }
  }

  const std::vector<Token>& t_;
  const Vocabulary& vocab_;
  std::vector<bool> declaration_;
  std::map<std::string, std::size_t> hidden_from_;  // name -> first token it is hidden at
};

// ---- one script ----------------------------------------------------------------------------

bool read_source(const std::string& path, std::string& source, std::string& why) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    why = "is a directory";
    return false;
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = errno != 0 ? std::strerror(errno) : "cannot open";
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    why = "read error";
    return false;
  }
  source = ss.str();
  return true;
}

// Lua instructions the main chunk may run before the check stops it (as `rfqd test` limits
// each resume of a policy task).
constexpr std::uint64_t kInstructionLimit = 10'000'000;

// Compiles the script as a policy, runs its main chunk until it ends or first waits, and
// scans its text.
Findings check_script(const std::string& path, const std::string& source) {
  StubWorld world;
  lua::PolicySpec spec;
  spec.script = path;  // the policy name and require() folders, as in `rfqd run`
  spec.scripts_lib_dir = RFQ_SCRIPTS_DIR "/lib";
  spec.instruction_limit = kInstructionLimit;  // a main chunk that never ends is a finding
  lua::PolicyHost host(world.engine, std::move(spec));
  const Vocabulary vocab = read_vocabulary(host.vm().state());

  Findings findings;
  std::string error;
  if (!host.load_source(source, "@" + path, error)) {
    Finding f = locate(error, path);
    findings.insert({f.line, "syntax error: " + f.message});
    return findings;  // the scan of text that does not compile would only add noise
  }
  host.start();
  try {
    world.clock.poll();  // no time passes: a main chunk waiting in rfq.sleep stays there
  } catch (const VirtualClock::NotSettled& e) {
    findings.insert({0, std::string("runtime error: the main chunk did not settle: ") + e.what()});
    return findings;
  }
  auto main = host.main_task();
  if (!main) {
    findings.insert({0, "runtime error: the main chunk could not start"});
  } else if (main->state() == lua::TaskState::Finished && !main->ok()) {
    Finding f = locate(main->error(), path);
    findings.insert({f.line, "runtime error: " + f.message});
  }
  const std::vector<Token> tokens = lua::scan_lua(source);
  Scan(tokens, vocab).run(findings);
  return findings;
}

}  // namespace

int check_command(const CheckOptions& options, std::ostream& out, std::ostream& err) {
  std::vector<std::pair<std::string, Findings>> reports;
  bool unreadable = false;
  for (const auto& path : options.scripts) {
    std::string source;
    std::string why;
    if (!read_source(path, source, why)) {
      err << "rfqd check: cannot read " << path << ": " << why << "\n";
      unreadable = true;
      continue;
    }
    try {
      reports.emplace_back(path, check_script(path, source));
    } catch (const std::exception& e) {
      err << "rfqd check: " << path << ": cannot check: " << e.what() << "\n";
      return 2;
    }
  }
  std::stable_sort(reports.begin(), reports.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::size_t problems = 0;
  for (const auto& [path, findings] : reports) {
    if (findings.empty()) out << path << ": ok\n";
    for (const Finding& f : findings) {
      out << path << (f.line > 0 ? ":" + std::to_string(f.line) : std::string()) << ": "
          << f.message << "\n";
    }
    problems += findings.size();
  }
  out << "rfqd check: " << options.scripts.size() << " script(s), " << problems << " problem(s)\n";
  out.flush();
  if (unreadable) return 2;
  return problems > 0 ? 1 : 0;
}

}  // namespace rfq::cli
