#pragma once
// The rfqd config file (DESIGN §7): a Lua file returning a table, evaluated in its own state
// (never shared with policies), then checked key by key. Every error names the file and the
// key; rfqd exits 2 on them.

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace rfq::cli {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct OkxConfig {
  std::string rest = "https://www.okx.com";
  std::string business_ws;  // the rfqs feed; empty: none (book from REST snapshots only)
  bool demo = false;
  std::string key_env = "OKX_API_KEY";
  std::string secret_env = "OKX_SECRET_KEY";
  std::string passphrase_env = "OKX_PASSPHRASE";
  std::string ca_file;  // overrides the top-level ca_file
  std::int64_t pool_size = 4;
  std::int64_t book_refresh_ms = 5000;
  std::int64_t batch_reserve = 0;  // cancel-batch-rfqs slots per window kept for cancel_all
};

struct OkxSpreadConfig {
  std::string business_ws = "wss://ws.okx.com:8443/ws/v5/business";
  std::string key_env = "OKX_API_KEY";
  std::string secret_env = "OKX_SECRET_KEY";
  std::string passphrase_env = "OKX_PASSPHRASE";
  std::string ca_file;
};

struct DeribitConfig {
  std::string ws = "wss://www.deribit.com/ws/api/v2";
  std::string http;  // GET fallback origin; "" derives https://HOST from ws, "none" disables
  std::string client_id_env = "DERIBIT_CLIENT_ID";
  std::string client_secret_env = "DERIBIT_CLIENT_SECRET";
  std::string grant = "client_signature";  // or "client_credentials"
  std::vector<std::string> currencies{"any"};
  std::int64_t heartbeat_s = 10;
  bool cancel_on_disconnect = false;
  std::int64_t credit_cost = 500;
  std::int64_t credit_pool = 50000;
  std::int64_t credit_refill_per_s = 10000;
  std::int64_t book_refresh_ms = 30000;
  std::string ca_file;
};

struct PolicyConfig {
  std::string name;  // defaults to the script's file stem
  std::string script;
  boost::json::value params;  // object or null
};

// The embedded simulator used by `rfqd run --sim`.
struct SimConfig {
  std::int64_t seed_rfqs = 0;
  std::int64_t seed_spread_ms = 20000;
  std::int64_t seed = 1;
};

struct Config {
  std::string path;
  std::optional<OkxConfig> okx;
  std::optional<OkxSpreadConfig> okx_spread;
  std::optional<DeribitConfig> deribit;
  std::vector<PolicyConfig> policies;
  std::int64_t timeout_ms = 5000;
  bool cancel_on_exit = false;  // cancel_all on every venue at exit (rfqd run's shutdown)
  // The runaway watchdog: a policy resume (from its start or an rfq.* answer to its next wait)
  // running longer is stopped; a main chunk's first resume has load_deadline_ms instead.
  std::int64_t slice_ms = 40;
  std::int64_t load_deadline_ms = 2000;
  std::string ca_file;
  std::string audit_log;  // JSON-lines file of every cancel request; "" = none
  // The Unix socket of `rfqd ctl`: "" = the default (default_control_socket(), skipped with a
  // warning when another rfqd holds it); control_socket = false in the file turns it off.
  std::string control_socket;
  bool control = true;
  bool reload_on_change = true;  // inotify on policy files and their modules
  SimConfig sim;
};

// Throws ConfigError("config FILE: key 'venues.okx.rest': ...").
Config load_config(const std::string& path);

}  // namespace rfq::cli
