#pragma once
// OKX v5 REST (block-trading RFQs, taker side) as a pure model: no sockets, all time from Clock.
// SimServer feeds it real HTTP requests; the in-process test world calls handle() directly.
// It verifies signatures over the raw bytes received (PROTOCOLS.md §1), enforces the documented
// per-endpoint limits, keeps each RFQ's state machine and answers with the documented bodies
// and codes (§3, §5). Single-threaded: call it from the loop that owns it.
//
// OKX endpoints served (limits per API key, each endpoint its own window; over it: HTTP 429
// {"msg":"Too Many Requests","code":"50011"}):
//   GET  /api/v5/public/time                 no auth, no limit
//   POST /api/v5/rfq/cancel-rfq              5 / 2 s
//   POST /api/v5/rfq/cancel-batch-rfqs       2 / 2 s
//   POST /api/v5/rfq/cancel-all-rfqs         2 / 2 s
//   GET  /api/v5/rfq/rfqs                    2 / 2 s
//
// The business WebSocket (/ws/v5/business, okx_ws_sim.hpp) runs on this model too: its sessions
// watch RFQ state changes through on_rfq_change(), share the sprd-mass-cancel limit per API key,
// take ws_close faults and, for each rfqs push, ws-push faults.
//
// Test hooks beside the protocol: fill() moves an RFQ to `filled` as if a quote had been
// executed; inject() queues faults (delay, 503 unavailable, dropped connection, WebSocket
// close, held back or lost rfqs push) for the next matching requests; tick() applies due expiries
// now. The model only decides: SimHttpReply::delay_ms / drop tell the server what to do with the
// socket, and the in-process world may honour them its own way.
//
// ---- Sim control API (SimServer, same port, loopback only, never part of OKX) ----------------
// Unauthenticated, only under /sim/, JSON in and out; Content-Type is not checked (curl -d
// works). Bad input is HTTP 400 {"error":"<what is wrong>"}, an unknown /sim/ path 404, a wrong
// method 405 (same body shape). Every control request is journaled with "venue":"sim",
// "endpoint" the last path segment ("rfqs", "fill", "fault"), "status", and "error" when refused.
// Control requests never consume injected faults and never use the OKX rate windows.
//
//   POST /sim/rfqs   {"count":N,"expires_in_ms":M}   or   {"cl_rfq_id":"abc","expires_in_ms":M}
//       Creates N (default 1, at most 10000) active RFQs, or one with that client id (count must
//       then be absent or 1). Optional: "expires_in_ms" (> 0; default OKX's rule: 10 min when
//       every leg is an option, else 2 min), "tag" (string), "legs"
//       ([{"instId":..,"side":"buy"|"sell","sz":".."}], default one BTC option leg).
//       -> 200 {"rfq_ids":["22535",...]}   (400 for a duplicate cl_rfq_id)
//   POST /sim/fill   {"rfq_id":"22535"}
//       -> 200 {"rfq_id":"22535","state":"filled"}; 404 unknown id; 409 when not active.
//   POST /sim/fault  {"endpoint":"cancel-rfq","kind":"drop","count":1,"delay_ms":0}
//       Queues an OkxFault (see inject()): endpoint "" or absent = any OKX request; kind
//       "delay" | "unavailable" | "drop" | "ws_close" | "auth" | "reject" (required; reject
//       also takes "code", a non-zero code as a string, and "message"); count >= 1 (default 1);
//       delay_ms 0..600000 (default 0). ws_close takes endpoint "ws" or none: each of the next
//       `count` WebSocket messages closes its connection with 1011 instead of being answered.
//       Endpoint "ws-push" (kind delay or drop only) hits the next `count` rfqs push frames, one
//       per push per subscribed connection: drop loses it (the connection stays open), delay
//       holds it back delay_ms and later pushes on that connection wait behind it.
//       -> 200 {"pending_faults":<requests, WebSocket messages and pushes still to be faulted>}
//   GET  /sim/rfqs
//       -> 200 {"rfqs":[{"rfq_id","cl_rfq_id","tag","state","c_time_ms","u_time_ms",
//                        "valid_until_ms","legs":[{"inst_id","side","sz"}]}, ...]} oldest first,
//          every state (times are JSON numbers, Unix ms).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/sim/observers.hpp"
#include "engine/sim/sim_http.hpp"
#include "engine/sim/sliding_window.hpp"

