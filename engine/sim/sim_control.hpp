#pragma once
// The simulator's own control API: /sim/ requests on the SimServer port that create, fill and
// list RFQs and inject faults, so a client outside the process (curl, a ccxt script, rfqd's CLI
// tests) can steer the OKX model. Never part of OKX, unauthenticated, loopback only (the server
// binds 127.0.0.1). The endpoints and their bodies are documented in okx_sim.hpp.
// Single-threaded like the model: call it from the loop that owns the OkxSim.

#include <string_view>

#include "engine/sim/sim_http.hpp"

namespace rfq::sim {

class OkxSim;

class SimControl {
 public:
  explicit SimControl(OkxSim& okx) : okx_(okx) {}

  // True when the target's path is under /sim/ (the server routes those here, the rest to OKX).
  static bool is_control_target(std::string_view target);

  // Answers one control request and journals it with "venue":"sim".
  SimHttpReply handle(const SimHttpRequest& request);

 private:
  OkxSim& okx_;
};

}  // namespace rfq::sim
