// Deribit JSON-RPC codec against the shapes of PROTOCOLS.md §7-§10.
#include "engine/venues/deribit/deribit_rpc.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

using namespace rfq;
using namespace rfq::deribit;
namespace json = boost::json;

namespace {
// The cancel_block_rfq result from the docs (PROTOCOLS.md §10).
constexpr const char* kCancelled =
    R"({"jsonrpc":"2.0","id":7,"result":{"creation_timestamp":1729855159611,"block_rfq_id":366,)"
    R"("expiration_timestamp":1729855459611,"role":"taker","asks":[],"bids":[],"makers":[],)"
    R"("amount":100000,"legs":[{"ratio":1,"instrument_name":"BTC-1NOV24","direction":"sell"},)"
    R"({"ratio":1,"instrument_name":"BTC-PERPETUAL","direction":"buy"}],)"
    R"("combo_id":"BTC-FS-1NOV24_PERP","state":"cancelled","label":"example"},)"
    R"("testnet":false,"usIn":1,"usOut":2,"usDiff":1})";
}  // namespace

TEST_CASE("deribit rpc: requests are JSON-RPC 2.0 with named params", "[deribit][codec]") {
  const auto v = json::parse(build_request(9929, "private/cancel_block_rfq", {{"block_rfq_id", 366}}));
  CHECK(v.at("jsonrpc") == "2.0");
  CHECK(v.at("id") == 9929);
  CHECK(v.at("method") == "private/cancel_block_rfq");
  CHECK(v.at("params").at("block_rfq_id") == 366);

  const auto auth = auth_signature_params("AMANDA", 1576074319000, "1iqt2wls", "5659");
  CHECK(auth.at("grant_type") == "client_signature");
  CHECK(auth.at("timestamp") == 1576074319000);
  CHECK(auth.at("data") == "");
  CHECK(auth_credentials_params("id", "s").at("grant_type") == "client_credentials");
  CHECK(auth_refresh_params("r").at("refresh_token") == "r");
  const auto page = open_rfqs_params(400);
  CHECK(page.at("role") == "taker");
  CHECK(page.at("state") == "open");
  CHECK(page.at("continuation") == 400);
  CHECK_FALSE(open_rfqs_params(std::nullopt).contains("continuation"));
  CHECK(http_target(kCancelBlockRfq, "block_rfq_id=366") ==
        "/api/v2/private/cancel_block_rfq?block_rfq_id=366");
}

TEST_CASE("deribit rpc: a cancel answer is the RFQ object, normalized", "[deribit][codec]") {
  Message m = parse_message(kCancelled);
  REQUIRE(m.kind == Message::Kind::response);
  REQUIRE(m.id == 7u);
  REQUIRE_FALSE(m.error);
  Rfq r;
  REQUIRE(parse_block_rfq(m.result, r).empty());
  CHECK(r.venue == "deribit");
  CHECK(r.id == "366");
  CHECK(r.state == "canceled");
  CHECK(r.raw_state == "cancelled");
  CHECK(r.created_ms == 1729855159611);
  CHECK(r.expires_ms == 1729855459611);
  CHECK(r.label == "example");
  REQUIRE(r.legs.size() == 2);
  CHECK(r.legs[0].instrument == "BTC-1NOV24");
  CHECK(r.legs[0].side == "sell");
  CHECK(r.legs[0].size == "100000");
  CHECK(r.client_id.empty());
}

TEST_CASE("deribit rpc: errors, notifications and unreadable frames", "[deribit][codec]") {
  Message e = parse_message(
      R"({"jsonrpc":"2.0","id":8163,"error":{"code":11029,"message":"invalid_arguments",)"
      R"("data":{"reason":"block_rfq is cancelled","param":"block_rfq_id"}}})");
  REQUIRE(e.kind == Message::Kind::response);
  REQUIRE(e.error);
  CHECK(e.error->code == 11029);
  CHECK(e.error->reason == "block_rfq is cancelled");
  CHECK(map_error(kCancelBlockRfq, *e.error) == Errc::not_cancelable);
  CHECK(map_error("private/get_block_rfqs", *e.error) == Errc::rejected);

  // Observed live without an id (ccxt#9133).
  Message u = parse_message(R"({"jsonrpc":"2.0","error":{"message":"unauthorized","code":13009}})");
  REQUIRE(u.kind == Message::Kind::response);
  CHECK_FALSE(u.id);
  CHECK(map_error(kCancelBlockRfq, *u.error) == Errc::auth);

  const std::pair<std::int64_t, Errc> table[] = {
      {13004, Errc::auth},         {10000, Errc::auth},         {10028, Errc::rate_limited},
      {13028, Errc::unavailable},  {11094, Errc::unavailable},  {13888, Errc::timeout},
      {10004, Errc::unknown_rfq},  {11050, Errc::rejected},     {-32602, Errc::rejected}};
  for (const auto& [code, want] : table) {
    RpcError err;
    err.code = code;
    CHECK(map_error(kCancelBlockRfq, err) == want);
  }
  RpcError other_param{11029, "invalid_arguments", "", "count"};
  CHECK(map_error(kCancelBlockRfq, other_param) == Errc::rejected);

  Message hb = parse_message(R"({"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}})");
  REQUIRE(hb.kind == Message::Kind::notification);
  CHECK(hb.method == "heartbeat");
  CHECK(hb.params.at("type") == "test_request");

  CHECK(parse_message("not json").kind == Message::Kind::unreadable);
  CHECK(parse_message("[1]").kind == Message::Kind::unreadable);
  CHECK(parse_message(R"({"jsonrpc":"2.0","id":1})").kind == Message::Kind::unreadable);
  CHECK(parse_message(R"({"id":1,"error":{"message":"x"}})").kind == Message::Kind::unreadable);
}

