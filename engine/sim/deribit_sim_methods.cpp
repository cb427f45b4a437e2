// DeribitSim's connection methods (PROTOCOLS.md §9, §10 channels): public/test, the heartbeat,
// subscriptions and cancel-on-disconnect. They only write the caller's DeribitSessionCtx; the
// WebSocket session (deribit_ws_sim.cpp) runs the timers and pushes that state asks for.

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "engine/sim/deribit_sim.hpp"
#include "engine/sim/deribit_sim_detail.hpp"

namespace rfq::sim {

namespace json = boost::json;

using detail::invalid_params;
using detail::missing_param;
using detail::rpc_error;

namespace {

constexpr std::string_view kApiVersion = "1.2.26";  // the docs' public/test example

// channels: a required array of strings.
std::optional<detail::RpcError> channels_param(const json::object& params,
                                               std::vector<std::string>& out) {
  const auto* v = params.if_contains("channels");
  if (v == nullptr || v->is_null()) return missing_param("channels");
  if (!v->is_array()) return invalid_params("channels");
  for (const auto& c : v->get_array()) {
    if (!c.is_string()) return invalid_params("channels");
    out.emplace_back(c.get_string());
  }
  return std::nullopt;
}

}  // namespace

DeribitSim::Answer DeribitSim::on_test(Call& call) {
  call.ctx.tested = true;  // answers the connection's pending test_request, if any
  json::object result;
  result["version"] = kApiVersion;
  return Answer::ok(std::move(result));
}

DeribitSim::Answer DeribitSim::on_set_heartbeat(Call& call) {
  std::optional<std::int64_t> interval;
  if (auto bad = detail::int_param(call.params, "interval", interval)) return Answer::fail(*bad);
  if (!interval) return Answer::fail(missing_param("interval"));
  if (*interval < options_.min_heartbeat_s) {
    return Answer::fail(invalid_params(
        "interval", "must be at least " + std::to_string(options_.min_heartbeat_s)));
  }
  call.ctx.heartbeat_s = *interval;
  ++call.ctx.heartbeat_epoch;
  return Answer::ok("ok");
}

DeribitSim::Answer DeribitSim::on_disable_heartbeat(Call& call) {
  call.ctx.heartbeat_s.reset();
  ++call.ctx.heartbeat_epoch;
  return Answer::ok("ok");
}

// The block_rfq.taker channels are private: public/subscribe takes them only on a connection
// that is authenticated (or a call that carries a valid access_token). Channels this sim does
// not serve, or may not serve to this caller, are left out of the result.
DeribitSim::Answer DeribitSim::on_subscribe(Call& call) {
  std::vector<std::string> channels;
  if (auto bad = channels_param(call.params, channels)) return Answer::fail(*bad);
  bool authorized = !call.client_id.empty();
  if (!authorized) {
    std::string who;
    authorized = !authorize(call.ctx, call.params, who);
  }
  json::array result;
  for (auto& channel : channels) {
    if (!authorized || !detail::taker_channel_currency(channel)) continue;
    if (std::find(result.begin(), result.end(), json::value(channel)) != result.end()) continue;
    call.ctx.channels.insert(channel);
    result.emplace_back(channel);
  }
  return Answer::ok(std::move(result));
}

DeribitSim::Answer DeribitSim::on_unsubscribe(Call& call) {
  std::vector<std::string> channels;
  if (auto bad = channels_param(call.params, channels)) return Answer::fail(*bad);
  json::array result;
  for (auto& channel : channels) {
    if (call.ctx.channels.erase(channel) != 0) result.emplace_back(channel);
  }
  return Answer::ok(std::move(result));
}

DeribitSim::Answer DeribitSim::on_enable_cod(Call& call) { return set_cod(call, true); }

DeribitSim::Answer DeribitSim::on_disable_cod(Call& call) { return set_cod(call, false); }

// scope "connection" (default) is WebSocket only; "account" sets what new connections start
// with, and the calling connection's own setting too.
DeribitSim::Answer DeribitSim::set_cod(Call& call, bool enabled) {
  std::optional<std::string> scope;
  if (auto bad = detail::string_param(call.params, "scope", scope)) return Answer::fail(*bad);
  const bool account = scope && *scope == "account";
  if (scope && !account && *scope != "connection") {
    return Answer::fail(invalid_params("scope", "must be connection or account"));
  }
  const bool ws = call.ctx.transport == DeribitTransport::ws;
  if (!account && !ws) {
    return Answer::fail(rpc_error(detail::kMustBeWebsocket, "must_be_websocket_request"));
  }
  if (account) cod_account_ = enabled;
  if (ws) call.ctx.cancel_on_disconnect = enabled;
  return Answer::ok("ok");
}

}  // namespace rfq::sim
