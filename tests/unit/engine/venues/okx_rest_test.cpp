// OKX RFQ REST codec against recorded bodies (tests/fixtures/okx/) and PROTOCOLS.md §1, §3, §5.
#include "engine/venues/okx/okx_rest.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "engine/auth/okx_signer.hpp"

namespace {

using rfq::code_name;
using rfq::code_of;
using rfq::Errc;

std::string fixture(const std::string& name) {
  std::string path = std::string(RFQ_SOURCE_DIR) + "/tests/fixtures/okx/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) FAIL("missing fixture " << path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string_view code_name_of(const boost::system::error_code& ec) {
  return code_name(code_of(ec));
}

const std::string* header(const rfq::okx::Headers& h, std::string_view name) {
  for (const auto& [k, v] : h) {
    if (k == name) return &v;
  }
  return nullptr;
}

// 2020-12-08T09:08:57.715Z, the timestamp of the PROTOCOLS.md §1 vectors.
constexpr std::int64_t kVectorMs = 1607418537715;
constexpr const char* kSecret = "22582BD0CFF14C41EDBF1AB98506286D";

}  // namespace

TEST_CASE("okx valid_client_id: 1-32 ASCII letters or digits", "[venues][okx]") {
  using rfq::okx::valid_client_id;
  SECTION("accepted") {
    CHECK(valid_client_id("a"));
    CHECK(valid_client_id("rfq001"));
    CHECK(valid_client_id("AZaz09"));
    CHECK(valid_client_id(std::string(32, 'x')));
  }
  SECTION("rejected") {
    CHECK_FALSE(valid_client_id(""));
    CHECK_FALSE(valid_client_id(std::string(33, 'x')));
    CHECK_FALSE(valid_client_id("desk7-1"));
    CHECK_FALSE(valid_client_id("rfq 1"));
    CHECK_FALSE(valid_client_id("rfq_1"));
    CHECK_FALSE(valid_client_id("r\xC3\xA9q"));  // UTF-8 e-acute
    CHECK_FALSE(valid_client_id("\xFF"));
    CHECK_FALSE(valid_client_id(std::string_view("ab\0c", 4)));
  }
}

TEST_CASE("okx build_cancel_rfq_body: compact JSON, rfqId before clRfqId", "[venues][okx]") {
  using rfq::okx::build_cancel_rfq_body;
  SECTION("id only") { CHECK(build_cancel_rfq_body("22535", "") == R"({"rfqId":"22535"})"); }
  SECTION("client id only") {
    CHECK(build_cancel_rfq_body("", "rfq001") == R"({"clRfqId":"rfq001"})");
  }
  SECTION("both, as in the PROTOCOLS signature vector") {
    CHECK(build_cancel_rfq_body("22535", "rfq001") == R"({"rfqId":"22535","clRfqId":"rfq001"})");
  }
  SECTION("quotes, backslashes and control characters are escaped") {
    CHECK(build_cancel_rfq_body("a\"b\\c\n", "") == R"({"rfqId":"a\"b\\c\n"})");
  }
}

TEST_CASE("okx rfqs_target: active page, optional endId", "[venues][okx]") {
  using rfq::okx::rfqs_target;
  CHECK(rfqs_target("active") == "/api/v5/rfq/rfqs?state=active&limit=100");
  CHECK(rfqs_target("active", "22535") == "/api/v5/rfq/rfqs?state=active&limit=100&endId=22535");
  SECTION("values are percent-encoded") {
    CHECK(rfqs_target("active", "a b&c") ==
          "/api/v5/rfq/rfqs?state=active&limit=100&endId=a%20b%26c");
  }
}

TEST_CASE("okx map_code: venue code and HTTP status to the stable code", "[venues][okx]") {
  using rfq::okx::map_code;
  struct Row {
    const char* code;
    unsigned http;
    Errc want;
  };
  const Row rows[] = {
      {"0", 200, Errc::ok},
      {"70000", 200, Errc::unknown_rfq},
      {"70200", 200, Errc::not_cancelable},
      {"70207", 200, Errc::nothing_to_cancel},
      {"50011", 200, Errc::rate_limited},
      {"50011", 429, Errc::rate_limited},
      {"50061", 200, Errc::rate_limited},
      {"", 429, Errc::rate_limited},
      {"50100", 400, Errc::auth},
      {"50101", 401, Errc::auth},
      {"50102", 401, Errc::auth},
      {"50113", 401, Errc::auth},
      {"50119", 200, Errc::auth},
      {"50001", 503, Errc::unavailable},
      {"50013", 429, Errc::unavailable},  // "Systems are busy": a venue state, not our pace
      {"50026", 500, Errc::unavailable},
      {"70208", 200, Errc::unavailable},
      {"", 502, Errc::unavailable},
      {"", 504, Errc::unavailable},
      {"50004", 400, Errc::timeout},
      {"1", 200, Errc::rejected},
      {"70101", 200, Errc::rejected},
      {"50014", 400, Errc::rejected},
      {"5011", 200, Errc::rejected},  // not a 501xx code
  };
  for (const auto& row : rows) {
    INFO("code " << row.code << " http " << row.http);
    CHECK(code_name(map_code(row.code, row.http)) == code_name(row.want));
  }
}