namespace spdlog {
class logger;
}

namespace rfq {
class Clock;
}

namespace rfq::sim {

class Journal;

namespace detail {
struct CancelOutcome;
struct OkxAnswer;
struct OkxRoute;
}  // namespace detail

// Credentials of the standalone sim when the OKX_* environment variables are not set.
// Not secrets: they exist so any client can talk to a local sim out of the box.
inline constexpr std::string_view kSimApiKey = "rfqd-sim-key";
inline constexpr std::string_view kSimSecret = "rfqd-sim-secret";
inline constexpr std::string_view kSimPassphrase = "rfqd-sim-passphrase";

struct OkxSimOptions {
  std::string api_key{kSimApiKey};
  std::string secret{kSimSecret};
  std::string passphrase{kSimPassphrase};
  // The account's user id, as WebSocket pushes carry it ({"arg":{"channel":"rfqs","uid":..}}).
  std::string uid{"77982378738415879"};  // the docs' example uid
  // |server time - OK-ACCESS-TIMESTAMP| beyond this gives 50102 (OKX does not document the REST
  // window; 30 s is its WS login window).
  std::int64_t timestamp_tolerance_ms = 30000;
  // false: no venue rate limits (benchmarks measure the client's own pacing).
  bool enforce_limits = true;
};

struct SimLeg {
  std::string inst_id;  // e.g. "BTC-USD-260327-100000-C"
  std::string side;     // "buy" | "sell"
  std::string sz;
};

struct SimRfq {
  std::string rfq_id;     // numeric string, increasing with creation
  std::string cl_rfq_id;  // "" when none
  std::string tag;
  std::string state;  // active | canceled | pending_fill | filled | expired | failed
  std::int64_t c_time_ms = 0;
  std::int64_t u_time_ms = 0;
  std::int64_t valid_until_ms = 0;
  std::vector<SimLeg> legs;
};

// A fault queued by inject(). Faults apply in injection order: a request takes one unit of the
// first queued fault whose endpoint matches it, and a fault is gone after `count` requests.
// Endpoint "ws-push" faults hit rfqs push frames instead (OkxWsSession): delay or drop only.
enum class FaultKind {
  delay,        // processed normally; the answer is held back delay_ms (a ws-push: the push,
                // and the connection's later pushes behind it, in order)
  unavailable,  // not processed: HTTP 503 {"code":"50001","msg":"Service temporarily
                // unavailable. Please try again later.","data":[]}
  drop,         // not processed: the connection is closed without an answer (a ws-push: the
                // push is never sent, the connection stays open)
  ws_close,     // WebSocket only (endpoint "ws"): the message is not processed and its
                // connection is closed with 1011
  auth,         // not processed: a revoked key. OKX: HTTP 401 {"msg":"Invalid OK-ACCESS-KEY",
                // "code":"50111","data":[]} (HTTP only); Deribit: 13009 unauthorized
  reject,       // not processed: the venue refuses with the fault's own code and message. OKX:
                // HTTP 200 {"code":code,"msg":message,"data":[]} (HTTP only); Deribit: the error
                // {"code":code,"message":message}
};

// "delay", "unavailable", "drop", "ws_close", "auth", "reject"
std::string_view to_string(FaultKind kind);
std::optional<FaultKind> fault_kind_from(std::string_view name);  // inverse; nullopt if unknown

struct OkxFault {
  // Endpoint name as journaled: "cancel-rfq", "cancel-batch-rfqs", "cancel-all-rfqs", "rfqs",
  // "time"; "" = any request handle() receives (unknown paths included). A ws_close fault's
  // endpoint is "ws" ("" is taken as "ws"); "ws-push" is one rfqs push frame sent to one
  // connection (delay or drop). HTTP requests never take either.
  std::string endpoint;
  FaultKind kind = FaultKind::unavailable;
  std::int64_t delay_ms = 0;  // delay only, 0..600000
  int count = 1;              // >= 1
  std::string code{};         // reject only: the venue code answered (not "0")
  std::string message{};      // reject only
};

struct NewRfq {
  std::string cl_rfq_id;  // optional; when set, unique among all RFQs (OKX 70101)
  std::string tag;
  std::vector<SimLeg> legs;
  // nullopt: OKX's rule, 10 min when every leg is an option, else 2 min.
  std::optional<std::int64_t> expires_in_ms;
};

// A resting spread order (OKX spread trading, PROTOCOLS.md §4), as far as sprd-mass-cancel
// concerns it: "live" until a mass cancel of its spread (or of every spread) makes it
// "canceled".
struct SimSpreadOrder {
  std::string ord_id;  // numeric string, increasing with creation
  std::string sprd_id;
  std::string state;  // live | canceled
  std::int64_t c_time_ms = 0;
  std::int64_t u_time_ms = 0;
};

// Called with the RFQ as it is after a state change.
using RfqObserver = std::function<void(const SimRfq&)>;

class OkxSim {
 public:
  OkxSim(Clock& clock, Journal& journal, OkxSimOptions options = {});
  ~OkxSim();
  OkxSim(const OkxSim&) = delete;
  OkxSim& operator=(const OkxSim&) = delete;

