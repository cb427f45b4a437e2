#pragma once
// A fill as the engine reports it (rfq.on("fill")) and counts it in exposure: what an RFQ that
// the venue reported filled has bought and sold, leg by leg.
//
// Sizes are in the venue's own units, signed by side when they move exposure:
//   okx      each leg's sz, on the side the RFQ names (the rfqs channel says neither which side
//            of a quote was executed nor at what price; RFQs are not partially executed unless
//            allowPartialExecution, which rfqd does not model: the whole sz counts).
//   deribit  with `trades` (block_rfq objects of filled RFQs carry them): per leg, the sum over
//            trades of amount x ratio, the leg's direction kept for a "buy" trade and turned
//            round for a "sell" one (the taker's direction of the whole structure: UNCONFIRMED,
//            PROTOCOLS.md §10 lists the field only); the price is the amount-weighted price of
//            the trades (of the structure; on a one-leg RFQ also the leg's). Without trades:
//            amount x ratio on the leg's direction, no price.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/book/rfq.hpp"

namespace rfq {

struct FillLeg {
  std::string instrument;
  std::string underlying;  // underlying_of(venue, instrument)
  std::string side;        // "buy" | "sell": the direction that was filled
  double size = 0;         // >= 0; 0 when the venue's size text was unreadable
  std::optional<double> price;
};

struct Fill {
  std::string venue;
  std::string id;  // the RFQ's id
  std::string client_id;
  std::string label;
  std::int64_t time_ms = 0;  // when the engine learnt of it (Unix ms)
  std::optional<double> price;  // the structure's, when the venue gives one
  std::vector<FillLeg> legs;
};

// The fill an RFQ in state "filled" stands for.
Fill fill_of(const Rfq& r, std::int64_t time_ms);

}  // namespace rfq
