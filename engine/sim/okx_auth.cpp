#include "engine/sim/okx_auth.hpp"

#include <cstdlib>

#include "engine/auth/okx_signer.hpp"
#include "engine/sim/okx_sim.hpp"

namespace rfq::sim {

namespace {

constexpr unsigned kUnauthorized = 401;

struct RequiredHeader {
  std::string_view name;
  OkxRefusal when_empty;
};

// Live OKX words some of these differently; clients match on code (PROTOCOLS.md §1).
constexpr RequiredHeader kRequired[] = {
    {"OK-ACCESS-KEY",
     {kUnauthorized, "50103", "Request header \"OK-ACCESS-KEY\" cannot be empty."}},
    {"OK-ACCESS-SIGN",
     {kUnauthorized, "50106", "Request header \"OK-ACCESS-SIGN\" cannot be empty."}},
    {"OK-ACCESS-TIMESTAMP",
     {kUnauthorized, "50107", "Request header \"OK-ACCESS-TIMESTAMP\" cannot be empty."}},
    {"OK-ACCESS-PASSPHRASE",
     {kUnauthorized, "50104", "Request header \"OK-ACCESS-PASSPHRASE\" cannot be empty."}},
};

constexpr OkxRefusal kBadTimestamp{kUnauthorized, "50112", "Invalid OK-ACCESS-TIMESTAMP."};
constexpr OkxRefusal kExpired{kUnauthorized, "50102", "Timestamp request expired"};
constexpr OkxRefusal kBadKey{kUnauthorized, "50111", "Invalid OK-ACCESS-KEY."};
constexpr OkxRefusal kBadPassphrase{kUnauthorized, "50105",
                                    "Request header \"OK-ACCESS-PASSPHRASE\" incorrect."};
constexpr OkxRefusal kBadSign{kUnauthorized, "50113", "Invalid Sign"};

std::string_view header_or_empty(const SimHttpRequest& request, std::string_view name) {
  return find_header(request, name).value_or(std::string_view{});
}

}  // namespace

std::optional<OkxRefusal> check_okx_auth(const SimHttpRequest& request,
                                         const OkxSimOptions& options, std::int64_t now_ms) {
  for (const auto& required : kRequired) {
    if (header_or_empty(request, required.name).empty()) return required.when_empty;
  }
  const auto key = header_or_empty(request, "OK-ACCESS-KEY");
  const auto sign = header_or_empty(request, "OK-ACCESS-SIGN");
  const auto ts = header_or_empty(request, "OK-ACCESS-TIMESTAMP");
  const auto passphrase = header_or_empty(request, "OK-ACCESS-PASSPHRASE");

  std::int64_t ts_ms = 0;
  if (!auth::parse_okx_timestamp(ts, ts_ms)) return kBadTimestamp;
  if (std::llabs(now_ms - ts_ms) > options.timestamp_tolerance_ms) return kExpired;
  if (!auth::equal_ct(key, options.api_key)) return kBadKey;
  if (!auth::equal_ct(passphrase, options.passphrase)) return kBadPassphrase;

  const auto expected = auth::okx_sign(
      options.secret, auth::okx_prehash(ts, request.method, request.target, request.body));
  if (!auth::equal_ct(sign, expected)) return kBadSign;
  return std::nullopt;
}

}  // namespace rfq::sim