  // Answers one request and appends request + answer to the journal (with "fault" when an
  // injected fault applied; a dropped request is journaled with status 0 and code "").
  SimHttpReply handle(const SimHttpRequest& request);

  // Creates an active RFQ (as if the account had sent create-rfq); returns its rfqId.
  // Throws std::invalid_argument for a duplicate non-empty cl_rfq_id or no legs.
  std::string add_rfq(NewRfq rfq);

  // Adds `count` active RFQs whose expiries are spread evenly over (now, now + spread_ms],
  // with legs chosen deterministically from `seed` and client ids "seed001", "seed002", ...
  void seed(std::size_t count, std::int64_t spread_ms, std::uint64_t seed);

  // active -> filled, as if a quote had been executed. False (nothing changes) when the RFQ is
  // unknown or not active.
  bool fill(std::string_view rfq_id);

  // Queues a fault for the next `fault.count` requests matching `fault.endpoint`. Throws
  // std::invalid_argument for count < 1, delay_ms outside 0..600000 or an unknown endpoint (a
  // typo would otherwise never match and silently do nothing; "ws" is the only endpoint of a
  // ws_close fault and no other kind's; "ws-push" takes only delay and drop).
  void inject(OkxFault fault);
  // Requests, WebSocket messages and pushes still to be faulted (sum of remaining counts).
  std::size_t pending_faults() const;
  // For OkxWsSession: takes one unit of the first queued ws_close fault; false when none.
  bool take_ws_close();
  // For OkxWsSession, once per rfqs push frame it is about to send: one unit of the first
  // queued "ws-push" fault (kind delay or drop, count 1); nullopt when none.
  std::optional<OkxFault> take_push_fault();

  // Observers see every RFQ state change the model makes: created (active), canceled, expired,
  // filled (and failed, once something fails RFQs; pending_fill is never reported, as OKX never
  // pushes it on the rfqs channel). They are
  // called synchronously, in registration order, from whatever changed the state (a request,
  // add_rfq, fill, an accessor or tick() applying expiry), and must not change the model from
  // the callback. An observer may remove itself or another one from inside a callback.
  // Returns the id remove_observer() takes.
  std::uint64_t on_rfq_change(RfqObserver observer);
  void remove_observer(std::uint64_t id);  // unknown ids are ignored

  // Applies due expiries now (and reports them to observers). Expiry is otherwise lazy: applied
  // when a request or accessor next looks at the RFQs. Servers call this from a timer so that
  // WebSocket subscribers hear of an expiry when it happens.
  void tick();

