#pragma once
// OKX v5 REST (block-trading RFQs, taker side) as a pure model: no sockets, all time from Clock.
// SimServer feeds it real HTTP requests; the in-process test world calls handle() directly.
// It verifies signatures over the raw bytes received (PROTOCOLS.md §1), enforces the documented
// per-endpoint limits, keeps each RFQ's state machine and answers with the documented bodies
// and codes (§3, §5). Single-threaded: call it from the loop that owns it.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

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

struct NewRfq {
  std::string cl_rfq_id;  // optional; when set, unique among all RFQs (OKX 70101)
  std::string tag;
  std::vector<SimLeg> legs;
  // nullopt: OKX's rule, 10 min when every leg is an option, else 2 min.
  std::optional<std::int64_t> expires_in_ms;
};

class OkxSim {
 public:
  OkxSim(Clock& clock, Journal& journal, OkxSimOptions options = {});
  ~OkxSim();
  OkxSim(const OkxSim&) = delete;
  OkxSim& operator=(const OkxSim&) = delete;

  // Answers one request and appends request + answer to the journal.
  SimHttpReply handle(const SimHttpRequest& request);

  // Creates an active RFQ (as if the account had sent create-rfq); returns its rfqId.
  // Throws std::invalid_argument for a duplicate non-empty cl_rfq_id or no legs.
  std::string add_rfq(NewRfq rfq);

  // Adds `count` active RFQs whose expiries are spread evenly over (now, now + spread_ms],
  // with legs chosen deterministically from `seed` and client ids "seed001", "seed002", ...
  void seed(std::size_t count, std::int64_t spread_ms, std::uint64_t seed);

  // Accessors apply due expiries first, like handle().
  std::optional<SimRfq> rfq(std::string_view rfq_id) const;
  std::vector<SimRfq> rfqs() const;  // oldest first
  std::size_t count_in_state(std::string_view state) const;

  const OkxSimOptions& options() const { return options_; }

 private:
  using Answer = detail::OkxAnswer;

  static const detail::OkxRoute* find_route(std::string_view path);
  Answer dispatch(const SimHttpRequest& request);
  bool within_limit(const detail::OkxRoute& route);
  Answer on_public_time(const SimHttpRequest& request);
  Answer on_cancel_rfq(const SimHttpRequest& request);
  Answer on_get_rfqs(const SimHttpRequest& request);
  void record(const SimHttpRequest& request, const Answer& answer);

  // Lazily moves every active RFQ whose validUntil has passed to `expired`.
  void expire_due() const;
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
};

}  // namespace rfq::sim