TEST_CASE("deribit rpc: pages, auth results, states and ids", "[deribit][codec]") {
  auto page = parse_block_rfq_page(json::parse(
      R"({"continuation":321,"block_rfqs":[{"block_rfq_id":400,"state":"open",)"
      R"("creation_timestamp":1,"expiration_timestamp":2,"amount":10,"legs":[{"ratio":2,)"
      R"("instrument_name":"BTC-PERPETUAL","direction":"buy"}]}]})"));
  REQUIRE(page.problem.empty());
  REQUIRE(page.rfqs.size() == 1);
  CHECK(page.rfqs[0].state == "active");
  CHECK(page.rfqs[0].legs[0].size == "10x2");
  CHECK(page.continuation == 321);
  CHECK_FALSE(parse_block_rfq_page(json::parse(R"({"continuation":null,"block_rfqs":[]})")).continuation);
  // Amounts sent as floating point keep their decimal text (not "1E5" or "1.5E0").
  auto floats = parse_block_rfq_page(json::parse(
      R"({"block_rfqs":[{"block_rfq_id":401,"state":"open","creation_timestamp":1,)"
      R"("expiration_timestamp":2,"amount":100000.0,"legs":[{"ratio":1.0,)"
      R"("instrument_name":"BTC-PERPETUAL","direction":"buy"},{"ratio":1.5,)"
      R"("instrument_name":"ETH-PERPETUAL","direction":"sell"}]}]})"));
  REQUIRE(floats.rfqs.size() == 1);
  CHECK(floats.rfqs[0].legs[0].size == "100000");
  CHECK(floats.rfqs[0].legs[1].size == "100000x1.5");
  CHECK_THAT(parse_block_rfq_page(json::parse(R"({"block_rfqs":[{"state":"open"}]})")).problem,
             Catch::Contains("item 0: missing or invalid block_rfq_id"));
  CHECK_FALSE(parse_block_rfq_page(json::parse("{}")).problem.empty());

  auto a = parse_auth(json::parse(
      R"({"access_token":"t","token_type":"bearer","expires_in":900,"refresh_token":"r","scope":"connection"})"));
  CHECK(a.problem.empty());
  CHECK(a.expires_in_s == 900);
  CHECK_FALSE(parse_auth(json::parse(R"({"access_token":"t"})")).problem.empty());

  CHECK(normalize_state("open") == "active");
  CHECK(normalize_state("created") == "active");
  CHECK(normalize_state("filled") == "filled");
  CHECK(normalize_state("expired") == "expired");
  CHECK(normalize_state("closed") == "failed");

  std::int64_t n = 0;
  CHECK(parse_rfq_id("366", n));
  CHECK(n == 366);
  CHECK_FALSE(parse_rfq_id("0", n));
  CHECK_FALSE(parse_rfq_id("-1", n));
  CHECK_FALSE(parse_rfq_id("36a", n));
  CHECK_FALSE(parse_rfq_id("", n));
}

TEST_CASE("deribit rpc: a filled block RFQ's trades are kept as the venue wrote them",
          "[deribit][codec]") {
  Rfq r;
  REQUIRE(parse_block_rfq(json::parse(
              R"({"block_rfq_id":321,"state":"filled","creation_timestamp":1,)"
              R"("expiration_timestamp":2,"amount":10000,"legs":[{"ratio":2,)"
              R"("instrument_name":"BTC-PERPETUAL","direction":"buy"}],"trades":[)"
              R"({"direction":"sell","price":0.0525,"amount":6000,"maker":"M1","hedge_amount":0},)"
              R"({"direction":"sell","price":64000,"amount":4000.5},)"
              R"({"direction":"up","price":1,"amount":1},{"price":1,"amount":1},)"
              R"({"direction":"buy","price":1},"junk"]})"),
                          r)
              .empty());
  CHECK(r.state == "filled");
  REQUIRE(r.trades.size() == 2);  // items without a direction or an amount are left out
  CHECK(r.trades[0].side == "sell");
  CHECK(r.trades[0].price == "0.0525");
  CHECK(r.trades[0].amount == "6000");
  CHECK(r.trades[1].amount == "4000.5");
  CHECK(r.trades[1].price == "64000");
  SECTION("an RFQ without trades has none") {
    REQUIRE(parse_block_rfq(json::parse(kCancelled).at("result"), r).empty());
    CHECK(r.trades.empty());
  }
  SECTION("the filled lookup asks for one page of the taker's filled RFQs") {
    CHECK(json::value(filled_rfqs_params(100)) ==
          json::parse(R"({"role":"taker","state":"filled","count":100})"));
  }
}
