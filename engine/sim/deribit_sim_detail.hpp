#pragma once
// Internal to DeribitSim (deribit_sim*.cpp) and its WebSocket (deribit_ws_sim.cpp): the parsed
// request, a handler's answer, the method table entry and the parameter, error and signing
// helpers they are built from. Not for other users; the public surface is deribit_sim.hpp.

#include <array>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/sim/deribit_sim.hpp"

namespace rfq::sim::detail {

// Deribit error codes (PROTOCOLS.md §7) the model answers with.
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kMissingParams = -32000;
inline constexpr int kOrderNotFound = 10004;
inline constexpr int kTooManyRequests = 10028;
inline constexpr int kMustBeWebsocket = 10030;
inline constexpr int kInvalidArguments = 11029;
inline constexpr int kInvalidCredentials = 13004;
inline constexpr int kUnauthorized = 13009;
inline constexpr int kTemporarilyUnavailable = 13028;

struct RpcError {
  int code = 0;
  std::string message;
  boost::json::object data;  // empty: the error has no "data"
};

// One JSON-RPC call as far as the envelope goes.
struct RpcRequest {
  std::optional<boost::json::value> id;  // nullopt: none (HTTP GET, or not parsed)
  std::string method;                    // "" when the text had none
  boost::json::object params;
  std::optional<RpcError> envelope_error;  // the text was not a valid call
  unsigned http_status = 0;                // HTTP: the status of envelope_error (0: from its code)
};

// A handler's answer: `result`, unless `error` is set.
struct DeribitAnswer {
  boost::json::value result;
  std::optional<RpcError> error;

  static DeribitAnswer ok(boost::json::value v) { return {std::move(v), std::nullopt}; }
  static DeribitAnswer fail(RpcError e) { return {nullptr, std::move(e)}; }
};

// One call in progress: the caller's context, the params and, for a private call, the account
// it acts for.
struct DeribitCall {
  DeribitSessionCtx& ctx;
  const boost::json::object& params;
  std::string client_id;  // "" on a public call
};

struct DeribitMethod {
  std::string_view name;
  bool is_private;
  bool ws_only;
  bool free;  // costs no credits (public/auth, public/test)
  // Parameters taken as integers: HTTP GET query values are converted for these.
  std::array<std::string_view, 3> int_params;
  DeribitAnswer (DeribitSim::*handler)(DeribitCall&);
};

inline RpcError rpc_error(int code, std::string_view message) {
  return {code, std::string(message), {}};
}

inline RpcError rpc_error(int code, std::string_view message, std::string_view reason,
                          std::string_view param) {
  boost::json::object data;
  data["reason"] = reason;
  data["param"] = param;
  return {code, std::string(message), std::move(data)};
}

// -32602 naming the parameter: "wrong format" for a value of the wrong type.
inline RpcError invalid_params(std::string_view param, std::string_view reason = "wrong format") {
  return rpc_error(kInvalidParams, "Invalid params", reason, param);
}

inline RpcError missing_param(std::string_view param) {
  return rpc_error(kMissingParams, "Missing params", "required", param);
}

// 13009 with data.reason (our addition: live 13009 answers carry no data, clients match on code).
inline RpcError unauthorized(std::string_view reason) {
  boost::json::object data;
  data["reason"] = reason;
  return {kUnauthorized, "unauthorized", std::move(data)};
}

// An optional integer parameter: absent or null leave `out` empty; anything but an integer
// (a string of digits included) is -32602 "wrong format".
std::optional<RpcError> int_param(const boost::json::object& params, std::string_view name,
                                  std::optional<std::int64_t>& out);

// An optional string parameter: absent or null leave `out` empty; another type is -32602.
std::optional<RpcError> string_param(const boost::json::object& params, std::string_view name,
                                     std::optional<std::string>& out);

// The block_rfq object (PROTOCOLS.md §10) as get_block_rfqs, cancel_block_rfq and the
// block_rfq.taker channel show it to the taker.
boost::json::object block_rfq_json(const DeribitBlockRfq& r);

// "block_rfq.taker.<currency>" when `channel` names one this sim serves; nullopt otherwise.
std::optional<std::string_view> taker_channel_currency(std::string_view channel);

// params with the values of secret-bearing keys replaced by "***", for the journal.
boost::json::object redacted(const boost::json::object& params);

// splitmix64: ids and tokens that look random, yet a test run is reproducible.
std::uint64_t splitmix64(std::uint64_t x);

// Lowercase hex HMAC-SHA256 (Deribit's signature encoding; okx_signer's is Base64).
std::string hmac_sha256_hex(std::string_view secret, std::string_view message);

// Standard Base64 with padding; nullopt when malformed.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace rfq::sim::detail
