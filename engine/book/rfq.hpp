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
  bool operator==(const RfqLeg&) const = default;
};

// One execution the venue reports on a filled RFQ (Deribit block_rfq `trades[]`); text as the
// venue sent it. OKX's rfqs channel reports none.
struct RfqTrade {
  std::string side;    // "buy" | "sell": the taker's direction of the whole structure
  std::string amount;  // in the RFQ's amount unit
  std::string price;   // of the structure; "" when absent
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
  // Executions, when the venue reports them with a filled RFQ (Deribit); empty otherwise.
  std::vector<RfqTrade> trades;
};

}  // namespace rfq
