#pragma once
// Deribit v2 JSON-RPC (block RFQs, taker side) as a pure model: no sockets, all time from Clock.
// One core, handle_rpc(), serves both transports: handle_http() turns an HTTP request into a call
// and its answer into a reply; DeribitWsSession (deribit_ws_sim.hpp) feeds it a connection's text
// frames. Single-threaded: call it from the loop that owns it. PROTOCOLS.md §7-§11 are the facts
// it follows; every choice Deribit does not document is marked UNCONFIRMED below.
//
// ---- Envelope (§7) ---------------------------------------------------------------------------
// Request {"jsonrpc":"2.0","id":<int|string>,"method":"..","params":{..}}: named params only, no
// batches. Answer {"jsonrpc":"2.0","id":..,"result":..|"error":{"code","message","data"?},
// "testnet":true,"usIn","usOut","usDiff"} (microseconds from the Clock; "id" is left out when the
// request had none: HTTP GET, or text that did not parse). Envelope errors:
//   -32700 "Parse error"      not JSON
//   -32600 "Invalid Request"  not an object (a batch), "jsonrpc" not "2.0", no "id" (or one that
//                             is neither integer nor string), no string "method"; data.reason
//   -32601 "Method not found"
//   -32602 "Invalid params"   data {"reason","param"}: "params" not an object, a value of the
//                             wrong type ("wrong format") or out of range
//   -32000 "Missing params"   data {"reason":"required","param"}
//
// ---- Methods ---------------------------------------------------------------------------------
//   public/auth           grant_type client_credentials {client_id, client_secret}
//                         | client_signature {client_id, timestamp (ms, within
//                           ±timestamp_tolerance_ms), nonce (single use per client while its
//                           timestamp could still pass), data?, signature = lowercase hex
//                           HMAC-SHA256(secret, timestamp "\n" nonce "\n" data)}
//                         | refresh_token {refresh_token}: new pair; the old access and refresh
//                           tokens stop working.
//                         -> {access_token, token_type:"bearer", expires_in: token_ttl_s,
//                             refresh_token, scope:"connection mainaccount"}
//                         Unknown client_id or wrong secret: 13004 invalid_credentials; bad
//                         signature, stale timestamp, reused nonce, unknown refresh token: 13009.
//                         On a WebSocket, a successful auth also authenticates the connection.
//                         Refresh tokens never expire by time; each works once (our choice).
//   public/test           -> {"version":"1.2.26"}; on a WebSocket it answers a test_request
//   public/set_heartbeat  {interval >= 10 (s)} -> "ok"               WebSocket only
//   public/disable_heartbeat                   -> "ok"               WebSocket only
//   public|private/subscribe   {channels:[..]} -> the channels now subscribed   WebSocket only
//   public|private/unsubscribe {channels:[..]} -> the channels removed          WebSocket only
//       Channel block_rfq.taker.{BTC|ETH|USDC|USDT|EURR|any} (exact case): a notification
//       {"jsonrpc":"2.0","method":"subscription","params":{"channel","data":<block_rfq>}} on
//       every state change (creation included) of an RFQ of that currency. These channels are
//       private: public/subscribe on a connection that is not authenticated (and gives no valid
//       access_token) leaves them out, like unknown channels (our choice; which subscribe
//       Deribit requires is UNCONFIRMED).
//   private/enable_cancel_on_disconnect / private/disable_cancel_on_disconnect {scope?}
//       scope "connection" (default; WebSocket only) or "account" (every connection opened
//       later starts with it; the current one too). -> "ok".
//       When a connection with it enabled closes, for any reason, every OPEN block RFQ of the
//       account is cancelled. Whether Deribit's COD covers block RFQs at all is UNCONFIRMED
//       (§9); the sim's choice makes COD testable as the dead-man's switch.
//   private/cancel_block_rfq {block_rfq_id} -> the block_rfq object, now "cancelled". Errors
//       (Deribit documents none, UNCONFIRMED, our choice):
//         unknown id    {"code":10004,"message":"order_not_found",
//                        "data":{"reason":"block_rfq not found","param":"block_rfq_id"}}
//         not open      {"code":11029,"message":"invalid_arguments",
//                        "data":{"reason":"block_rfq is <state>","param":"block_rfq_id"}}
//   private/get_block_rfqs {count 1-1000 = 20, state, role, continuation, block_rfq_id, currency}
//       -> {"continuation":<lowest id returned, or null when nothing matches below it>,
//           "block_rfqs":[..]} newest (highest id) first; continuation returns ids below it.
//       state: open | filled | traded (= filled) | cancelled | expired | closed (= not open);
//       role: any | taker (every RFQ here) | maker (none); currency: as the channels.
// A WebSocket-only method over HTTP: 10030 must_be_websocket_request.
//
// ---- Private calls ---------------------------------------------------------------------------
// WebSocket: params.access_token, else the token this connection last authenticated with (until
// it expires or is refreshed away). HTTP: the Authorization header, one of
//   Bearer <access_token>   (scheme in any case)
//   deri-hmac-sha256 id=..,ts=..,sig=..,nonce=..   (by key, any order, spaces allowed; sig = hex
//       HMAC-SHA256(secret, ts "\n" nonce "\n" METHOD "\n" target "\n" body "\n"), over the raw
//       target and body as received; ts and nonce as for client_signature)
//   Basic base64(client_id:client_secret)
// Missing, unknown or expired token, bad or stale signature, reused nonce: 13009 unauthorized
// (data.reason says which); an unknown client id or wrong secret in a header: 13004.
//
// ---- Credits (§11) ---------------------------------------------------------------------------
// One leaky bucket per account (client id; public calls on no authenticated connection share the
// pool ""). Every call of a served method except public/auth and public/test costs credit_cost,
// charged after the transport and auth checks (refused, malformed and unknown calls are free,
// and so is a faulted one that is not processed); the pool refills continuously at
// credit_refill_per_s up to credit_pool. Short of credits: {"code":10028,"message":
// "too_many_requests"}, and a WebSocket connection is then closed (the session is terminated).
// enforce_limits = false lifts the limit.
//
// ---- HTTP ------------------------------------------------------------------------------------
// GET /api/v2/{method}?k=v..  params from the query (percent-decoded; integers where the method
//                             takes integers); no id.
// POST /api/v2/{method}       a JSON-RPC body ("method" may be left out; when present it must
//                             name the same method, else -32600). An empty body reads as {}
//                             params. POST /api/v2 takes the method from the body.
// Status: 200, except 400 for -32700/-32600/-32602/-32000 (a -32602 was observed live with 400)
// and 10030, 401 for 13004/13009, 429 for 10028, 503 for an injected 13028; a path outside
// /api/v2/ is 404 (-32601), a method other than GET/POST 405 (-32600). Other statuses are
// UNCONFIRMED (§7).
//
// ---- Test hooks ------------------------------------------------------------------------------
// add_rfq() creates an open RFQ as if the account had created it; fill() moves it to filled
// with one trade (direction, price, amount: the object's `trades`, maker "SIMMAKER");
// tick() applies due expiries now (expiry is otherwise lazy, as in OkxSim); inject() queues
// faults for the next matching calls:
//   delay        processed normally; the answer is held back delay_ms
//   unavailable  not processed: {"code":13028,"message":"temporarily_unavailable"}, HTTP 503
//   drop         not processed, no answer: HTTP hangs up, a WebSocket message is ignored
//   ws_close     WebSocket only: not processed, the connection closes (1011) unanswered
//   auth         not processed: {"code":13009,"message":"unauthorized"}, HTTP 401 (a revoked
//                token or key)
//   reject       not processed: {"code":<the fault's code>,"message":<its message>}
// A fault strikes before auth and credits, like a failing gateway in front of Deribit; a call
// takes one unit of the first queued fault whose method matches ("" matches every call,
// unparsed text included). HTTP requests skip ws_close faults.
//
// ---- Journal ---------------------------------------------------------------------------------
// One entry per call: "venue" "deribit" (HTTP) or "deribit_ws", "transport" "http"|"ws",
// "endpoint" (the method; "invalid" for text without one), "id" when sent, "params" (values of
// client_secret, signature, access_token and refresh_token replaced by "***"), "code" (0 or the
// error code), "status" (HTTP; 0 when dropped), "auth" (HTTP: the Authorization scheme, never
// its value), "conn_id" (WebSocket), "fault" (+ "delay_ms"). Cancel-on-disconnect is an entry
// "endpoint":"cancel_on_disconnect" with "cancelled":[ids].

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/sim/observers.hpp"
#include "engine/sim/okx_sim.hpp"  // FaultKind, shared by every simulated venue
#include "engine/sim/sim_http.hpp"