TEST_CASE("okx auth_headers: signed OK-ACCESS-* headers", "[venues][okx][auth]") {
  rfq::auth::OkxCredentials creds{"key-1", rfq::auth::Secret(kSecret),
                                  rfq::auth::Secret("pass phrase")};
  SECTION("POST cancel-rfq carries the PROTOCOLS vector signature and Content-Type") {
    auto h = rfq::okx::auth_headers(creds, kVectorMs, "POST", rfq::okx::kCancelRfqPath,
                                    R"({"rfqId":"22535","clRfqId":"rfq001"})", false);
    REQUIRE(header(h, "OK-ACCESS-KEY"));
    CHECK(*header(h, "OK-ACCESS-KEY") == "key-1");
    REQUIRE(header(h, "OK-ACCESS-SIGN"));
    CHECK(*header(h, "OK-ACCESS-SIGN") == "KpG2i+OasLJxLDTOaPST6ZFqvgl51BX48rsYrKW1YdM=");
    REQUIRE(header(h, "OK-ACCESS-TIMESTAMP"));
    CHECK(*header(h, "OK-ACCESS-TIMESTAMP") == "2020-12-08T09:08:57.715Z");
    REQUIRE(header(h, "OK-ACCESS-PASSPHRASE"));
    CHECK(*header(h, "OK-ACCESS-PASSPHRASE") == "pass phrase");
    REQUIRE(header(h, "Content-Type"));
    CHECK(*header(h, "Content-Type") == "application/json");
    CHECK(header(h, "x-simulated-trading") == nullptr);
  }
  SECTION("GET signs the query string and sends no Content-Type") {
    auto h = rfq::okx::auth_headers(creds, kVectorMs, "GET", "/api/v5/account/balance?ccy=BTC", "",
                                    false);
    REQUIRE(header(h, "OK-ACCESS-SIGN"));
    CHECK(*header(h, "OK-ACCESS-SIGN") == "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY=");
    CHECK(header(h, "Content-Type") == nullptr);
  }
  SECTION("demo adds x-simulated-trading: 1") {
    auto h =
        rfq::okx::auth_headers(creds, kVectorMs, "POST", "/api/v5/rfq/cancel-all-rfqs", "", true);
    REQUIRE(header(h, "x-simulated-trading"));
    CHECK(*header(h, "x-simulated-trading") == "1");
    REQUIRE(header(h, "OK-ACCESS-SIGN"));
    CHECK(*header(h, "OK-ACCESS-SIGN") == "o8eqICekdu1GHuPE3bLMkrcEtpps7cfL4auvsrvBqYM=");
  }
  SECTION("the signature covers the body") {
    auto a = rfq::okx::auth_headers(creds, kVectorMs, "POST", "/api/v5/rfq/cancel-all-rfqs", "{}",
                                    false);
    REQUIRE(header(a, "OK-ACCESS-SIGN"));
    CHECK(*header(a, "OK-ACCESS-SIGN") == "+4Vyu5HA7xnN5wVJbcjxndDCtTvi4qrOs9EEKJzPEcg=");
  }
}

TEST_CASE("okx normalize_state: one vocabulary for OKX state words", "[venues][okx]") {
  using rfq::okx::normalize_state;
  CHECK(normalize_state("active") == "active");
  CHECK(normalize_state("canceled") == "canceled");
  CHECK(normalize_state("pending_fill") == "pending_fill");
  CHECK(normalize_state("filled") == "filled");
  CHECK(normalize_state("expired") == "expired");
  CHECK(normalize_state("failed") == "failed");
  CHECK(normalize_state("traded_away") == "failed");
  CHECK(normalize_state("cancelled") == "canceled");
  CHECK(normalize_state("something_new") == "failed");
}

