#pragma once
// The in-process world of `rfqd test`: the three simulated venues (OKX REST + business
// WebSocket, OKX spread, Deribit JSON-RPC), the engine with venues okx, okx_spread and deribit
// talking to them through the in-process transports (same codecs, signatures, limits and state
// machines as over sockets, no sockets), and a virtual clock. Everything is deterministic for a
// given seed: time starts at a fixed instant and moves only when advanced.

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "engine/book/rfq.hpp"
#include "engine/core/clock.hpp"

namespace rfq {
class Engine;
}

namespace rfq::sim {

class Journal;
class OkxSim;
class DeribitSim;
struct WsOutage;

struct SimWorldOptions {
  std::uint64_t seed = 1;
  std::int64_t start_ms = 1767225600000;  // 2026-01-01T00:00:00Z
};

class SimWorld {
 public:
  explicit SimWorld(SimWorldOptions options = {});
  ~SimWorld();
  SimWorld(const SimWorld&) = delete;
  SimWorld& operator=(const SimWorld&) = delete;

  // Starts every venue and moves virtual time (10 ms steps, at most 30 s) until all are
  // ready. Empty string on success, else what failed.
  std::string start();

  // Runs what is ready now, without moving time.
  void poll();
  // Moves virtual time forward, running every handler and timer due on the way.
  void advance(Millis d);
  std::int64_t now_ms() const;

  boost::asio::io_context& io() { return io_; }
  VirtualClock& clock() { return clock_; }
  Engine& engine() { return *engine_; }
  Journal& journal() { return *journal_; }
  OkxSim& okx() { return *okx_; }
  DeribitSim& deribit() { return *deribit_; }
  // The simulator's RFQs of venue "okx" or "deribit" as that venue's codec reads them (the
  // fields a push or snapshot gives the engine's book); nullopt for an unknown id or venue.
  std::optional<Rfq> rfq(std::string_view venue, std::string_view id) const;
  std::vector<Rfq> rfqs(std::string_view venue) const;  // oldest first

  // A WebSocket outage of venue "okx" (OKX's business WebSocket, which okx_spread uses too:
  // "okx_spread" names the same one) or "deribit": its connections close now and new ones
  // are refused until `d` has passed (the engine's venues see DISCONNECTED, go down and keep
  // reconnecting with their backoff); REST and Deribit's HTTP API keep answering. A new
  // outage replaces the end of one under way. Throws std::invalid_argument for another venue.
  void ws_outage(std::string_view venue, Millis d);
  // Virtual Unix ms when the venue's outage ends (<= now_ms(): none under way).
  std::int64_t ws_outage_until(std::string_view venue) const;

  // Seeded with the world's seed: randomness a test asks for is reproducible.
  std::mt19937_64& rng() { return rng_; }
  std::uint64_t seed() const { return options_.seed; }

 private:
  SimWorldOptions options_;
  boost::asio::io_context io_;
  VirtualClock clock_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<OkxSim> okx_;
  std::unique_ptr<DeribitSim> deribit_;
  std::shared_ptr<WsOutage> okx_outage_;
  std::shared_ptr<WsOutage> deribit_outage_;
  std::unique_ptr<Engine> engine_;
  std::mt19937_64 rng_;
};

}  // namespace rfq::sim
