#pragma once
// An RFQ as the engine and scripts see it, one vocabulary for every venue (DESIGN §4).

#include <cstdint>
#include <string>
#include <vector>

namespace rfq {

struct RfqLeg {
  std::string instrument;
  std::string side;  // "buy" | "sell"
  std::string size;  // venue's decimal text, unchanged
};

struct Rfq {
  std::string venue;      // "okx", "deribit"
  std::string id;         // venue id as text (Deribit integers as decimal text)
  std::string client_id;  // OKX clRfqId; empty when none
  std::string state;      // active|canceled|expired|filled|pending_fill|failed
  std::string raw_state;  // the venue's own word
  std::string label;      // OKX tag / Deribit label
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;
  std::vector<RfqLeg> legs;
  // The venue itself reported this state (a feed push or a snapshot listing), as opposed to
  // the engine inferring it from an accepted cancel or from the clock passing expires_ms.
  // confirm = true on a cancel waits for a confirmed terminal state.
  bool confirmed = false;
};

}  // namespace rfq
