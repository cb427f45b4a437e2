#pragma once
// Shared by the DeribitSim and DeribitWsSession unit tests: a model on a VirtualClock with its
// journal, JSON-RPC texts, a recording WebSocket connection and reply readers. Everything sits in
// its own namespace: the OKX test worlds share this test binary.

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/clock.hpp"
#include "engine/sim/deribit_sim.hpp"
#include "engine/sim/deribit_sim_detail.hpp"
#include "engine/sim/deribit_ws_sim.hpp"
#include "engine/sim/journal.hpp"
#include "tests/unit/engine/sim/ws_conn.hpp"

namespace rfq::sim::test::deribit {

namespace json = boost::json;

inline constexpr std::int64_t kStartMs = 1700000000000;  // 2023-11-14T22:13:20.000Z

struct World {
  explicit World(DeribitSimOptions options = {}, std::int64_t start_ms = kStartMs)
      : clock(io, start_ms), sim(clock, journal, std::move(options)) {}

  // One open RFQ, two legs as in the docs' example.
  std::int64_t add(std::string currency = "BTC", std::int64_t expires_in_ms = 60000,
                   std::string label = "example") {
    NewBlockRfq rfq;
    rfq.legs = {{"BTC-1NOV24", "sell", 1}, {"BTC-PERPETUAL", "buy", 1}};
    rfq.currency = std::move(currency);
    rfq.label = std::move(label);
    rfq.expires_in_ms = expires_in_ms;
    return sim.add_rfq(std::move(rfq));
  }

  boost::asio::io_context io;
  VirtualClock clock;
  Journal journal;
  DeribitSim sim;
};

// {"jsonrpc":"2.0","id":id,"method":method,"params":params}
inline std::string rpc(std::int64_t id, std::string_view method, json::object params = {}) {
  json::object o;
  o["jsonrpc"] = "2.0";
  o["id"] = id;
  o["method"] = method;
  o["params"] = std::move(params);
  return json::serialize(o);
}

inline std::string credentials_auth(std::int64_t id = 1, const DeribitSimOptions& creds = {}) {
  return rpc(id, "public/auth",
             {{"grant_type", "client_credentials"},
              {"client_id", creds.client_id},
              {"client_secret", creds.client_secret}});
}

inline json::object parse(std::string_view text) { return json::parse(text).as_object(); }

inline std::string str(const json::object& o, std::string_view key) {
  return std::string(o.at(key).as_string());
}

// The error object of an answer (fails the test when there is none).
inline json::object error_of(const json::object& answer) {
  REQUIRE(answer.contains("error"));
  return answer.at("error").as_object();
}

inline std::int64_t code_of(const json::object& answer) {
  return error_of(answer).at("code").as_int64();
}

inline json::value result_of(const json::object& answer) {
  INFO(json::serialize(answer));
  REQUIRE(answer.contains("result"));
  return answer.at("result");
}

// A call on a stand-alone WebSocket context, without a session around it.
struct Caller {
  explicit Caller(DeribitSim& sim) : sim(sim) { ctx.transport = DeribitTransport::ws; }
  json::object call(std::string_view text) {
    auto out = sim.handle_rpc(ctx, text);
    REQUIRE_FALSE(out.text.empty());
    return parse(out.text);
  }
  std::string auth() {
    const auto answer = call(credentials_auth());
    return str(result_of(answer).as_object(), "access_token");
  }
  DeribitSim& sim;
  DeribitSessionCtx ctx;
};

struct Conn : SessionConn<DeribitWsSession, DeribitSim> {
  using SessionConn::SessionConn;
  json::object ask(std::string_view text) { return parse(ask_text(text)); }

  // public/auth (client_credentials) on this connection; returns the access token.
  std::string auth() { return str(result_of(ask(credentials_auth())).as_object(), "access_token"); }
};

// ---- requests shared by the DeribitSim tests ----------------------------------------------------

inline constexpr std::int64_t kVectorTs = 1576074319000;  // PROTOCOLS.md §8 vectors
inline constexpr std::string_view kVectorNonce = "1iqt2wls";
inline constexpr std::string_view kAuthVectorSig =
    "56590594f97921b09b18f166befe0d1319b198bbcdad7ca73382de2f88fe9aa1";
inline constexpr std::string_view kHttpVectorSig =
    "2f6ad5b80fdc93a6cf819196214a89e4ea353e6786925c3985bd6770e8fa5dae";

inline DeribitSimOptions amanda() {
  DeribitSimOptions o;
  o.client_id = "AMANDA";
  o.client_secret = "AMANDASECRECT";
  return o;
}

inline std::string signature_auth(const std::string& client_id, std::int64_t ts,
                                  std::string_view nonce, std::string_view signature,
                                  std::string_view data = "") {
  return rpc(9929, "public/auth",
             {{"grant_type", "client_signature"},
              {"client_id", client_id},
              {"timestamp", ts},
              {"nonce", nonce},
              {"data", data},
              {"signature", signature}});
}

inline std::string sign(std::string_view secret, std::int64_t ts, std::string_view nonce,
                        std::string_view data = "") {
  return rfq::sim::detail::hmac_sha256_hex(
      secret, std::to_string(ts) + "\n" + std::string(nonce) + "\n" + std::string(data));
}

inline std::string cancel(std::int64_t id, const std::string& token = "") {
  json::object params{{"block_rfq_id", id}};
  if (!token.empty()) params["access_token"] = token;
  return rpc(1, "private/cancel_block_rfq", std::move(params));
}

inline std::string get_rfqs(json::object params) {
  return rpc(2, "private/get_block_rfqs", params);
}

inline std::vector<std::int64_t> ids_of(const json::value& result) {
  std::vector<std::int64_t> ids;
  for (const auto& r : result.as_object().at("block_rfqs").as_array()) {
    ids.push_back(r.as_object().at("block_rfq_id").as_int64());
  }
  return ids;
}

inline SimHttpRequest http(std::string method, std::string target, std::string auth = "",
                           std::string body = "") {
  SimHttpRequest r{std::move(method), std::move(target), std::move(body), {}};
  if (!auth.empty()) r.headers.emplace_back("Authorization", std::move(auth));
  if (!r.body.empty()) r.headers.emplace_back("Content-Type", "application/json");
  return r;
}

// deri-hmac-sha256 over exactly what the request sends.
inline std::string hmac_header(const DeribitSimOptions& creds, std::int64_t ts,
                               std::string_view nonce, std::string_view method,
                               std::string_view target, std::string_view body = "") {
  const auto to_sign = std::to_string(ts) + "\n" + std::string(nonce) + "\n" + std::string(method) +
                       "\n" + std::string(target) + "\n" + std::string(body) + "\n";
  return "deri-hmac-sha256 id=" + creds.client_id + ",ts=" + std::to_string(ts) +
         ",sig=" + rfq::sim::detail::hmac_sha256_hex(creds.client_secret, to_sign) +
         ",nonce=" + std::string(nonce);
}

inline constexpr std::string_view kCancelledObject =
    R"({"block_rfq_id":366,"creation_timestamp":1700000000000,)"
    R"("expiration_timestamp":1700000060000,"role":"taker","state":"cancelled","amount":100000,)"
    R"("min_trade_amount":10,"legs":[{"ratio":1,"instrument_name":"BTC-1NOV24",)"
    R"("direction":"sell"},)"
    R"({"ratio":1,"instrument_name":"BTC-PERPETUAL","direction":"buy"}],"bids":[],"asks":[],)"
    R"("makers":[],"combo_id":null,"label":"example","disclosed":true,"taker":"SIMTAKER"})";

}  // namespace rfq::sim::test::deribit
