// OKX signing against the vectors in PROTOCOLS.md §1 (sample secret from the OKX docs).
#include "engine/auth/deribit_signer.hpp"
#include "engine/auth/okx_signer.hpp"

#include <catch2/catch.hpp>
#include <initializer_list>
#include <string>

namespace {
constexpr const char* kSecret = "22582BD0CFF14C41EDBF1AB98506286D";
}

TEST_CASE("okx_sign matches every PROTOCOLS.md REST vector", "[auth][okx]") {
  using rfq::auth::okx_prehash;
  using rfq::auth::okx_sign;
  const std::string ts = "2020-12-08T09:08:57.715Z";
  SECTION("GET with a query string") {
    auto pre = okx_prehash(ts, "GET", "/api/v5/account/balance?ccy=BTC", "");
    CHECK(pre == "2020-12-08T09:08:57.715ZGET/api/v5/account/balance?ccy=BTC");
    CHECK(okx_sign(kSecret, pre) == "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY=");
  }
  SECTION("POST cancel-rfq with a body") {
    auto pre = okx_prehash(ts, "POST", "/api/v5/rfq/cancel-rfq",
                           R"({"rfqId":"22535","clRfqId":"rfq001"})");
    CHECK(okx_sign(kSecret, pre) == "KpG2i+OasLJxLDTOaPST6ZFqvgl51BX48rsYrKW1YdM=");
  }
  SECTION("POST cancel-all-rfqs without a body (ccxt style)") {
    auto pre = okx_prehash(ts, "POST", "/api/v5/rfq/cancel-all-rfqs", "");
    CHECK(okx_sign(kSecret, pre) == "o8eqICekdu1GHuPE3bLMkrcEtpps7cfL4auvsrvBqYM=");
  }
  SECTION("POST cancel-all-rfqs with {} (python-okx style)") {
    auto pre = okx_prehash(ts, "POST", "/api/v5/rfq/cancel-all-rfqs", "{}");
    CHECK(okx_sign(kSecret, pre) == "+4Vyu5HA7xnN5wVJbcjxndDCtTvi4qrOs9EEKJzPEcg=");
  }
  SECTION("a different secret gives a different signature") {
    auto pre = okx_prehash(ts, "POST", "/api/v5/rfq/cancel-all-rfqs", "{}");
    CHECK(okx_sign("22582BD0CFF14C41EDBF1AB98506286E", pre) !=
          "+4Vyu5HA7xnN5wVJbcjxndDCtTvi4qrOs9EEKJzPEcg=");
  }
}

TEST_CASE("okx_ws_login_sign matches the PROTOCOLS.md WS login vector", "[auth][okx]") {
  CHECK(rfq::auth::okx_ws_login_sign(kSecret, "1538054050") ==
        "+LdIr8lkkvhr5hoA3g9TMC0+uQJ849ftAcocA/ouu4M=");
}

TEST_CASE("okx_timestamp: UTC ISO-8601 with exactly three millisecond digits", "[auth][okx]") {
  using rfq::auth::okx_timestamp;
  CHECK(okx_timestamp(1607418537715) == "2020-12-08T09:08:57.715Z");
  CHECK(okx_timestamp(0) == "1970-01-01T00:00:00.000Z");
  CHECK(okx_timestamp(1607418537005) == "2020-12-08T09:08:57.005Z");
  CHECK(okx_timestamp(1607418537050) == "2020-12-08T09:08:57.050Z");
  CHECK(okx_timestamp(1607418537000) == "2020-12-08T09:08:57.000Z");
  CHECK(okx_timestamp(951782400999) == "2000-02-29T00:00:00.999Z");  // leap day
}

TEST_CASE("parse_okx_timestamp round-trips okx_timestamp", "[auth][okx]") {
  using rfq::auth::okx_timestamp;
  using rfq::auth::parse_okx_timestamp;
  for (std::int64_t ms : {std::int64_t{0}, std::int64_t{1607418537715}, std::int64_t{1607418537005},
                          std::int64_t{951782400999}, std::int64_t{4102444799999}}) {
    INFO(ms);
    std::int64_t back = -1;
    REQUIRE(parse_okx_timestamp(okx_timestamp(ms), back));
    CHECK(back == ms);
  }
}