namespace spdlog {
class logger;
}

namespace rfq {
class Clock;
}

namespace boost::json {
class object;
}

namespace rfq::sim {

class Journal;

namespace detail {
struct DeribitAnswer;
struct DeribitCall;
struct DeribitMethod;
struct RpcError;
struct RpcRequest;
}  // namespace detail

// Credentials of the sim when none are configured. Not secrets: they exist so any client can
// talk to a local sim out of the box.
inline constexpr std::string_view kDeribitSimClientId = "sim-deribit-client";
inline constexpr std::string_view kDeribitSimClientSecret = "sim-deribit-secret";

struct DeribitSimOptions {
  std::string client_id{kDeribitSimClientId};
  std::string client_secret{kDeribitSimClientSecret};
  std::int64_t token_ttl_s = 900;               // access tokens; "expires_in"
  std::int64_t timestamp_tolerance_ms = 60000;  // client_signature and deri-hmac-sha256
  std::int64_t credit_cost = 500;               // per call (§11 non-matching-engine defaults)
  std::int64_t credit_pool = 50000;
  std::int64_t credit_refill_per_s = 10000;
  bool enforce_limits = true;        // false: no credit limit
  std::int64_t rfq_ttl_ms = 300000;  // default block RFQ lifetime (creation + 5 min)
  bool testnet = true;               // the envelope's "testnet"
  // public/set_heartbeat's minimum interval (Deribit: 10 s); tests lower it to see heartbeat
  // failures in real time within a second or two.
  std::int64_t min_heartbeat_s = 10;
};

struct DeribitLeg {
  std::string instrument_name;  // e.g. "BTC-PERPETUAL"
  std::string direction;        // "buy" | "sell"
  int ratio = 1;
};

// One execution of a filled block RFQ, as `trades[]` of the block_rfq object shows it.
struct DeribitTrade {
  std::string direction;  // the taker's: "buy" the structure as its legs say, "sell" the reverse
  double price = 0;
  double amount = 0;
};

struct DeribitBlockRfq {
  std::int64_t block_rfq_id = 0;
  std::string state;  // open | filled | cancelled | expired
  std::string currency;
  std::string label;
  double amount = 0;
  std::int64_t creation_timestamp = 0;    // Unix ms
  std::int64_t expiration_timestamp = 0;  // Unix ms
  std::int64_t update_timestamp = 0;      // last state change (not part of Deribit's object)
  std::vector<DeribitLeg> legs;
  std::vector<DeribitTrade> trades;  // filled: the execution fill() made
};

// How fill() executes a block RFQ: one trade of the whole amount (unless `amount` is set).
struct DeribitFill {
  std::string direction = "buy";
  double price = 1;               // the sim's default price of the structure
  std::optional<double> amount;   // (0, RFQ amount]; nullopt: all of it
};

struct NewBlockRfq {
  std::vector<DeribitLeg> legs;
  double amount = 100000;
  std::string label;
  std::string currency = "BTC";               // BTC | ETH | USDC | USDT | EURR
  std::optional<std::int64_t> expires_in_ms;  // nullopt: options.rfq_ttl_ms
};

enum class DeribitTransport { http, ws };

// The caller's side of JSON-RPC calls: what the transport knows, and the connection state the
// model keeps between calls. A fresh one per HTTP request; one per WebSocket connection, owned
// by its DeribitWsSession, which reacts to what the model writes here.
struct DeribitSessionCtx {
  DeribitTransport transport = DeribitTransport::http;
  std::string conn_id;                          // WebSocket
  const SimHttpRequest* http = nullptr;         // HTTP: the request (Authorization, signing)
  std::string access_token;                     // WS: set by a successful public/auth
  std::optional<std::int64_t> heartbeat_s;      // WS: set_heartbeat interval; nullopt: off
  std::uint64_t heartbeat_epoch = 0;            // WS: bumped by set/disable_heartbeat
  bool tested = false;                          // WS: public/test seen (the session resets it)
  bool cancel_on_disconnect = false;            // WS
  std::set<std::string, std::less<>> channels;  // WS: subscribed channels
};

// Why the model wants a WebSocket connection closed after a call.
enum class DeribitClose { none, too_many_requests, fault };

// What one call came to: the transport sends `text` (unless empty), honouring the rest.
struct DeribitRpcOutcome {
  std::string method;  // as journaled
  int code = 0;        // 0 or the error code
  std::string text;    // the JSON-RPC answer; "" when nothing is to be sent
  unsigned http_status = 200;
  std::int64_t delay_ms = 0;  // hold the answer back (the call WAS processed)
  bool drop = false;          // no answer: HTTP hangs up, a WebSocket message is ignored
  DeribitClose close = DeribitClose::none;  // WebSocket: close after sending `text`
};

// A fault queued by inject(): the next `count` calls of `method` ("" = any) take it.
struct DeribitFault {
  std::string method;  // e.g. "private/cancel_block_rfq"; "" = any call
  FaultKind kind = FaultKind::unavailable;
  std::int64_t delay_ms = 0;  // delay only, 0..600000
  int count = 1;              // >= 1
  std::int64_t code = 0;      // reject only: the error code answered (non-zero)
  std::string message{};      // reject only
};

// Called with the RFQ as it is after a state change (creation included).
using BlockRfqObserver = std::function<void(const DeribitBlockRfq&)>;

class DeribitSim {
 public:
  DeribitSim(Clock& clock, Journal& journal, DeribitSimOptions options = {});
  ~DeribitSim();
  DeribitSim(const DeribitSim&) = delete;
  DeribitSim& operator=(const DeribitSim&) = delete;

