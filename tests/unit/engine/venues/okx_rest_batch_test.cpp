// OKX cancel-batch-rfqs and cancel-all-rfqs codec against recorded bodies (tests/fixtures/okx/)
// and PROTOCOLS.md §3, §5.
#include <catch2/catch.hpp>
#include <cstddef>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

#include "engine/venues/okx/okx_rest.hpp"

namespace {

using rfq::code_name;
using rfq::code_of;
using rfq::Errc;
using rfq::okx::BatchItemAnswer;
using rfq::okx::build_cancel_batch_body;
using rfq::okx::parse_cancel_all;
using rfq::okx::parse_cancel_batch;

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

struct WantItem {
  const char* id;
  const char* client_id;
  const char* code;  // code_name: "OK", "UNKNOWN_RFQ", ...
  const char* venue_code;
  const char* message;
};

void check_items(const std::vector<BatchItemAnswer>& got, std::initializer_list<WantItem> want) {
  REQUIRE(got.size() == want.size());
  std::size_t i = 0;
  for (const WantItem& w : want) {
    INFO("item " << i);
    const BatchItemAnswer& it = got[i++];
    CHECK(it.id == w.id);
    CHECK(it.client_id == w.client_id);
    CHECK(code_name_of(it.ec) == w.code);
    CHECK(static_cast<bool>(it.ec) == (std::string_view(w.code) != "OK"));
    CHECK(it.venue_code == w.venue_code);
    CHECK(it.message == w.message);
  }
}

}  // namespace

// ---- build_cancel_batch_body ----------------------------------------------------------------

TEST_CASE("okx build_cancel_batch_body: compact JSON, one id kind, order kept", "[venues][okx]") {
  SECTION("venue ids go under rfqIds in the given order") {
    CHECK(build_cancel_batch_body({"2203", "2201", "2202"}, false) ==
          R"({"rfqIds":["2203","2201","2202"]})");
  }
  SECTION("client ids go under clRfqIds") {
    CHECK(build_cancel_batch_body({"r2", "r1"}, true) == R"({"clRfqIds":["r2","r1"]})");
  }
  SECTION("a single id is still an array") {
    CHECK(build_cancel_batch_body({"22535"}, false) == R"({"rfqIds":["22535"]})");
    CHECK(build_cancel_batch_body({"rfq001"}, true) == R"({"clRfqIds":["rfq001"]})");
  }
  SECTION("duplicates are sent as given") {
    CHECK(build_cancel_batch_body({"1", "1"}, false) == R"({"rfqIds":["1","1"]})");
  }
  SECTION("an empty list is an empty array") {
    CHECK(build_cancel_batch_body({}, false) == R"({"rfqIds":[]})");
    CHECK(build_cancel_batch_body({}, true) == R"({"clRfqIds":[]})");
  }
  SECTION("quotes, backslashes and control characters are escaped") {
    CHECK(build_cancel_batch_body({"a\"b", "c\\d", "e\nf", std::string("g\x01h")}, false) ==
          R"({"rfqIds":["a\"b","c\\d","e\nf","g\u0001h"]})");
  }
  SECTION("kBatchMax ids fit in one body, first and last in place") {
    std::vector<std::string> ids;
    std::string want = R"({"rfqIds":[)";
    for (std::size_t i = 0; i < rfq::okx::kBatchMax; ++i) {
      ids.push_back(std::to_string(100000 + i));
      if (i) want += ',';
      want += '"' + ids.back() + '"';
    }
    want += "]}";
    CHECK(build_cancel_batch_body(ids, false) == want);
  }
}

// ---- parse_cancel_batch: per-item results ----------------------------------------------------

TEST_CASE("okx cancel-batch: all ok maps every item to success", "[venues][okx]") {
  auto a = parse_cancel_batch(200, fixture("cancel_batch_all_ok.json"));
  CHECK_FALSE(a.ec);
  CHECK(code_name_of(a.ec) == "OK");
  CHECK(a.venue_code == "0");
  CHECK(a.message.empty());
  check_items(a.items, {
                           {"2201", "r1", "OK", "0", ""},
                           {"2202", "r2", "OK", "0", ""},
                           {"2203", "", "OK", "0", ""},  // RFQ created without a client id
                       });
}

