#pragma once
// Exposure per venue and underlying (rfq.exposure()): what fills have bought and sold, and how
// much the active RFQs could still trade. Kept incrementally by the book as RFQs become active,
// stop being active and fill.
//
//   filled_net   signed sum of filled leg sizes: buy +, sell - (Fill)
//   open_gross   sum of |size| over the legs of RFQs in state "active"
//
// Sizes are the venue's own numbers (OKX sz, Deribit amount x ratio), summed as they are: a
// bucket that mixes instruments with different size units sums those numbers. A leg whose size
// text is unreadable counts in neither. Buckets stay once created (a venue's underlyings seen
// so far), at zero when nothing is open or filled.

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "engine/book/fill.hpp"
#include "engine/book/rfq.hpp"

namespace rfq {

struct ExposureBucket {
  double filled_net = 0;
  double open_gross = 0;
  std::size_t open_legs = 0;  // legs counted in open_gross (at 0, open_gross is exactly 0)
};

class Exposure {
 public:
  using Underlyings = std::map<std::string, ExposureBucket, std::less<>>;
  using Venues = std::map<std::string, Underlyings, std::less<>>;

  // The legs of an RFQ that became active start counting in open_gross.
  void add_open(const Rfq& r);
  // ... and stop counting when it is no longer active. Never allocates (the cancel path).
  void remove_open(const Rfq& r);
  void add_fill(const Fill& f);

  const Venues& venues() const { return venues_; }
  // Bumped by every change (a change of nothing, e.g. an RFQ without readable legs, is none).
  std::uint64_t version() const { return version_; }

 private:
  ExposureBucket& bucket(std::string_view venue, std::string_view underlying);

  Venues venues_;
  std::uint64_t version_ = 0;
};

}  // namespace rfq