  // One HTTP request, journaled (venue "deribit").
  SimHttpReply handle_http(const SimHttpRequest& request);

  // One JSON-RPC text on behalf of `ctx` (a WebSocket connection's, normally), journaled.
  DeribitRpcOutcome handle_rpc(DeribitSessionCtx& ctx, std::string_view text);

  // Creates an open block RFQ; returns its id (366, 367, ...). Throws std::invalid_argument for
  // no legs, a direction other than buy/sell, a ratio < 1, an amount <= 0 or an unknown
  // currency.
  std::int64_t add_rfq(NewBlockRfq rfq);

  // open -> filled, with one trade (DeribitFill; shown in `trades` from then on). False
  // (nothing changes) when unknown or not open. Throws std::invalid_argument for a direction
  // other than buy/sell, a negative or non-finite price, or an amount outside (0, amount].
  bool fill(std::int64_t block_rfq_id, DeribitFill how = {});

  // Throws std::invalid_argument for count < 1, delay_ms outside 0..600000 or a method the sim
  // does not serve (a typo would never match and silently do nothing).
  void inject(DeribitFault fault);
  std::size_t pending_faults() const;  // calls still to be faulted (sum of remaining counts)

  // Observers see every state change, synchronously, in registration order; like OkxSim's, they
  // must not change the model and may remove themselves or others from the callback.
  std::uint64_t on_rfq_change(BlockRfqObserver observer);
  void remove_observer(std::uint64_t id);  // unknown ids are ignored

