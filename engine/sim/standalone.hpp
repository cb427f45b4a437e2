#pragma once
// `rfqd sim`: the simulator as a standalone loopback server any client can use (ccxt, curl,
// rfqd). Prints one JSON line when ready, serves until SIGINT/SIGTERM. The same port serves the
// /sim/ control API (create, fill, list RFQs; inject faults), documented in okx_sim.hpp, and
// OKX's business WebSocket at ws://127.0.0.1:<okx_port>/ws/v5/business (okx_ws_sim.hpp).
// With a Deribit port, a second listener in the same loop serves a DeribitSim: HTTP under
// /api/v2/, the JSON-RPC WebSocket at ws://127.0.0.1:<deribit_port>/ws/api/v2 and the control
// API under /sim/deribit/ (sim_control.hpp), journaling into the same journal.

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

namespace rfq::sim {

struct StandaloneOptions {
  std::uint16_t okx_port = 0;                 // 0: ephemeral (read the port from the ready line)
  std::optional<std::uint16_t> deribit_port;  // nullopt: no Deribit; 0: ephemeral
  std::size_t seed_rfqs = 0;                  // each served venue gets this many
  std::int64_t seed_spread_ms = 120000;
  std::string journal_path;  // empty: journal in memory only
  std::uint64_t seed = 1;
};

// Credentials: OKX_API_KEY / OKX_SECRET_KEY / OKX_PASSPHRASE (or their *_FILE forms) when all
// three are set, else kSimApiKey / kSimSecret / kSimPassphrase; a partial set is an error.
// Deribit (only when served): DERIBIT_CLIENT_ID / DERIBIT_CLIENT_SECRET when both are set, else
// kDeribitSimClientId / kDeribitSimClientSecret; one without the other is an error.
// When listening, writes exactly one line to `out` and flushes it:
//   {"okx_port":N,"seed_rfqs":K,"journal":"PATH"}      ("journal":"" without a journal file)
//   {"okx_port":N,"seed_rfqs":K,"journal":"PATH","deribit_port":M}   (with a Deribit port)
// Returns 0 after SIGINT/SIGTERM, 2 on a configuration error (credentials, journal file, port).
// Errors go to the "sim" logger; secrets are never printed or logged.
int run_standalone(const StandaloneOptions& options, std::ostream& out);

}  // namespace rfq::sim
