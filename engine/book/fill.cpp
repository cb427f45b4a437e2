#include "engine/book/fill.hpp"

#include "engine/book/underlying.hpp"

namespace rfq {
namespace {

const char* opposite(const std::string& side) { return side == "buy" ? "sell" : "buy"; }

// Deribit: the legs as the trades executed them.
void apply_trades(const Rfq& r, Fill& f) {
  double amount = 0;        // executed, signed: + buy, - sell (the structure)
  double traded = 0;        // executed, unsigned
  double notional = 0;      // sum of price x amount over priced trades
  bool every_priced = true;
  for (const RfqTrade& t : r.trades) {
    double a = 0;
    if (!parse_decimal(t.amount, a)) continue;
    amount += t.side == "sell" ? -a : a;
    traded += a;
    double p = 0;
    if (parse_decimal(t.price, p)) {
      notional += p * a;
    } else {
      every_priced = false;
    }
  }
  if (every_priced && traded > 0) f.price = notional / traded;
  for (std::size_t i = 0; i < r.legs.size(); ++i) {
    const LegSize s = parse_leg_size(r.legs[i].size);
    const double leg = s.ok ? amount * s.ratio : 0;
    FillLeg& out = f.legs[i];
    out.size = leg < 0 ? -leg : leg;
    if (leg < 0) out.side = opposite(r.legs[i].side);
  }
  if (r.legs.size() == 1) f.legs[0].price = f.price;
}

}  // namespace

Fill fill_of(const Rfq& r, std::int64_t time_ms) {
  Fill f;
  f.venue = r.venue;
  f.id = r.id;
  f.client_id = r.client_id;
  f.label = r.label;
  f.time_ms = time_ms;
  f.legs.reserve(r.legs.size());
  for (const RfqLeg& leg : r.legs) {
    FillLeg out;
    out.instrument = leg.instrument;
    out.underlying = std::string(underlying_of(r.venue, leg.instrument));
    out.side = leg.side;
    const LegSize s = parse_leg_size(leg.size);
    out.size = s.ok ? s.total() : 0;
    f.legs.push_back(std::move(out));
  }
  if (!r.trades.empty()) apply_trades(r, f);
  return f;
}

}  // namespace rfq