  // WebSocket sprd-mass-cancel (PROTOCOLS.md §4), as far as the model is concerned: the limit of
  // 5 per 2 s per API key (shared by every connection; off when enforce_limits is false) and a
  // count per sprdId ("" = every spread). False, counting nothing, when over the limit.
  // Accepted, it cancels every live spread order of sprd_id ("": of every spread).
  bool sprd_mass_cancel(std::string_view sprd_id);
  std::size_t sprd_mass_cancels(std::string_view sprd_id) const;

  // Test hooks: a live spread order on sprd_id (non-empty; throws std::invalid_argument
  // otherwise), returning its ordId; and the orders as they are now.
  std::string add_spread_order(std::string sprd_id);
  std::optional<SimSpreadOrder> spread_order(std::string_view ord_id) const;
  std::vector<SimSpreadOrder> spread_orders() const;  // oldest first

  // A fresh WebSocket connection id: 8 lowercase hex digits, distinct per call, deterministic.
  std::string next_conn_id();

  // Accessors apply due expiries first, like handle().
  std::optional<SimRfq> rfq(std::string_view rfq_id) const;
  std::vector<SimRfq> rfqs() const;  // oldest first
  std::size_t count_in_state(std::string_view state) const;

  const OkxSimOptions& options() const { return options_; }
  // For the control API, which journals and stamps its own requests.
  Journal& journal() const { return journal_; }
  Clock& clock() const { return clock_; }

 private:
  using Answer = detail::OkxAnswer;
  using CancelOutcome = detail::CancelOutcome;

  static std::span<const detail::OkxRoute> routes();
  static const detail::OkxRoute* find_route(std::string_view path);
  static bool is_endpoint(std::string_view endpoint);
  Answer dispatch(const SimHttpRequest& request, const detail::OkxRoute* route);
  bool within_limit(const detail::OkxRoute& route);
  std::optional<OkxFault> take_fault(std::string_view endpoint);
  // One unit of *it (count 1 in the copy returned); the fault is gone when none is left.
  OkxFault take_unit(std::deque<OkxFault>::iterator it);
  Answer on_public_time(const SimHttpRequest& request);
  Answer on_get_rfqs(const SimHttpRequest& request);
  // okx_sim_cancel.cpp
  Answer on_cancel_rfq(const SimHttpRequest& request);
  Answer on_cancel_batch_rfqs(const SimHttpRequest& request);
  Answer on_cancel_all_rfqs(const SimHttpRequest& request);
  // Cancels one RFQ named by rfq_id, else by cl_rfq_id; the outcome is one cancel item.
  CancelOutcome cancel_one(std::string_view rfq_id, std::string_view cl_rfq_id);
  void record(const SimHttpRequest& request, const Answer& answer, const OkxFault* fault);

  // Lazily moves every active RFQ whose validUntil has passed to `expired`.
  void expire_due() const;
  // Every state change goes through here, so observers never miss one.
  void set_state(SimRfq& r, std::string_view state, std::int64_t u_time_ms) const;
  SimRfq* find_by_id(std::string_view rfq_id) const;
  SimRfq* find_by_cl_id(std::string_view cl_rfq_id) const;

  Clock& clock_;
  Journal& journal_;
  OkxSimOptions options_;
  std::shared_ptr<spdlog::logger> log_;
  std::uint64_t next_id_;
  std::size_t seeded_ = 0;
  // Expiry is a function of time, so const accessors apply it: the containers are mutable.
  mutable std::map<std::uint64_t, SimRfq> rfqs_;
  mutable std::multimap<std::int64_t, std::uint64_t> expiry_;  // valid_until -> id (may be stale)
  std::unordered_map<std::string, std::uint64_t> by_cl_id_;
  std::map<std::string, SlidingWindow, std::less<>> windows_;  // endpoint + api key
  std::deque<OkxFault> faults_;  // injection order; each with its remaining count
  ObserverList<SimRfq> observers_;
  std::map<std::string, std::size_t, std::less<>> sprd_mass_cancels_;
  std::map<std::uint64_t, SimSpreadOrder> spread_orders_;
  std::uint64_t next_ord_id_ = 612000000000000001ULL;
  std::uint64_t next_conn_ = 0;
};

}  // namespace rfq::sim