  // Applies due expiries now (and reports them). Servers call it from a timer.
  void tick();

  // For DeribitWsSession when a connection with cancel-on-disconnect closes: cancels every open
  // RFQ (journaled, observers told); returns their ids.
  std::vector<std::int64_t> cancel_on_disconnect(std::string_view conn_id);
  // Account-scope cancel-on-disconnect: new connections start with it enabled.
  bool cancel_on_disconnect_default() const { return cod_account_; }

  // A fresh WebSocket connection id: 8 lowercase hex digits, distinct per call, deterministic.
  std::string next_conn_id();

  // Credits the account has now (after refill); the full pool when it has made no call.
  double credits(std::string_view client_id) const;

  // Accessors apply due expiries first.
  std::optional<DeribitBlockRfq> rfq(std::int64_t block_rfq_id) const;
  std::vector<DeribitBlockRfq> rfqs() const;  // oldest first
  std::size_t count_in_state(std::string_view state) const;

  const DeribitSimOptions& options() const { return options_; }
  Journal& journal() const { return journal_; }
  Clock& clock() const { return clock_; }

 private:
  using Answer = detail::DeribitAnswer;
  using Call = detail::DeribitCall;
  using Method = detail::DeribitMethod;
  using Refusal = std::optional<detail::RpcError>;  // nullopt: accepted