TEST_CASE("okx cancel-batch: partial result maps each item", "[venues][okx]") {
  auto a = parse_cancel_batch(200, fixture("cancel_batch_partial.json"));
  CHECK_FALSE(a.ec);  // the request as a whole went through; items carry the verdicts
  CHECK(code_name_of(a.ec) == "OK");
  CHECK(a.venue_code == "2");
  CHECK(a.message == "Bulk operation partially ");  // kept verbatim, trailing space included
  check_items(a.items, {
                           {"2201", "r1", "UNKNOWN_RFQ", "70000", "RFQ does not exist."},
                           {"2202", "r2", "OK", "0", ""},  // no top-level msg on a success
                       });
  CHECK(a.items[0].ec == make_error_code(Errc::unknown_rfq));
}

TEST_CASE("okx cancel-batch: all failed maps each item's sCode", "[venues][okx]") {
  auto a = parse_cancel_batch(200, fixture("cancel_batch_all_failed.json"));
  CHECK_FALSE(a.ec);
  CHECK(a.venue_code == "1");
  CHECK(a.message == "Operation failed.");
  check_items(a.items, {
                           {"2201", "r1", "UNKNOWN_RFQ", "70000", "RFQ does not exist."},
                           {"2202", "r2", "NOT_CANCELABLE", "70200",
                            "The RFQ with canceled status cannot be canceled"},
                       });
  CHECK(a.items[1].ec == make_error_code(Errc::not_cancelable));
}

// ---- parse_cancel_batch: whole-request failures ----------------------------------------------

TEST_CASE("okx cancel-batch: HTTP 429 50011 fails the whole request as RATE_LIMITED",
          "[venues][okx]") {
  auto a = parse_cancel_batch(429, fixture("cancel_batch_50011_429.json"));
  CHECK(code_name_of(a.ec) == "RATE_LIMITED");
  CHECK(a.ec == make_error_code(Errc::rate_limited));
  CHECK(a.venue_code == "50011");
  CHECK(a.message == "Too Many Requests");
  CHECK(a.items.empty());
}

TEST_CASE("okx cancel-batch: HTTP 401 50113 fails the whole request as AUTH", "[venues][okx]") {
  auto a = parse_cancel_batch(401, fixture("cancel_batch_50113_401.json"));
  CHECK(code_name_of(a.ec) == "AUTH");
  CHECK(a.venue_code == "50113");
  CHECK(a.message == "Invalid Sign");
  CHECK(a.items.empty());
}

TEST_CASE("okx cancel-batch: HTTP 503 50001 fails the whole request as UNAVAILABLE",
          "[venues][okx]") {
  auto a = parse_cancel_batch(503, fixture("cancel_batch_50001_503.json"));
  CHECK(code_name_of(a.ec) == "UNAVAILABLE");
  CHECK(a.venue_code == "50001");
  CHECK(a.message == "Service temporarily unavailable. Please try again later.");
  CHECK(a.items.empty());
}

TEST_CASE("okx cancel-batch: an HTML 502 page is UNAVAILABLE with the status as venue code",
          "[venues][okx]") {
  auto a = parse_cancel_batch(502, fixture("cancel_batch_502_html.txt"));
  CHECK(code_name_of(a.ec) == "UNAVAILABLE");
  CHECK(a.venue_code == "502");
  CHECK(a.message == "HTTP 502: reply was not valid JSON");
  CHECK(a.items.empty());
}

TEST_CASE("okx cancel-batch: truncated JSON is UNAVAILABLE and reports no items", "[venues][okx]") {
  // The first item is complete in the fixture; half a reply must not be read as a verdict.
  auto a = parse_cancel_batch(200, fixture("cancel_batch_malformed.txt"));
  CHECK(code_name_of(a.ec) == "UNAVAILABLE");
  CHECK(a.venue_code == "200");
  CHECK(a.message == "HTTP 200: reply was not valid JSON");
  CHECK(a.items.empty());
}

TEST_CASE("okx cancel-batch: a top-level code with no items fails the whole request",
          "[venues][okx]") {
  auto a = parse_cancel_batch(400, fixture("cancel_batch_51000_400.json"));
  CHECK(code_name_of(a.ec) == "REJECTED");
  CHECK(a.ec == make_error_code(Errc::rejected));
  CHECK(a.venue_code == "51000");
  CHECK(a.message == "Parameter rfqIds error");
  CHECK(a.items.empty());
}