TEST_CASE("okx parse_public_time: server ms from the documented shape", "[venues][okx]") {
  using rfq::okx::parse_public_time;
  std::int64_t ms = 0;
  SECTION("fixture") {
    REQUIRE(parse_public_time(fixture("public_time.json"), ms));
    CHECK(ms == 1621247923668);
  }
  SECTION("other shapes are refused and leave the output alone") {
    ms = 7;
    CHECK_FALSE(parse_public_time("", ms));
    CHECK_FALSE(parse_public_time("not json", ms));
    CHECK_FALSE(parse_public_time(R"({"code":"0","data":[],"msg":""})", ms));
    CHECK_FALSE(parse_public_time(R"({"code":"0","data":[{"ts":"12x"}],"msg":""})", ms));
    CHECK_FALSE(parse_public_time(R"({"code":"0","data":[{"ts":""}],"msg":""})", ms));
    CHECK_FALSE(parse_public_time(R"({"code":"0","data":[{"ts":"-5"}],"msg":""})", ms));
    CHECK_FALSE(parse_public_time(R"({"code":"50001","data":[{"ts":"1"}],"msg":""})", ms));
    CHECK_FALSE(parse_public_time(R"([{"ts":"1621247923668"}])", ms));
    CHECK(ms == 7);
  }
}

TEST_CASE("okx cancel-rfq: success maps to canceled with the venue's ids", "[venues][okx]") {
  auto r = rfq::okx::parse_cancel_rfq(200, fixture("cancel_rfq_success.json"), "22535", "");
  CHECK_FALSE(r.ec);
  CHECK(code_name_of(r.ec) == "OK");
  CHECK(r.state == "canceled");
  CHECK(r.venue_code == "0");
  CHECK(r.id == "22535");
  CHECK(r.client_id == "rfq001");  // filled in from the reply
  CHECK(r.message.empty());
  CHECK(r.sent);
  CHECK(r.latency_us == 0);
}

TEST_CASE("okx cancel-rfq: per-item sCode failures", "[venues][okx]") {
  SECTION("70000 -> UNKNOWN_RFQ, message is sMsg") {
    auto r = rfq::okx::parse_cancel_rfq(200, fixture("cancel_rfq_70000.json"), "", "rfq001");
    CHECK(code_name_of(r.ec) == "UNKNOWN_RFQ");
    CHECK(r.ec == make_error_code(Errc::unknown_rfq));
    CHECK(r.venue_code == "70000");
    CHECK(r.message == "RFQ does not exist.");
    CHECK(r.id == "22535");
    CHECK(r.client_id == "rfq001");
    CHECK(r.state.empty());
    CHECK(r.sent);
  }
  SECTION("70200 -> NOT_CANCELABLE") {
    auto r = rfq::okx::parse_cancel_rfq(200, fixture("cancel_rfq_70200.json"), "22536", "");
    CHECK(code_name_of(r.ec) == "NOT_CANCELABLE");
    CHECK(r.venue_code == "70200");
    CHECK(r.message == "The RFQ with canceled status cannot be canceled");
    CHECK(r.id == "22536");
    CHECK(r.client_id == "rfq002");
    CHECK(r.state.empty());
  }
  SECTION("top-level code 0 with a failed item follows the item") {
    auto r = rfq::okx::parse_cancel_rfq(
        200,
        R"({"code":"0","msg":"","data":[{"rfqId":"9","clRfqId":"","sCode":"70200","sMsg":"x"}]})",
        "9", "");
    CHECK(code_name_of(r.ec) == "NOT_CANCELABLE");
    CHECK(r.venue_code == "70200");
    CHECK(r.message == "x");
    CHECK(r.state.empty());
  }
  SECTION("an item without sMsg falls back to the top-level msg") {
    auto r = rfq::okx::parse_cancel_rfq(
        200, R"({"code":"1","msg":"Operation failed.","data":[{"rfqId":"9","sCode":"70101"}]})",
        "9", "");
    CHECK(code_name_of(r.ec) == "REJECTED");
    CHECK(r.venue_code == "70101");
    CHECK(r.message == "Operation failed.");
  }
}

TEST_CASE("okx cancel-rfq: bare top-level code without items", "[venues][okx]") {
  auto r = rfq::okx::parse_cancel_rfq(200, fixture("cancel_rfq_top_level_70000.json"), "22535",
                                      "rfq001");
  CHECK(code_name_of(r.ec) == "UNKNOWN_RFQ");
  CHECK(r.venue_code == "70000");
  CHECK(r.message == "RFQ does not exist.");
  CHECK(r.id == "22535");  // echoed from the request
  CHECK(r.client_id == "rfq001");
  CHECK(r.state.empty());
  CHECK(r.sent);
}