TEST_CASE("parse_okx_timestamp rejects malformed strings", "[auth][okx]") {
  using rfq::auth::parse_okx_timestamp;
  auto rejects = [](std::initializer_list<const char*> bad) {
    for (const char* s : bad) {
      INFO("'" << s << "'");
      std::int64_t out = 0;
      CHECK_FALSE(parse_okx_timestamp(s, out));
    }
  };
  SECTION("wrong shape") {
    rejects({
        "",
        "2020-12-08T09:08:57Z",       // no milliseconds
        "2020-12-08T09:08:57.71Z",    // two digits
        "2020-12-08T09:08:57.7150Z",  // four digits
        "2020-12-08 09:08:57.715Z",   // space instead of T
        "2020-12-08T09:08:57.715",    // no Z
        "2020-12-08T09:08:57.715+",   // wrong suffix
        "2020/12/08T09:08:57.715Z",   // wrong separators
        "2020-12-08T09:08:57.7a5Z",   // letter in ms
        "20x0-12-08T09:08:57.715Z",   // letter in year
        "1607418537715",              // Unix ms, not ISO
    });
  }
  SECTION("fields out of range") {
    rejects({
        "2020-13-08T09:08:57.715Z",  // month 13
        "2020-00-08T09:08:57.715Z",  // month 0
        "2020-12-32T09:08:57.715Z",  // day 32
        "2020-12-00T09:08:57.715Z",  // day 0
        "2020-12-08T24:08:57.715Z",  // hour 24
        "2020-12-08T09:60:57.715Z",  // minute 60
    });
  }
  SECTION("signs inside numeric fields") {
    rejects({
        "2020-12-08T09:08:57.-15Z",  // millisecond field
        "2020-12-08T-9:08:57.715Z",  // hour field
        "2020-12-08T09:-8:57.715Z",  // minute field
        "2020-12-08T09:08:-7.715Z",  // second field
    });
  }
  SECTION("impossible calendar dates") {
    rejects({
        "2021-02-29T09:08:57.715Z",  // not a leap year
        "2020-04-31T09:08:57.715Z",  // April has 30 days
    });
  }
}

TEST_CASE("equal_ct compares content and length", "[auth]") {
  using rfq::auth::equal_ct;
  CHECK(equal_ct("", ""));
  CHECK(equal_ct("abc", "abc"));
  CHECK_FALSE(equal_ct("abc", "abd"));
  CHECK_FALSE(equal_ct("abc", "ab"));
  CHECK_FALSE(equal_ct("ab", "abc"));
  CHECK_FALSE(equal_ct("", "a"));
  CHECK(equal_ct(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
  CHECK_FALSE(equal_ct(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

TEST_CASE("deribit: client_signature and deri-hmac-sha256 match the PROTOCOLS.md vectors",
          "[auth][deribit]") {
  CHECK(rfq::auth::deribit_ws_signature("AMANDASECRECT", 1576074319000, "1iqt2wls", "") ==
        "56590594f97921b09b18f166befe0d1319b198bbcdad7ca73382de2f88fe9aa1");
  CHECK(rfq::auth::deribit_http_signature("AMANDASECRECT", 1576074319000, "1iqt2wls", "get",
                                          "/api/v2/private/cancel_block_rfq?block_rfq_id=366",
                                          "") ==
        "2f6ad5b80fdc93a6cf819196214a89e4ea353e6786925c3985bd6770e8fa5dae");
  rfq::auth::DeribitCredentials creds{"AMANDA", rfq::auth::Secret("AMANDASECRECT")};
  CHECK(rfq::auth::deribit_http_authorization(creds, 1576074319000, "1iqt2wls", "GET",
                                              "/api/v2/private/cancel_block_rfq?block_rfq_id=366",
                                              "") ==
        "deri-hmac-sha256 id=AMANDA,ts=1576074319000,"
        "sig=2f6ad5b80fdc93a6cf819196214a89e4ea353e6786925c3985bd6770e8fa5dae,nonce=1iqt2wls");
  // A different body or nonce gives a different signature.
  CHECK(rfq::auth::deribit_ws_signature("AMANDASECRECT", 1576074319000, "1iqt2wls", "x") !=
        "56590594f97921b09b18f166befe0d1319b198bbcdad7ca73382de2f88fe9aa1");
}