TEST_CASE("okx cancel-batch: odd shapes", "[venues][okx]") {
  SECTION("a failed item without sMsg takes the top-level msg") {
    auto a = parse_cancel_batch(
        200, R"({"code":"1","msg":"Operation failed.","data":[{"rfqId":"9","sCode":"70101"},)"
             R"({"clRfqId":"c9","sCode":"70000"}]})");
    CHECK_FALSE(a.ec);
    check_items(a.items, {
                             {"9", "", "REJECTED", "70101", "Operation failed."},
                             {"", "c9", "UNKNOWN_RFQ", "70000", "Operation failed."},
                         });
  }
  SECTION("a failed item with no text at all gets the stable code's text") {
    auto a =
        parse_cancel_batch(200, R"({"code":"1","msg":"","data":[{"rfqId":"9","sCode":"70000"}]})");
    check_items(a.items, {{"9", "", "UNKNOWN_RFQ", "70000", "RFQ does not exist"}});
  }
  SECTION("integer codes from a proxy are tolerated") {
    auto a = parse_cancel_batch(
        200, R"({"code":2,"msg":"","data":[{"rfqId":"1","sCode":0},{"rfqId":"2","sCode":70200}]})");
    CHECK_FALSE(a.ec);
    CHECK(a.venue_code == "2");
    check_items(a.items, {
                             {"1", "", "OK", "0", ""},
                             // no sMsg and no msg: the stable code's own text
                             {"2", "", "NOT_CANCELABLE", "70200",
                              "RFQ is not active and cannot be canceled"},
                         });
  }
  SECTION("an item without sCode makes the reply malformed, not half-read") {
    auto a = parse_cancel_batch(
        200,
        R"({"code":"2","msg":"","data":[{"rfqId":"1","sCode":"0"},{"rfqId":"2","sMsg":"?"}]})");
    CHECK(code_name_of(a.ec) == "UNAVAILABLE");
    CHECK(a.venue_code == "2");
    CHECK(a.message == "cancel-batch item 1: missing or invalid sCode");
    CHECK(a.items.empty());
  }
  SECTION("an item with an empty sCode makes the reply malformed") {
    auto a = parse_cancel_batch(200, R"({"code":"1","msg":"","data":[{"rfqId":"1","sCode":""}]})");
    CHECK(code_name_of(a.ec) == "UNAVAILABLE");
    CHECK(a.message == "cancel-batch item 0: missing or invalid sCode");
    CHECK(a.items.empty());
  }
  SECTION("an item that is not an object makes the reply malformed") {
    auto a = parse_cancel_batch(200, R"({"code":"0","msg":"","data":["2201"]})");
    CHECK(code_name_of(a.ec) == "UNAVAILABLE");
    CHECK(a.message == "cancel-batch item 0: missing or invalid sCode");
    CHECK(a.items.empty());
  }
  SECTION("code 0 with an empty data array reports nothing and fails nothing") {
    auto a = parse_cancel_batch(200, R"({"code":"0","msg":"","data":[]})");
    CHECK_FALSE(a.ec);
    CHECK(a.venue_code == "0");
    CHECK(a.items.empty());
  }
  SECTION("code 0 without a data array is malformed") {
    auto a = parse_cancel_batch(200, R"({"code":"0","msg":""})");
    CHECK(code_name_of(a.ec) == "UNAVAILABLE");
    CHECK(a.venue_code == "0");
    CHECK(a.message == "cancel-batch reply has no data array");
  }
  SECTION("code 1 without items is a whole-request refusal") {
    auto a = parse_cancel_batch(200, R"({"code":"1","msg":"Operation failed.","data":[]})");
    CHECK(code_name_of(a.ec) == "REJECTED");
    CHECK(a.venue_code == "1");
    CHECK(a.message == "Operation failed.");
  }
  SECTION("code 2 without items leaves every outcome unknown") {
    auto a = parse_cancel_batch(200, R"({"code":"2","msg":"Bulk operation partially ","data":[]})");
    CHECK(code_name_of(a.ec) == "UNAVAILABLE");
    CHECK(a.venue_code == "2");
    CHECK(a.message == "cancel-batch partial result without items: Bulk operation partially ");
    CHECK(a.items.empty());
  }
  SECTION("50011 with HTTP 200 is RATE_LIMITED") {
    auto a = parse_cancel_batch(200, R"({"code":"50011","msg":"Rate limit reached.","data":[]})");
    CHECK(code_name_of(a.ec) == "RATE_LIMITED");
    CHECK(a.venue_code == "50011");
    CHECK(a.message == "Rate limit reached.");
  }
  SECTION("a top-level code whose items lack sCode is a whole-request failure") {
    auto a = parse_cancel_batch(200, R"({"code":"50014","msg":"Parameter rfqIds can not be )"
                                     R"(empty.","data":[{}]})");
    CHECK(code_name_of(a.ec) == "REJECTED");
    CHECK(a.venue_code == "50014");
    CHECK(a.items.empty());
  }
  SECTION("items under a non-2xx status are not read") {
    auto a = parse_cancel_batch(
        500, R"({"code":"50026","msg":"System error","data":[{"rfqId":"1","sCode":"0"}]})");
    CHECK(code_name_of(a.ec) == "UNAVAILABLE");
    CHECK(a.venue_code == "50026");
    CHECK(a.items.empty());
  }
  SECTION("valid JSON that is not an envelope") {
    for (const char* body : {"[]", "null", R"({"msg":"no code"})", R"({"code":true})"}) {
      INFO(body);
      auto a = parse_cancel_batch(200, body);
      CHECK(code_name_of(a.ec) == "UNAVAILABLE");
      CHECK(a.venue_code == "200");
      CHECK(a.message == "HTTP 200: reply is valid JSON but not an OKX envelope (no code)");
      CHECK(a.items.empty());
    }
  }
  SECTION("without a code, a 4xx object is a refusal but a 4xx non-object is a gateway fault") {
    auto obj = parse_cancel_batch(400, R"({"msg":"bad request"})");
    CHECK(code_name_of(obj.ec) == "REJECTED");
    CHECK(obj.venue_code == "400");
    auto arr = parse_cancel_batch(400, "[]");
    CHECK(code_name_of(arr.ec) == "UNAVAILABLE");
    CHECK(arr.venue_code == "400");
    CHECK(arr.message == "HTTP 400: reply is valid JSON but not an OKX envelope (no code)");
  }
  SECTION("an empty 504 body") {
    auto a = parse_cancel_batch(504, "");
    CHECK(code_name_of(a.ec) == "UNAVAILABLE");
    CHECK(a.venue_code == "504");
    CHECK(a.message == "HTTP 504: empty reply body");
  }
  SECTION("deeply nested JSON") {
    auto a = parse_cancel_batch(200, std::string(10000, '[') + std::string(10000, ']'));
    CHECK(code_name_of(a.ec) == "UNAVAILABLE");
    CHECK(a.items.empty());
  }
}