TEST_CASE("okx cancel-rfq: rate limit answers", "[venues][okx]") {
  SECTION("HTTP 429 with 50011") {
    auto r = rfq::okx::parse_cancel_rfq(429, fixture("cancel_rfq_50011_429.json"), "22535", "");
    CHECK(code_name_of(r.ec) == "RATE_LIMITED");
    CHECK(r.venue_code == "50011");
    CHECK(r.message == "Too Many Requests");
    CHECK(r.id == "22535");
    CHECK(r.sent);
  }
  SECTION("HTTP 200 with 50011") {
    auto r = rfq::okx::parse_cancel_rfq(
        200,
        R"({"code":"50011","msg":"Rate limit reached. Please refer to API documentation )"
        R"(and throttle requests accordingly.","data":[]})",
        "", "rfq001");
    CHECK(code_name_of(r.ec) == "RATE_LIMITED");
    CHECK(r.venue_code == "50011");
    CHECK(r.message.rfind("Rate limit reached.", 0) == 0);
    CHECK(r.client_id == "rfq001");
  }
}

TEST_CASE("okx cancel-rfq: 501xx auth failures", "[venues][okx]") {
  SECTION("HTTP 401 Invalid Sign") {
    auto r = rfq::okx::parse_cancel_rfq(401, fixture("cancel_rfq_50113_401.json"), "22535", "");
    CHECK(code_name_of(r.ec) == "AUTH");
    CHECK(r.venue_code == "50113");
    CHECK(r.message == "Invalid Sign");
    CHECK(r.id == "22535");
  }
  SECTION("other 501xx") {
    for (const char* code : {"50101", "50102", "50105", "50111", "50112", "50114"}) {
      INFO(code);
      std::string body = std::string(R"({"msg":"m","code":")") + code + R"(","data":[]})";
      auto r = rfq::okx::parse_cancel_rfq(401, body, "1", "");
      CHECK(code_name_of(r.ec) == "AUTH");
      CHECK(r.venue_code == code);
      CHECK(r.message == "m");
    }
  }
}

TEST_CASE("okx cancel-rfq: venue unavailable", "[venues][okx]") {
  SECTION("HTTP 503 with 50001") {
    auto r = rfq::okx::parse_cancel_rfq(503, fixture("cancel_rfq_50001_503.json"), "22535", "");
    CHECK(code_name_of(r.ec) == "UNAVAILABLE");
    CHECK(r.venue_code == "50001");
    CHECK(r.message == "Service temporarily unavailable. Please try again later.");
    CHECK(r.id == "22535");
    CHECK(r.sent);
  }
  SECTION("HTTP 502 with an HTML gateway page") {
    auto r = rfq::okx::parse_cancel_rfq(502, fixture("cancel_rfq_502_html.txt"), "22535", "");
    CHECK(code_name_of(r.ec) == "UNAVAILABLE");
    CHECK(r.venue_code == "502");
    CHECK(r.message == "HTTP 502: reply was not valid JSON");
    CHECK(r.id == "22535");
    CHECK(r.sent);
  }
  SECTION("HTTP 504 with an empty body") {
    auto r = rfq::okx::parse_cancel_rfq(504, "", "", "rfq001");
    CHECK(code_name_of(r.ec) == "UNAVAILABLE");
    CHECK(r.venue_code == "504");
    CHECK(r.message == "HTTP 504: empty reply body");
    CHECK(r.client_id == "rfq001");
  }
}

TEST_CASE("okx cancel-rfq: unreadable replies never throw", "[venues][okx]") {
  SECTION("truncated JSON with HTTP 200") {
    auto r = rfq::okx::parse_cancel_rfq(200, fixture("cancel_rfq_malformed.txt"), "22535", "");
    CHECK(code_name_of(r.ec) == "UNAVAILABLE");
    CHECK(r.venue_code == "200");
    CHECK(r.message.find("not valid JSON") != std::string::npos);
    CHECK(r.id == "22535");
    CHECK(r.state.empty());
    CHECK(r.sent);
  }
  SECTION("valid JSON that is not an envelope") {
    for (const char* body : {"[]", "null", "42", R"({"msg":"no code"})", R"({"code":true})"}) {
      INFO(body);
      auto r = rfq::okx::parse_cancel_rfq(200, body, "1", "");
      CHECK(code_name_of(r.ec) == "UNAVAILABLE");
      CHECK(r.venue_code == "200");
      CHECK_FALSE(r.message.empty());
    }
  }
  SECTION("deeply nested JSON") {
    std::string body = std::string(10000, '[') + std::string(10000, ']');
    auto r = rfq::okx::parse_cancel_rfq(200, body, "1", "");
    CHECK(code_name_of(r.ec) == "UNAVAILABLE");
  }
}

TEST_CASE("okx get rfqs: a page of RFQs in the one vocabulary", "[venues][okx]") {
  auto page = rfq::okx::parse_rfqs(200, fixture("rfqs_page.json"));
  REQUIRE_FALSE(page.ec);
  CHECK(page.venue_code == "0");
  REQUIRE(page.rfqs.size() == 3);

  const rfq::Rfq& a = page.rfqs[0];
  CHECK(a.venue == "okx");
  CHECK(a.id == "22535");
  CHECK(a.client_id == "rfq001");
  CHECK(a.label == "desk7");
  CHECK(a.state == "active");
  CHECK(a.raw_state == "active");
  CHECK(a.created_ms == 1637431032000);
  CHECK(a.expires_ms == 1637431152000);
  REQUIRE(a.legs.size() == 2);
  CHECK(a.legs[0].instrument == "BTC-USD-221208-100000-C");
  CHECK(a.legs[0].side == "buy");
  CHECK(a.legs[0].size == "25");
  CHECK(a.legs[1].instrument == "ETH-USDT");
  CHECK(a.legs[1].side == "sell");
  CHECK(a.legs[1].size == "150.5");

  const rfq::Rfq& b = page.rfqs[1];
  CHECK(b.id == "22534");
  CHECK(b.client_id.empty());
  CHECK(b.label.empty());
  CHECK(b.state == "failed");
  CHECK(b.raw_state == "traded_away");
  REQUIRE(b.legs.size() == 1);
  CHECK(b.legs[0].instrument == "BTC-USDT-SWAP");

  CHECK(page.rfqs[2].state == "canceled");
  CHECK(page.rfqs[2].client_id == "rfq000");
}

TEST_CASE("okx get rfqs: failures fail the whole page", "[venues][okx]") {
  using rfq::okx::parse_rfqs;
  SECTION("empty data is an empty page") {
    auto page = parse_rfqs(200, R"({"code":"0","msg":"","data":[]})");
    CHECK_FALSE(page.ec);
    CHECK(page.rfqs.empty());
  }
  SECTION("non-zero code") {
    auto page = parse_rfqs(401, fixture("cancel_rfq_50113_401.json"));
    CHECK(code_name_of(page.ec) == "AUTH");
    CHECK(page.venue_code == "50113");
    CHECK(page.message == "Invalid Sign");
    CHECK(page.rfqs.empty());
  }
  SECTION("rate limited") {
    auto page = parse_rfqs(429, fixture("cancel_rfq_50011_429.json"));
    CHECK(code_name_of(page.ec) == "RATE_LIMITED");
    CHECK(page.venue_code == "50011");
  }
  SECTION("HTML gateway page") {
    auto page = parse_rfqs(502, fixture("cancel_rfq_502_html.txt"));
    CHECK(code_name_of(page.ec) == "UNAVAILABLE");
    CHECK(page.venue_code == "502");
  }
  SECTION("malformed items") {
    const char* items[] = {
        R"("x")",
        R"({"state":"active","cTime":"1","validUntil":"2","legs":[]})",
        R"({"rfqId":"1","cTime":"1","validUntil":"2","legs":[]})",
        R"({"rfqId":"1","state":"active","cTime":"1","legs":[]})",
        R"({"rfqId":"1","state":"active","cTime":"abc","validUntil":"2","legs":[]})",
        R"({"rfqId":"1","state":"active","cTime":"1","validUntil":"","legs":[]})",
        R"({"rfqId":"1","state":"active","cTime":"1","validUntil":"2"})",
        R"({"rfqId":"1","state":"active","cTime":"1","validUntil":"2","legs":[{"instId":"X"}]})",
        R"({"rfqId":1,"state":"active","cTime":"1","validUntil":"2","legs":[]})",
    };
    const std::string good =
        R"({"rfqId":"0","state":"active","cTime":"1","validUntil":"2","legs":[]})";
    for (const char* item : items) {
      INFO(item);
      auto page = parse_rfqs(200, R"({"code":"0","msg":"","data":[)" + good + "," + item + "]}");
      CHECK(code_name_of(page.ec) == "UNAVAILABLE");
      CHECK(page.message.find("rfqs item 1") != std::string::npos);
      CHECK(page.rfqs.empty());
    }
  }
}
