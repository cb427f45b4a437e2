#include "engine/sim/deribit_ws_sim.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <utility>

#include "engine/core/log.hpp"
#include "engine/sim/deribit_sim_detail.hpp"
#include "engine/sim/journal.hpp"

namespace rfq::sim {

namespace json = boost::json;

namespace {

constexpr std::string_view kTestRequest =
    R"({"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}})";

std::string notification(std::string_view channel, const DeribitBlockRfq& rfq) {
  json::object params;
  params["channel"] = channel;
  params["data"] = detail::block_rfq_json(rfq);
  json::object o;
  o["jsonrpc"] = "2.0";
  o["method"] = "subscription";
  o["params"] = std::move(params);
  return json::serialize(o);
}

}  // namespace

DeribitWsSession::DeribitWsSession(DeribitSim& sim, SendFn send, CloseFn close)
    : sim_(sim), send_(std::move(send)), close_(std::move(close)) {
  ctx_.transport = DeribitTransport::ws;
  ctx_.conn_id = sim.next_conn_id();
  ctx_.cancel_on_disconnect = sim.cancel_on_disconnect_default();
}

DeribitWsSession::~DeribitWsSession() {
  if (!closed_) finish("client", 0, "session destroyed");
}

// The answer goes out first, then the notifications the call raised on this connection, then
// the close the model asked for.
void DeribitWsSession::on_text(std::string_view text) {
  if (closed_) return;
  in_call_ = true;
  auto out = sim_.handle_rpc(ctx_, text);
  in_call_ = false;
  if (out.close == DeribitClose::fault) return close(kDeribitWsCloseFault, "sim fault: ws_close");
  after_call();
  if (!out.drop && !out.text.empty()) {
    if (out.delay_ms > 0) {
      hold_answer(std::move(out.text), out.delay_ms);
    } else {
      send(std::move(out.text));
    }
  }
  for (auto& frame : std::exchange(deferred_, {})) send(std::move(frame));
  if (out.close == DeribitClose::too_many_requests) {
    close(kDeribitWsCloseTooManyRequests, "too_many_requests");
  }
}

void DeribitWsSession::on_disconnect() {
  if (!closed_) finish("client", 0, "peer went away");
}

// Reacts to what the call wrote into ctx_: heartbeat set or disabled, channels (un)subscribed.
void DeribitWsSession::after_call() {
  if (ctx_.heartbeat_epoch != armed_epoch_) {
    armed_epoch_ = ctx_.heartbeat_epoch;
    heartbeat_.cancel();
    awaiting_test_ = false;
    if (ctx_.heartbeat_s) arm_heartbeat();
  }
  if (!ctx_.channels.empty() && !observer_) {
    observer_ = sim_.on_rfq_change([this](const DeribitBlockRfq& rfq) { push(rfq); });
  } else if (ctx_.channels.empty() && observer_) {
    sim_.remove_observer(*observer_);
    observer_.reset();
  }
}

// `this` in the callback is safe: heartbeat_ owns the handle, so the callback cannot outlive
// the session or a finish() that cancelled it.
void DeribitWsSession::arm_heartbeat() {
  heartbeat_ = sim_.clock().schedule(std::chrono::seconds(*ctx_.heartbeat_s),
                                     [this] { on_heartbeat_due(); });
}

void DeribitWsSession::on_heartbeat_due() {
  if (closed_) return;
  if (awaiting_test_ && !ctx_.tested) {
    return close(kDeribitWsCloseHeartbeat, "heartbeat: test_request not answered");
  }
  ctx_.tested = false;
  awaiting_test_ = true;
  send(std::string(kTestRequest));
  arm_heartbeat();
}

// One notification per subscribed channel that covers the RFQ's currency.
void DeribitWsSession::push(const DeribitBlockRfq& rfq) {
  for (const auto& channel : ctx_.channels) {
    const auto currency = detail::taker_channel_currency(channel);
    if (!currency || (*currency != "any" && *currency != rfq.currency)) continue;
    auto text = notification(channel, rfq);
    if (in_call_) {
      deferred_.push_back(std::move(text));
    } else {
      send(std::move(text));
    }
  }
}

// The callback moves its answer out before the entry (and the handle) is destroyed; destroying
// a handle whose callback is running is harmless (its state is no longer alive).
void DeribitWsSession::hold_answer(std::string text, std::int64_t delay_ms) {
  const auto key = next_held_++;
  auto timer = sim_.clock().schedule(Millis(delay_ms), [this, key] {
    auto node = held_.extract(key);
    if (!node.empty()) send(std::move(node.mapped().text));
  });
  held_.emplace(key, HeldAnswer{std::move(text), std::move(timer)});
}

void DeribitWsSession::send(std::string text) {
  if (!closed_) send_(std::move(text));
}

void DeribitWsSession::close(int code, std::string reason) {
  if (closed_) return;
  finish("server", code, reason);
  close_(code, std::move(reason));
}

// Everything a connection's end means, whoever ended it: timers and held answers go, pushes
// stop, the end is journaled and cancel-on-disconnect applies.
void DeribitWsSession::finish(std::string_view by, int code, std::string_view reason) {
  closed_ = true;
  heartbeat_.cancel();
  held_.clear();
  deferred_.clear();
  if (observer_) sim_.remove_observer(*observer_);
  observer_.reset();
  json::object e;
  e["ts_ms"] = sim_.clock().now_ms();
  e["venue"] = "deribit_ws";
  e["transport"] = "ws";
  e["conn_id"] = ctx_.conn_id;
  e["endpoint"] = "close";
  e["by"] = by;
  e["close_code"] = code;
  e["reason"] = reason;
  sim_.journal().append(std::move(e));
  log::get("sim")->debug("deribit ws {}: closed by {} {} {}", ctx_.conn_id, by, code, reason);
  if (ctx_.cancel_on_disconnect) sim_.cancel_on_disconnect(ctx_.conn_id);
}

}  // namespace rfq::sim