TEST_CASE("okx cancel-batch: a full batch of kBatchMax items keeps the venue's order",
          "[venues][okx]") {
  // Larger than the parser's stack buffer: the arena must spill to the heap cleanly.
  std::string body = R"({"code":"2","msg":"Bulk operation partially ","data":[)";
  for (std::size_t i = 0; i < rfq::okx::kBatchMax; ++i) {
    if (i) body += ',';
    body += R"({"rfqId":")" + std::to_string(5000 + i) + R"(","clRfqId":"cl)" + std::to_string(i) +
            R"(","sCode":")" + (i % 3 ? "0" : "70000") + R"(","sMsg":")" +
            (i % 3 ? "" : "RFQ does not exist.") + R"("})";
  }
  body += "]}";
  auto a = parse_cancel_batch(200, body);
  REQUIRE_FALSE(a.ec);
  REQUIRE(a.items.size() == rfq::okx::kBatchMax);
  for (std::size_t i = 0; i < a.items.size(); ++i) {
    INFO("item " << i);
    CHECK(a.items[i].id == std::to_string(5000 + i));
    CHECK(a.items[i].client_id == "cl" + std::to_string(i));
    CHECK(code_name_of(a.items[i].ec) == (i % 3 ? "OK" : "UNKNOWN_RFQ"));
  }
}

// ---- parse_cancel_all ------------------------------------------------------------------------

TEST_CASE("okx cancel-all: success carries the venue's ts", "[venues][okx]") {
  auto a = parse_cancel_all(200, fixture("cancel_all_success.json"));
  CHECK_FALSE(a.ec);
  CHECK(code_name_of(a.ec) == "OK");
  CHECK(a.venue_code == "0");
  CHECK(a.message.empty());
  CHECK(a.ts == 1697026383085);
  CHECK(rfq::okx::kCancelAllBody == "{}");
}

TEST_CASE("okx cancel-all: top-level 70207 is NOTHING_TO_CANCEL", "[venues][okx]") {
  auto a = parse_cancel_all(200, fixture("cancel_all_70207_top_level.json"));
  CHECK(code_name_of(a.ec) == "NOTHING_TO_CANCEL");
  CHECK(a.ec == make_error_code(Errc::nothing_to_cancel));
  CHECK(a.venue_code == "70207");
  CHECK(a.message == "Cancellation failed as you do not have any active RFQs.");
  CHECK(a.ts == 0);
}

TEST_CASE("okx cancel-all: 70207 in data[0].sCode is NOTHING_TO_CANCEL too", "[venues][okx]") {
  auto a = parse_cancel_all(200, fixture("cancel_all_70207_in_data.json"));
  CHECK(code_name_of(a.ec) == "NOTHING_TO_CANCEL");
  CHECK(a.venue_code == "70207");  // the item's code, not the top-level "1"
  CHECK(a.message == "Cancellation failed as you do not have any active RFQs.");
  CHECK(a.ts == 0);
}

