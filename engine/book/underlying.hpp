#pragma once
// How exposure groups and weighs legs: the underlying an instrument name belongs to, and a
// leg's size text as a number. Pure functions, no allocation (the book calls them on its
// cancel path).
//
// The underlying, by venue:
//   okx      the first two dash-separated parts, OKX's instrument family (uly):
//            "BTC-USD-SWAP", "BTC-USD-240628", "BTC-USD-240628-60000-C" -> "BTC-USD";
//            "BTC-USDT-SWAP" and spot "BTC-USDT" -> "BTC-USDT" (inverse and linear stay apart).
//   others   (deribit) the part before the first dash, the currency: "BTC-PERPETUAL",
//            "BTC-28JUN24", "BTC-28JUN24-60000-C" -> "BTC"; linear "BTC_USDC-PERPETUAL" ->
//            "BTC_USDC" (sized in BTC, not USD like the inverse ones: a bucket of its own).
// A name with fewer parts than that is its own underlying; "" gives "".

#include <string_view>

namespace rfq {

std::string_view underlying_of(std::string_view venue, std::string_view instrument);

// A leg's size as the book holds it (RfqLeg::size): a decimal ("25", "0.5", "1.5E0") or, for a
// Deribit leg whose ratio is not 1, "AMOUNTxRATIO" ("100000x2"). ok is false for anything
// else, a negative or non-finite number included.
struct LegSize {
  double amount = 0;
  double ratio = 1;
  bool ok = false;
  double total() const { return amount * ratio; }
};
LegSize parse_leg_size(std::string_view text);

// A non-negative finite decimal number (the venue's text for sizes, amounts and prices).
bool parse_decimal(std::string_view text, double& out);

}  // namespace rfq
