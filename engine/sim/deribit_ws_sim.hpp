#pragma once
// One connection to Deribit's WebSocket API (/ws/api/v2, PROTOCOLS.md §7-§11) as a pure model:
// text in through on_text(), frames and the close out through two callbacks, no sockets, all time
// from the DeribitSim's Clock. A server's WebSocket session feeds it real frames; tests drive it
// directly. Single-threaded, like DeribitSim: use it on the loop that owns the model, and destroy
// every session before the model.
//
// Every text frame is one JSON-RPC call answered by DeribitSim::handle_rpc() (see
// deribit_sim.hpp for the methods, errors and journal). What the connection adds:
//   - connection-scoped auth: after a successful public/auth on this connection, private calls
//     may leave out access_token (until that token expires or is refreshed away elsewhere).
//   - subscriptions: block_rfq.taker.{currency} notifications on every RFQ state change. A
//     notification raised by a call on this connection goes out right after that call's answer.
//   - heartbeat: after public/set_heartbeat {interval N}, every N s the session sends
//     {"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}; when the next one
//     is due and the client has not called public/test since the previous one, the connection
//     closes (kDeribitWsCloseHeartbeat) instead. public/disable_heartbeat stops it; calling
//     set_heartbeat again restarts the cycle. Deribit's shape of these messages is UNCONFIRMED.
//   - cancel-on-disconnect: when the connection ends with it enabled (a server close, the
//     heartbeat rule, 10028, a ws_close fault, the peer going away, the session destroyed),
//     DeribitSim::cancel_on_disconnect() cancels every open RFQ.
//   - closes by the model: too_many_requests (the 10028 answer is sent, then the close) and an
//     injected ws_close fault (no answer).
//   - faults: drop ignores the message; delay holds that answer back delay_ms on the Clock
//     (later answers and notifications are not held behind it; held answers die with the
//     connection).
// Close codes are the sim's choice (Deribit documents none): 1008 for too_many_requests, 4000 for
// the heartbeat rule, 1011 for an injected fault. After a close the session ignores everything
// and sends nothing more. Every close is journaled: "venue":"deribit_ws", "endpoint":"close",
// "conn_id", "by" ("server" | "client"), "close_code", "reason".

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/clock.hpp"
#include "engine/sim/deribit_sim.hpp"

namespace rfq::sim {

inline constexpr std::string_view kDeribitWsPath = "/ws/api/v2";

inline constexpr int kDeribitWsCloseTooManyRequests = 1008;
inline constexpr int kDeribitWsCloseHeartbeat = 4000;
inline constexpr int kDeribitWsCloseFault = 1011;

class DeribitWsSession {
 public:
  using SendFn = std::function<void(std::string text)>;
  using CloseFn = std::function<void(int close_code, std::string reason)>;

  // `send` gets every outgoing text frame, `close` the one server close (after which nothing is
  // sent). Neither may destroy this session from inside the call.
  DeribitWsSession(DeribitSim& sim, SendFn send, CloseFn close);
  // A session destroyed while open counts as the peer going away (on_disconnect()).
  ~DeribitWsSession();
  DeribitWsSession(const DeribitWsSession&) = delete;
  DeribitWsSession& operator=(const DeribitWsSession&) = delete;

  // One text frame from the client.
  void on_text(std::string_view text);

  // The peer closed or the socket failed: the session ends (cancel-on-disconnect applies) without
  // calling `close`.
  void on_disconnect();

  const std::string& conn_id() const { return ctx_.conn_id; }
  bool closed() const { return closed_; }
  // public/auth succeeded on this connection (its token may since have expired).
  bool authenticated() const { return !ctx_.access_token.empty(); }
  bool subscribed(std::string_view channel) const { return ctx_.channels.count(channel) != 0; }
  bool cancel_on_disconnect() const { return ctx_.cancel_on_disconnect; }
  std::optional<std::int64_t> heartbeat_interval_s() const { return ctx_.heartbeat_s; }

 private:
  struct HeldAnswer {
    std::string text;
    TimerHandle timer;
  };

  void after_call();
  void arm_heartbeat();
  void on_heartbeat_due();
  void push(const DeribitBlockRfq& rfq);
  void hold_answer(std::string text, std::int64_t delay_ms);
  void send(std::string text);
  void close(int code, std::string reason);
  void finish(std::string_view by, int code, std::string_view reason);

  DeribitSim& sim_;
  SendFn send_;
  CloseFn close_;
  DeribitSessionCtx ctx_;
  bool closed_ = false;
  std::uint64_t armed_epoch_ = 0;  // the ctx_.heartbeat_epoch the timer was set up for
  bool awaiting_test_ = false;     // a test_request went out and waits for public/test
  // Owning the timers is what makes their callbacks' `this` safe: destroying a TimerHandle
  // (finish() clears them, the destructor drops them) means it never fires.
  TimerHandle heartbeat_;
  std::map<std::uint64_t, HeldAnswer> held_;
  std::uint64_t next_held_ = 0;
  std::optional<std::uint64_t> observer_;  // registered while subscribed to anything
  bool in_call_ = false;                   // inside handle_rpc(): notifications wait
  std::vector<std::string> deferred_;
};

}  // namespace rfq::sim
