#pragma once
// One connection to OKX's business WebSocket (/ws/v5/business, PROTOCOLS.md §2-§4) as a pure
// model: text in through on_text(), frames and the close out through two callbacks, no sockets,
// all time from the OkxSim's Clock. SimServer's WsSession feeds it real frames; tests drive it
// directly. Single-threaded, like OkxSim: use it on the loop that owns the model.
//
// What a connection can do (every answer carries this connection's "connId"; "id" is echoed
// when the request had one):
//   ping                     -> pong (the literal 4-byte text frames)
//   login                    {"op":"login","args":[{"apiKey","passphrase","timestamp","sign"}]}
//       timestamp: Unix seconds as a string ("1538054050", fraction allowed) or a JSON number
//       (python-okx); sign = Base64(HMAC-SHA256(secret, timestamp + "GET" + "/users/self/verify"))
//       over the timestamp's decimal text. -> {"event":"login","code":"0","msg":"","connId"}
//       Refusals, as {"event":"error","code","msg","connId"} and then close 4001 "Login Failed":
//       60004 malformed timestamp, 60006 more than 30 s off, 60005 unknown apiKey, 60024 wrong
//       passphrase, 60007 bad sign (checked in that order). A second login: 60031, no close.
//   subscribe / unsubscribe  {"id"?,"op":"subscribe","args":[{"channel":"rfqs"}, ...]}
//       channels "rfqs" and "sprd-orders" (the latter never pushes yet); one answer per arg,
//       {"id"?,"event":"subscribe","arg":<the arg as sent>,"connId"}. An unknown channel in any
//       arg is 60018 and subscribes nothing. Subscribed to rfqs, the connection receives
//       {"arg":{"channel":"rfqs","uid"},"data":[<GET rfqs item>]} on every RFQ state change.
//   sprd-mass-cancel         {"id":"<1-32 alnum>","op":"sprd-mass-cancel","args":[{"sprdId"?}]}
//       -> {"id","op":"sprd-mass-cancel","data":[{"result":true}],"code":"0","msg":""};
//       bad id or args: same shape, data [], 60013 "Invalid args"; over 5 per 2 s per API key:
//       60014 "Requests too frequent".
// Errors, as {"id"?,"event":"error","code","msg","connId"}: not JSON / not an object / no
// string "op" / a bad "id" or args shape on subscribe or login: 60012 "Invalid request: <text>";
// unknown op 60019 "Invalid op: <op>"; subscribe, unsubscribe or sprd-mass-cancel before login:
// 60011 "Please log in". Check order: shape of the envelope, op, login, the op's own checks.
//
// Closes: 4004 "No data received in 30s" from check_idle() when nothing was received for more
// than 30 s; 1011 when an injected ws_close fault takes the message (it is not answered).
// After a close the session ignores everything and sends nothing more.
//
// Push faults: each rfqs push frame takes one unit of a queued "ws-push" fault, if any (so one
// fault unit per push per subscribed connection). drop: the push is never sent, the connection
// stays open. delay: the push is held back delay_ms on the OkxSim's Clock, and the connection's
// later pushes queue behind it and go out in order once it is released (a slow gateway keeps
// order); answers to client messages are not held. Pushes still held when the session closes or
// is destroyed are discarded.
//
// Journal: one entry per client message, "venue":"okx_ws", "conn_id", "endpoint" (the op,
// "ping", or "invalid" for text with no string op), "id" when sent, "body" (the text, except for
// login and unparsed text, which may hold credentials), "code" (the answer's code, "" for pong
// and faults) and "fault":"ws_close" when one applied. Never a sign or passphrase. A faulted
// push is one entry too, when it is faulted: "venue":"okx_ws", "conn_id", "endpoint":"push",
// "channel":"rfqs", "rfq_id", "state", "fault":"delay" (with "delay_ms") or "drop". Pushes sent
// without a fault are not journaled.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "engine/core/clock.hpp"

namespace boost::json {
class object;
}

namespace rfq::sim {

class OkxSim;
struct OkxFault;
struct SimRfq;

inline constexpr std::string_view kOkxBusinessWsPath = "/ws/v5/business";

// OKX close frames (PROTOCOLS.md §2) and the standard one an injected fault uses.
inline constexpr int kWsCloseLoginFailed = 4001;
inline constexpr int kWsCloseIdle = 4004;
inline constexpr int kWsCloseInternalError = 1011;

inline constexpr std::chrono::seconds kWsIdleTimeout{30};
inline constexpr std::int64_t kWsLoginWindowMs = 30000;

class OkxWsSession {
 public:
  using SendFn = std::function<void(std::string text)>;
  using CloseFn = std::function<void(int close_code, std::string reason)>;

  // `send` gets every outgoing text frame, `close` the one close (after which nothing is sent).
  // Neither may destroy this session from inside the call.
  OkxWsSession(OkxSim& okx, SendFn send, CloseFn close);
  ~OkxWsSession();
  OkxWsSession(const OkxWsSession&) = delete;
  OkxWsSession& operator=(const OkxWsSession&) = delete;

  // One text frame from the client.
  void on_text(std::string_view text);

  // Closes with 4004 when nothing was received for more than kWsIdleTimeout (steady time).
  void check_idle();

  const std::string& conn_id() const { return conn_id_; }
  bool logged_in() const { return logged_in_; }
  bool closed() const { return closed_; }
  bool subscribed(std::string_view channel) const { return channels_.count(channel) != 0; }

 private:
  struct Request;  // one parsed client message

  std::string dispatch(const Request& req);
  std::string on_login(const Request& req);
  std::string on_subscribe(const Request& req, bool subscribe);
  std::string on_sprd_mass_cancel(const Request& req);

  std::string send_error(const Request& req, std::string_view code, std::string_view msg);
  std::string invalid_request(const Request& req);
  std::string mass_cancel_reply(const Request& req, std::string_view code, std::string_view msg);
  void push_rfq(const SimRfq& rfq);
  void hold_push(std::string text, std::int64_t delay_ms);
  void release_pushes();
  void send(std::string text);
  void close(int code, std::string reason);
  void stop_watching();
  void record(const Request& req, std::string_view code, bool fault);
  void record_push(const SimRfq& rfq, const OkxFault& fault);

  // An rfqs push that may not go out yet: held back by a ws-push delay fault (its timer still
  // active), or released but queued behind one that is.
  struct HeldPush {
    std::string text;
    TimerHandle timer;  // inactive once it fired; never active for a push queued behind
  };

  OkxSim& okx_;
  SendFn send_;
  CloseFn close_;
  std::string conn_id_;
  SteadyTime last_received_;
  bool logged_in_ = false;
  bool closed_ = false;
  std::set<std::string, std::less<>> channels_;
  std::optional<std::uint64_t> observer_;  // registered while subscribed to rfqs
  // Oldest first. Owning the timers is what makes their callbacks' `this` safe: destroying a
  // TimerHandle (close() clears the queue, the destructor drops it) means it never fires.
  std::deque<HeldPush> held_;
};

}  // namespace rfq::sim
