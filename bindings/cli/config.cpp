#include "bindings/cli/config.hpp"

#include <boost/json.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>

#include "bindings/lua/json_bridge.hpp"
#include "engine/net/url.hpp"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
}

namespace rfq::cli {
namespace {

namespace json = boost::json;

class Checker {
 public:
  explicit Checker(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw ConfigError("config " + file_ + ": key '" + key + "': " + what);
  }

  // Refuses keys outside `known` (typos must not be silently ignored).
  void known_keys(const json::object& o, const std::string& prefix,
                  std::initializer_list<std::string_view> known) const {
    for (const auto& [k, v] : o) {
      bool ok = false;
      for (auto name : known) ok = ok || name == k;
      if (!ok) fail(join(prefix, k), "unknown key");
    }
  }

  const json::object& object(const json::value& v, const std::string& key) const {
    if (!v.is_object()) fail(key, "table with named keys expected");
    return v.get_object();
  }

  void string(const json::object& o, const std::string& prefix, std::string_view k,
              std::string& out) const {
    if (auto* v = o.if_contains(k)) {
      if (!v->is_string()) fail(join(prefix, k), "string expected");
      out = std::string(v->get_string());
    }
  }

  void boolean(const json::object& o, const std::string& prefix, std::string_view k,
               bool& out) const {
    if (auto* v = o.if_contains(k)) {
      if (!v->is_bool()) fail(join(prefix, k), "boolean expected");
      out = v->get_bool();
    }
  }

  void integer(const json::object& o, const std::string& prefix, std::string_view k,
               std::int64_t& out, std::int64_t min) const {
    if (auto* v = o.if_contains(k)) {
      if (!v->is_int64()) fail(join(prefix, k), "integer expected");
      if (v->get_int64() < min) fail(join(prefix, k), "must be >= " + std::to_string(min));
      out = v->get_int64();
    }
  }

  static std::string join(const std::string& prefix, std::string_view k) {
    return prefix.empty() ? std::string(k) : prefix + "." + std::string(k);
  }

