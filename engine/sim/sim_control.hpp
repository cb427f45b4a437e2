#pragma once
// The simulator's own control API: /sim/ requests on the SimServer port that create, fill and
// list RFQs and inject faults, so a client outside the process (curl, a ccxt script, rfqd's CLI
// tests) can steer the models. Never part of a venue, unauthenticated, loopback only (the
// server binds 127.0.0.1). The OKX endpoints and their bodies are documented in okx_sim.hpp;
// the Deribit ones, answered only once serve_deribit() was called (404 before, like any
// unknown path), are:
//
//   POST /sim/deribit/rfqs  {"count":N,"expires_in_ms":M,"label":"..","currency":"BTC"}
//       Creates N (default 1, at most 10000) open block RFQs. Optional: "expires_in_ms" (> 0;
//       default the model's rfq_ttl_ms), "label", "currency" (BTC | ETH | USDC | USDT | EURR,
//       default BTC), "amount" (> 0, default 100000), "legs" ([{"instrument_name",
//       "direction":"buy"|"sell","ratio"?:1}], default one buy leg of the currency's perpetual).
//       -> 200 {"block_rfq_ids":[366,...]}
//   POST /sim/deribit/fill  {"block_rfq_id":366}
//       -> 200 {"block_rfq_id":366,"state":"filled"}; 404 unknown id; 409 when not open.
//   POST /sim/deribit/fault {"method":"private/cancel_block_rfq","kind":"drop","count":1,
//                            "delay_ms":0}
//       Queues a DeribitFault (DeribitSim::inject): method "" or absent = any call; kind
//       delay | unavailable | drop | ws_close (required); count >= 1 (default 1); delay_ms
//       0..600000 (default 0). -> 200 {"pending_faults":<calls still to be faulted>}
//   GET  /sim/deribit/rfqs
//       -> 200 {"block_rfqs":[{"block_rfq_id","state","currency","label","amount",
//          "creation_timestamp","expiration_timestamp","update_timestamp",
//          "legs":[{"instrument_name","direction","ratio"}]}, ...]} oldest first, every state.
//
// Conventions for both venues: JSON in and out, Content-Type not checked; bad input is 400
// {"error":".."}, an unknown /sim/ path 404, a wrong method 405, a state conflict 409 (same
// body). Every control request is journaled (in the addressed model's journal) with
// "venue":"sim", "endpoint" the path below /sim/ ("rfqs", "deribit/fill", ...), "method",
// "target", "body", "status", and "error" when refused. Control requests never consume
// injected faults, rate windows or credits.
// Single-threaded like the models: call it from the loop that owns them.

#include <string_view>

#include "engine/sim/sim_http.hpp"

namespace rfq::sim {

class DeribitSim;
class OkxSim;

class SimControl {
 public:
  SimControl() = default;
  explicit SimControl(OkxSim& okx) : okx_(&okx) {}

  // From now on these commands are answered (404 before, like any unknown path).
  void serve_okx(OkxSim& okx) { okx_ = &okx; }
  void serve_deribit(DeribitSim& deribit) { deribit_ = &deribit; }

  // True when the target's path is under /sim/ (the server routes those here).
  static bool is_control_target(std::string_view target);

  // Answers one control request and journals it with "venue":"sim". Needs a model to journal
  // in: call it only once one is served.
  SimHttpReply handle(const SimHttpRequest& request);

 private:
  OkxSim* okx_ = nullptr;
  DeribitSim* deribit_ = nullptr;
};

}  // namespace rfq::sim