  struct Token {
    std::string client_id;
    std::int64_t expires_at_ms = 0;
    std::string refresh_token;
  };
  struct Refresh {
    std::string access_token;  // the access token issued with it
    std::string client_id;
  };
  struct Bucket {
    double credits = 0;
    std::int64_t last_ns = 0;  // steady time of the last refill
  };

  // deribit_sim.cpp: the core
  static std::span<const Method> methods();
  static const Method* find_method(std::string_view name);
  DeribitRpcOutcome process(DeribitSessionCtx& ctx, detail::RpcRequest& req);
  Answer dispatch(DeribitSessionCtx& ctx, detail::RpcRequest& req, const Method* method);
  std::optional<DeribitFault> take_fault(std::string_view method, DeribitTransport transport);
  bool take_credits(const std::string& account);
  void record(const DeribitSessionCtx& ctx, const detail::RpcRequest& req,
              const DeribitRpcOutcome& out, const DeribitFault* fault);
  std::string answer_text(const detail::RpcRequest& req, const Answer& answer,
                          std::int64_t us_in) const;

  // deribit_sim_auth.cpp: tokens, signatures, the HTTP Authorization header
  Answer on_auth(Call& call);
  Answer issue_tokens(DeribitSessionCtx& ctx, const std::string& client_id);
  // The account a private call acts for, or the refusal.
  Refusal authorize(const DeribitSessionCtx& ctx, const boost::json::object& params,
                    std::string& client_id);
  Refusal check_token(std::string_view token, std::string& client_id);
  Refusal check_http_auth(const SimHttpRequest& request, std::string& client_id);
  Refusal check_hmac_header(const SimHttpRequest& request, std::string_view fields,
                            std::string& client_id);
  Refusal check_basic(std::string_view credentials, std::string& client_id) const;
  Refusal check_timestamp(std::int64_t timestamp_ms) const;
  // Consumes the nonce; call it last, once the signature is known to be good.
  Refusal use_nonce(const std::string& client_id, std::string_view nonce);

  // deribit_sim_methods.cpp: test, heartbeat, subscriptions, cancel-on-disconnect
  Answer on_test(Call& call);
  Answer on_set_heartbeat(Call& call);
  Answer on_disable_heartbeat(Call& call);
  Answer on_subscribe(Call& call);
  Answer on_unsubscribe(Call& call);
  Answer on_enable_cod(Call& call);
  Answer on_disable_cod(Call& call);
  Answer set_cod(Call& call, bool enabled);

  // deribit_sim_rfq.cpp: the RFQ book and its methods
  Answer on_cancel_block_rfq(Call& call);
  Answer on_get_block_rfqs(Call& call);
  void expire_due() const;
  void set_state(DeribitBlockRfq& r, std::string_view state, std::int64_t at_ms) const;

  Clock& clock_;
  Journal& journal_;
  DeribitSimOptions options_;
  std::shared_ptr<spdlog::logger> log_;
  std::int64_t next_id_;
  mutable std::map<std::int64_t, DeribitBlockRfq> rfqs_;
  mutable std::multimap<std::int64_t, std::int64_t> expiry_;  // expiration -> id (may be stale)
  std::deque<DeribitFault> faults_;
  ObserverList<DeribitBlockRfq> observers_;
  std::unordered_map<std::string, Token> tokens_;          // access token -> holder
  std::unordered_map<std::string, Refresh> refresh_;       // refresh token -> what it renews
  std::set<std::string, std::less<>> nonces_;              // client "\n" nonce, while replayable
  std::multimap<std::int64_t, std::string> nonce_expiry_;  // forget at (Unix ms) -> nonces_ key
  mutable std::map<std::string, Bucket, std::less<>> buckets_;
  std::uint64_t next_token_ = 0;
  std::uint64_t next_conn_ = 0;
  bool cod_account_ = false;
};

}  // namespace rfq::sim