 private:
  std::string file_;
};

json::value evaluate(const std::string& path) {
  if (!std::filesystem::exists(path)) throw ConfigError("config " + path + ": file not found");
  std::unique_ptr<lua_State, decltype(&lua_close)> L(luaL_newstate(), &lua_close);
  luaL_requiref(L.get(), LUA_GNAME, luaopen_base, 1);
  luaL_requiref(L.get(), LUA_STRLIBNAME, luaopen_string, 1);
  luaL_requiref(L.get(), LUA_TABLIBNAME, luaopen_table, 1);
  luaL_requiref(L.get(), LUA_MATHLIBNAME, luaopen_math, 1);
  lua_settop(L.get(), 0);
  if (luaL_loadfilex(L.get(), path.c_str(), "t") != LUA_OK) {
    throw ConfigError("config " + path + ": " + lua_tostring(L.get(), -1));
  }
  if (lua_pcall(L.get(), 0, 1, 0) != LUA_OK) {
    std::string msg = lua_type(L.get(), -1) == LUA_TSTRING ? lua_tostring(L.get(), -1) : "error";
    throw ConfigError("config " + path + ": " + msg);
  }
  if (lua_type(L.get(), -1) != LUA_TTABLE) {
    throw ConfigError("config " + path + ": the file must return a table");
  }
  json::value v;
  std::string error;
  if (!lua::to_json(L.get(), -1, v, error, "config")) {
    // error reads "config.venues.okx.x: a function is not plain data"
    const auto colon = error.find(": ");
    std::string key = error.substr(0, colon);
    if (key.rfind("config.", 0) == 0) key = key.substr(7);
    throw ConfigError("config " + path + ": key '" + key + "': " + error.substr(colon + 2));
  }
  if (v.is_array() && v.get_array().empty()) v = json::object();
  return v;
}

OkxConfig read_okx(const Checker& c, const json::value& v) {
  const std::string p = "venues.okx";
  const auto& o = c.object(v, p);
  c.known_keys(o, p,
               {"rest", "business_ws", "demo", "key_env", "secret_env", "passphrase_env",
                "ca_file", "pool_size", "book_refresh_ms", "batch_reserve"});
  OkxConfig okx;
  c.string(o, p, "rest", okx.rest);
  c.string(o, p, "business_ws", okx.business_ws);
  c.boolean(o, p, "demo", okx.demo);
  c.string(o, p, "key_env", okx.key_env);
  c.string(o, p, "secret_env", okx.secret_env);
  c.string(o, p, "passphrase_env", okx.passphrase_env);
  c.string(o, p, "ca_file", okx.ca_file);
  c.integer(o, p, "pool_size", okx.pool_size, 1);
  c.integer(o, p, "book_refresh_ms", okx.book_refresh_ms, 0);
  c.integer(o, p, "batch_reserve", okx.batch_reserve, 0);
  if (okx.batch_reserve > 1) {
    c.fail(p + ".batch_reserve", "0 or 1 expected (cancel-batch-rfqs allows 2 per 2 s)");
  }
  net::Origin origin;
  std::string error;
  if (!net::parse_origin(okx.rest, origin, error) || origin.scheme.rfind("http", 0) != 0) {
    c.fail(p + ".rest", error.empty() ? "http:// or https:// URL expected" : error);
  }
  if (!okx.business_ws.empty() &&
      (!net::parse_origin(okx.business_ws, origin, error) || origin.scheme.rfind("ws", 0) != 0)) {
    c.fail(p + ".business_ws", error.empty() ? "ws:// or wss:// URL expected" : error);
  }
  return okx;
}

OkxSpreadConfig read_okx_spread(const Checker& c, const json::value& v) {
  const std::string p = "venues.okx_spread";
  const auto& o = c.object(v, p);
  c.known_keys(o, p, {"business_ws", "key_env", "secret_env", "passphrase_env", "ca_file"});
  OkxSpreadConfig cfg;
  c.string(o, p, "business_ws", cfg.business_ws);
  c.string(o, p, "key_env", cfg.key_env);
  c.string(o, p, "secret_env", cfg.secret_env);
  c.string(o, p, "passphrase_env", cfg.passphrase_env);
  c.string(o, p, "ca_file", cfg.ca_file);
  net::Origin origin;
  std::string error;
  if (!net::parse_origin(cfg.business_ws, origin, error) || origin.scheme.rfind("ws", 0) != 0) {
    c.fail(p + ".business_ws", error.empty() ? "ws:// or wss:// URL expected" : error);
  }
  return cfg;
}

DeribitConfig read_deribit(const Checker& c, const json::value& v) {
  const std::string p = "venues.deribit";
  const auto& o = c.object(v, p);
  c.known_keys(o, p,
               {"ws", "http", "client_id_env", "client_secret_env", "grant", "currencies",
                "heartbeat_s", "cancel_on_disconnect", "credit_cost", "credit_pool",
                "credit_refill_per_s", "book_refresh_ms", "ca_file"});
  DeribitConfig cfg;
  c.string(o, p, "ws", cfg.ws);
  c.string(o, p, "http", cfg.http);
  c.string(o, p, "client_id_env", cfg.client_id_env);
  c.string(o, p, "client_secret_env", cfg.client_secret_env);
  c.string(o, p, "grant", cfg.grant);
  c.integer(o, p, "heartbeat_s", cfg.heartbeat_s, 10);
  c.boolean(o, p, "cancel_on_disconnect", cfg.cancel_on_disconnect);
  c.integer(o, p, "credit_cost", cfg.credit_cost, 1);
  c.integer(o, p, "credit_pool", cfg.credit_pool, 1);
  c.integer(o, p, "credit_refill_per_s", cfg.credit_refill_per_s, 1);
  c.integer(o, p, "book_refresh_ms", cfg.book_refresh_ms, 0);
  c.string(o, p, "ca_file", cfg.ca_file);
  if (cfg.grant != "client_signature" && cfg.grant != "client_credentials") {
    c.fail(p + ".grant", "\"client_signature\" or \"client_credentials\" expected");
  }
  if (cfg.credit_cost > cfg.credit_pool) c.fail(p + ".credit_cost", "must not exceed credit_pool");
  if (auto* cur = o.if_contains("currencies")) {
    static const std::vector<std::string> known{"BTC", "ETH", "USDC", "USDT", "EURR", "any"};
    if (!cur->is_array() || cur->get_array().empty()) {
      c.fail(p + ".currencies", "non-empty list of BTC, ETH, USDC, USDT, EURR or any expected");
    }
    cfg.currencies.clear();
    for (const auto& x : cur->get_array()) {
      if (!x.is_string() || std::find(known.begin(), known.end(), x.get_string()) == known.end()) {
        c.fail(p + ".currencies", "each of BTC, ETH, USDC, USDT, EURR or any expected");
      }
      cfg.currencies.emplace_back(x.get_string());
    }
  }
  net::Origin origin;
  std::string error;
  if (!net::parse_origin(cfg.ws, origin, error) || origin.scheme.rfind("ws", 0) != 0) {
    c.fail(p + ".ws", error.empty() ? "ws:// or wss:// URL expected" : error);
  }
  if (!cfg.http.empty() && cfg.http != "none" &&
      (!net::parse_origin(cfg.http, origin, error) || origin.scheme.rfind("http", 0) != 0)) {
    c.fail(p + ".http", error.empty() ? "http:// or https:// URL (or \"none\") expected" : error);
  }
  return cfg;
}

std::vector<PolicyConfig> read_policies(const Checker& c, const json::value& v) {
  if (v.is_object() && v.get_object().empty()) return {};
  if (!v.is_array()) c.fail("policies", "list of { script = ..., params = {...} } expected");
  std::vector<PolicyConfig> out;
  std::size_t i = 0;
  for (const auto& item : v.get_array()) {
    const std::string p = "policies[" + std::to_string(++i) + "]";
    const auto& o = c.object(item, p);
    c.known_keys(o, p, {"script", "params", "name"});
    PolicyConfig pc;
    c.string(o, p, "script", pc.script);
    c.string(o, p, "name", pc.name);
    if (pc.script.empty()) c.fail(p + ".script", "required");
    if (auto* params = o.if_contains("params")) {
      if (!params->is_object() && !(params->is_array() && params->get_array().empty())) {
        c.fail(p + ".params", "table with named keys expected");
      }
      pc.params = params->is_object() ? *params : json::value(json::object());
    }
    out.push_back(std::move(pc));
  }
  return out;
}

// Scripts are found relative to the working directory first, then to the config's folder.
void resolve_scripts(Config& cfg) {
  const auto base = std::filesystem::path(cfg.path).parent_path();
  for (auto& p : cfg.policies) {
    if (std::filesystem::path(p.script).is_relative() && !std::filesystem::exists(p.script) &&
        std::filesystem::exists(base / p.script)) {
      p.script = (base / p.script).string();
    }
  }
}

}  // namespace

Config load_config(const std::string& path) {
  Checker c(path);
  json::value root = evaluate(path);
  const auto& o = c.object(root, "(top level)");
  c.known_keys(o, "",
               {"venues", "policies", "timeout_ms", "cancel_on_exit", "ca_file", "audit_log", "sim",
                "slice_ms", "load_deadline_ms", "control_socket", "reload_on_change"});
  Config cfg;
  cfg.path = path;
  if (auto* venues = o.if_contains("venues")) {
    const auto& vo = c.object(*venues, "venues");
    for (const auto& [name, v] : vo) {
      if (name == "okx") {
        cfg.okx = read_okx(c, v);
      } else if (name == "okx_spread") {
        cfg.okx_spread = read_okx_spread(c, v);
      } else if (name == "deribit") {
        cfg.deribit = read_deribit(c, v);
      } else {
        c.fail("venues." + std::string(name), "unknown venue (known: okx, okx_spread, deribit)");
      }
    }
  }
  if (auto* p = o.if_contains("policies")) cfg.policies = read_policies(c, *p);
  c.integer(o, "", "timeout_ms", cfg.timeout_ms, 1);
  c.boolean(o, "", "cancel_on_exit", cfg.cancel_on_exit);
  c.integer(o, "", "slice_ms", cfg.slice_ms, 1);
  c.integer(o, "", "load_deadline_ms", cfg.load_deadline_ms, 1);
  c.string(o, "", "ca_file", cfg.ca_file);
  c.string(o, "", "audit_log", cfg.audit_log);
  if (auto* cs = o.if_contains("control_socket"); cs && cs->is_bool()) {
    if (cs->get_bool()) c.fail("control_socket", "a path, or false to turn the socket off");
    cfg.control = false;
  } else {
    c.string(o, "", "control_socket", cfg.control_socket);
    if (cs && cfg.control_socket.empty()) c.fail("control_socket", "empty path (false turns it off)");
  }
  c.boolean(o, "", "reload_on_change", cfg.reload_on_change);
  if (auto* s = o.if_contains("sim")) {
    const auto& so = c.object(*s, "sim");
    c.known_keys(so, "sim", {"seed_rfqs", "seed_spread_ms", "seed"});
    c.integer(so, "sim", "seed_rfqs", cfg.sim.seed_rfqs, 0);
    c.integer(so, "sim", "seed_spread_ms", cfg.sim.seed_spread_ms, 1);
    c.integer(so, "sim", "seed", cfg.sim.seed, 0);
  }
  if (!cfg.ca_file.empty() && !std::filesystem::exists(cfg.ca_file)) {
    c.fail("ca_file", "file not found: " + cfg.ca_file);
  }
  resolve_scripts(cfg);
  for (std::size_t i = 0; i < cfg.policies.size(); ++i) {
    if (!std::filesystem::exists(cfg.policies[i].script)) {
      c.fail("policies[" + std::to_string(i + 1) + "].script",
             "file not found: " + cfg.policies[i].script);
    }
  }
  return cfg;
}

}  // namespace rfq::cli
