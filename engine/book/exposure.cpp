#include "engine/book/exposure.hpp"

#include "engine/book/underlying.hpp"

namespace rfq {

ExposureBucket& Exposure::bucket(std::string_view venue, std::string_view underlying) {
  auto v = venues_.find(venue);
  if (v == venues_.end()) v = venues_.emplace(std::string(venue), Underlyings{}).first;
  auto u = v->second.find(underlying);
  if (u == v->second.end()) u = v->second.emplace(std::string(underlying), ExposureBucket{}).first;
  return u->second;
}

void Exposure::add_open(const Rfq& r) {
  for (const RfqLeg& leg : r.legs) {
    const LegSize s = parse_leg_size(leg.size);
    if (!s.ok) continue;
    ExposureBucket& b = bucket(r.venue, underlying_of(r.venue, leg.instrument));
    b.open_gross += s.total();
    ++b.open_legs;
    ++version_;
  }
}

void Exposure::remove_open(const Rfq& r) {
  auto v = venues_.find(std::string_view(r.venue));
  if (v == venues_.end()) return;
  for (const RfqLeg& leg : r.legs) {
    const LegSize s = parse_leg_size(leg.size);
    if (!s.ok) continue;
    auto u = v->second.find(underlying_of(r.venue, leg.instrument));
    if (u == v->second.end() || u->second.open_legs == 0) continue;  // never added
    ExposureBucket& b = u->second;
    // Exactly zero once nothing is open: sums of decimals in binary floating point drift.
    b.open_gross = --b.open_legs == 0 ? 0 : b.open_gross - s.total();
    ++version_;
  }
}

void Exposure::add_fill(const Fill& f) {
  for (const FillLeg& leg : f.legs) {
    if (leg.size == 0) continue;
    ExposureBucket& b = bucket(f.venue, leg.underlying);
    b.filled_net += leg.side == "sell" ? -leg.size : leg.size;
    ++version_;
  }
}

}  // namespace rfq
