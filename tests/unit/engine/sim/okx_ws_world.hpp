#pragma once
// Shared by the OkxWsSession unit tests: a connection that records what the session sends and
// how it closed, and login requests signed the way python-okx and the docs sign them.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/auth/okx_signer.hpp"
#include "engine/sim/okx_sim.hpp"
#include "engine/sim/okx_ws_sim.hpp"
#include "tests/unit/engine/sim/okx_sim_world.hpp"
#include "tests/unit/engine/sim/ws_conn.hpp"

namespace rfq::sim::test {

struct WsConn : SessionConn<OkxWsSession, OkxSim> {
  using SessionConn::SessionConn;
  json::object ask(std::string_view text) { return json::parse(ask_text(text)).as_object(); }
};

// {"op":"login","args":[{...}]} with the timestamp as a JSON string (the docs) or the given raw
// JSON token (python-okx's integer), signed over `sign_ts` (default: the timestamp's text).
inline std::string login_text(const std::string& ts, bool ts_as_number = false,
                              const OkxSimOptions& creds = {},
                              std::optional<std::string> sign = std::nullopt) {
  const auto signature = sign.value_or(auth::okx_ws_login_sign(creds.secret, ts));
  json::object arg;
  arg["apiKey"] = creds.api_key;
  arg["passphrase"] = creds.passphrase;
  arg["timestamp"] = ts;
  arg["sign"] = signature;
  std::string text = json::serialize(json::object{{"op", "login"}, {"args", json::array{arg}}});
  if (ts_as_number) {
    const auto quoted = "\"" + ts + "\"";
    text.replace(text.find(quoted), quoted.size(), ts);
  }
  return text;
}

inline std::string seconds_text(const Clock& clock, std::int64_t offset_s = 0) {
  return std::to_string(clock.now_ms() / 1000 + offset_s);
}

inline std::string str_of(const json::object& o, std::string_view key) {
  return std::string(o.at(key).as_string());
}

// A connection that has logged in (and checked that it did).
inline void log_in(WsConn& conn, const Clock& clock) {
  const auto answer = conn.ask(login_text(seconds_text(clock)));
  REQUIRE(str_of(answer, "code") == "0");
}

}  // namespace rfq::sim::test