TEST_CASE("okx cancel-all: 70208 is UNAVAILABLE", "[venues][okx]") {
  auto a = parse_cancel_all(200, fixture("cancel_all_70208.json"));
  CHECK(code_name_of(a.ec) == "UNAVAILABLE");
  CHECK(a.venue_code == "70208");
  CHECK(a.message == "Cancellation failed as service is unavailable now, please try again later.");
  CHECK(a.ts == 0);
}

TEST_CASE("okx cancel-all: whole-request failures", "[venues][okx]") {
  SECTION("HTTP 429 50011") {
    auto a = parse_cancel_all(429, fixture("cancel_batch_50011_429.json"));
    CHECK(code_name_of(a.ec) == "RATE_LIMITED");
    CHECK(a.venue_code == "50011");
    CHECK(a.message == "Too Many Requests");
  }
  SECTION("HTTP 401 50113") {
    auto a = parse_cancel_all(401, fixture("cancel_batch_50113_401.json"));
    CHECK(code_name_of(a.ec) == "AUTH");
    CHECK(a.venue_code == "50113");
    CHECK(a.message == "Invalid Sign");
  }
  SECTION("HTTP 503 50001") {
    auto a = parse_cancel_all(503, fixture("cancel_batch_50001_503.json"));
    CHECK(code_name_of(a.ec) == "UNAVAILABLE");
    CHECK(a.venue_code == "50001");
    CHECK(a.message == "Service temporarily unavailable. Please try again later.");
  }
  SECTION("HTTP 502 HTML page") {
    auto a = parse_cancel_all(502, fixture("cancel_batch_502_html.txt"));
    CHECK(code_name_of(a.ec) == "UNAVAILABLE");
    CHECK(a.venue_code == "502");
    CHECK(a.message == "HTTP 502: reply was not valid JSON");
  }
  SECTION("truncated JSON") {
    auto a = parse_cancel_all(200, R"({"code":"0","msg":"","data":[{"ts":"16970)");
    CHECK(code_name_of(a.ec) == "UNAVAILABLE");
    CHECK(a.venue_code == "200");
    CHECK(a.message == "HTTP 200: reply was not valid JSON");
    CHECK(a.ts == 0);
  }
  SECTION("valid JSON that is not an envelope") {
    auto a = parse_cancel_all(200, R"({"data":[{"ts":"1"}]})");
    CHECK(code_name_of(a.ec) == "UNAVAILABLE");
    CHECK(a.venue_code == "200");
    CHECK(a.message == "HTTP 200: reply is valid JSON but not an OKX envelope (no code)");
    CHECK(a.ts == 0);
  }
  SECTION("an empty 504 body") {
    auto a = parse_cancel_all(504, "");
    CHECK(code_name_of(a.ec) == "UNAVAILABLE");
    CHECK(a.venue_code == "504");
    CHECK(a.message == "HTTP 504: empty reply body");
  }
  SECTION("HTTP 400 with a parameter error") {
    auto a = parse_cancel_all(400, R"({"code":"50000","msg":"Body for POST request cannot be )"
                                   R"(empty.","data":[]})");
    CHECK(code_name_of(a.ec) == "REJECTED");
    CHECK(a.venue_code == "50000");
  }
  SECTION("an item sCode is not read under a non-2xx status") {
    auto a = parse_cancel_all(503, R"({"code":"50001","msg":"","data":[{"sCode":"70207"}]})");
    CHECK(code_name_of(a.ec) == "UNAVAILABLE");
    CHECK(a.venue_code == "50001");
    CHECK(a.message == "venue unavailable");  // no msg: the stable code's text
  }
}

TEST_CASE("okx cancel-all: success without a usable ts still succeeds", "[venues][okx]") {
  for (const char* body :
       {R"({"code":"0","msg":"","data":[]})", R"({"code":"0","msg":""})",
        R"({"code":"0","msg":"","data":[{"ts":"12x"}]})", R"({"code":"0","msg":"","data":[{}]})"}) {
    INFO(body);
    auto a = parse_cancel_all(200, body);
    CHECK_FALSE(a.ec);
    CHECK(a.venue_code == "0");
    CHECK(a.ts == 0);
  }
  SECTION("an item sCode 0 is success, ts read beside it") {
    auto a = parse_cancel_all(200, R"({"code":"0","msg":"","data":[{"sCode":"0","ts":"17"}]})");
    CHECK_FALSE(a.ec);
    CHECK(a.venue_code == "0");
    CHECK(a.ts == 17);
  }
}
