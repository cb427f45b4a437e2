// OkxSim's cancel-batch-rfqs and cancel-all-rfqs through handle(): every batch shape, the
// cancel-all answers, and the 2 / 2 s windows of both, each independent of cancel-rfq's.

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "engine/sim/okx_sim.hpp"
#include "tests/unit/engine/sim/okx_sim_world.hpp"

namespace {

using namespace rfq;
using namespace rfq::sim;
using namespace rfq::sim::test;
using std::chrono::milliseconds;

constexpr const char* kBatchPath = "/api/v5/rfq/cancel-batch-rfqs";
constexpr const char* kAllPath = "/api/v5/rfq/cancel-all-rfqs";

SimHttpReply batch(World& w, std::string body) {
  return w.okx.handle(signed_request(w.clock, "POST", kBatchPath, std::move(body)));
}

SimHttpReply cancel_all(World& w, std::string body = "{}") {
  return w.okx.handle(signed_request(w.clock, "POST", kAllPath, std::move(body)));
}

// ["a","b"] as JSON text.
std::string json_list(const std::vector<std::string>& ids) {
  std::string out = "[";
  for (const auto& id : ids) out += (out.size() > 1 ? ",\"" : "\"") + id + "\"";
  return out + "]";
}

std::vector<std::string> s_codes_of(const SimHttpReply& reply) {
  std::vector<std::string> codes;
  const auto body = body_of(reply);
  for (const auto& item : body.at("data").as_array()) {
    codes.push_back(str(item.as_object(), "sCode"));
  }
  return codes;
}

using Codes = std::vector<std::string>;

}  // namespace

SCENARIO("okx cancel-batch-rfqs: one item per requested id, in request order",
         "[sim][okx][cancel-batch]") {
  World w;
  const auto a = w.add("cl-a");
  const auto b = w.add("cl-b");
  const auto c = w.add("cl-c");

  GIVEN("three active RFQs by rfqIds") {
    const auto reply = batch(w, R"({"rfqIds":)" + json_list({a, b, c}) + "}");
    THEN("all succeed: code 0, every item sCode 0 echoing both ids") {
      CHECK(reply.status == 200);
      CHECK(code_of(reply) == "0");
      CHECK(str(body_of(reply), "msg") == "");
      CHECK(ids_of(reply) == std::vector<std::string>{a, b, c});
      CHECK(s_codes_of(reply) == Codes{"0", "0", "0"});
      CHECK(str(item_of(reply, 1), "clRfqId") == "cl-b");
      CHECK(str(item_of(reply, 1), "sMsg") == "");
      CHECK(w.okx.count_in_state("canceled") == 3);
    }
  }
  GIVEN("a mix of active, unknown and already canceled RFQs") {
    w.okx.handle(cancel_request(w.clock, R"({"rfqId":")" + b + R"("})"));
    const auto reply = batch(w, R"({"rfqIds":)" + json_list({a, "999", b, c}) + "}");
    THEN("code 2 names partial success and each item keeps its own code, in order") {
      CHECK(reply.status == 200);
      CHECK(code_of(reply) == "2");
      CHECK(str(body_of(reply), "msg") == "Bulk operation partially succeeded.");
      CHECK(ids_of(reply) == std::vector<std::string>{a, "999", b, c});
      CHECK(s_codes_of(reply) == Codes{"0", "70000", "70200", "0"});
      CHECK(str(item_of(reply, 1), "sMsg") == "RFQ does not exist.");
      CHECK(str(item_of(reply, 1), "clRfqId") == "");
      CHECK(str(item_of(reply, 2), "sMsg") == "The RFQ with canceled status cannot be canceled");
      CHECK(str(item_of(reply, 2), "clRfqId") == "cl-b");
      CHECK(w.okx.rfq(a)->state == "canceled");
      CHECK(w.okx.rfq(c)->state == "canceled");
    }
  }
  GIVEN("only ids that cannot be canceled") {
    w.clock.advance(milliseconds(60000));  // a, b and c expire
    const auto reply = batch(w, R"({"rfqIds":)" + json_list({"998", a, "999"}) + "}");
    THEN("code 1 Operation failed, still HTTP 200 with every item") {
      CHECK(reply.status == 200);
      CHECK(code_of(reply) == "1");
      CHECK(str(body_of(reply), "msg") == "Operation failed.");
      CHECK(s_codes_of(reply) == Codes{"70000", "70200", "70000"});
      CHECK(str(item_of(reply, 1), "sMsg") == "The RFQ with expired status cannot be canceled");
    }
  }
  GIVEN("the same id twice in one request") {
    const auto reply = batch(w, R"({"rfqIds":)" + json_list({a, a, "999", "999"}) + "}");
    THEN("each occurrence gets an item; the second sees the first's cancel") {
      CHECK(code_of(reply) == "2");
      CHECK(ids_of(reply) == std::vector<std::string>{a, a, "999", "999"});
      CHECK(s_codes_of(reply) == Codes{"0", "70200", "70000", "70000"});
    }
  }
  GIVEN("clRfqIds only") {
    const auto reply = batch(w, R"({"clRfqIds":["cl-c","nope","cl-a"]})");
    THEN("items carry the found rfqId, and an empty one for an unknown clRfqId") {
      CHECK(code_of(reply) == "2");
      CHECK(ids_of(reply) == std::vector<std::string>{c, "", a});
      CHECK(str(item_of(reply, 1), "clRfqId") == "nope");
      CHECK(s_codes_of(reply) == Codes{"0", "70000", "0"});
      CHECK(w.okx.rfq(b)->state == "active");
    }
  }
}

TEST_CASE("okx cancel-batch-rfqs: python-okx's unused list as [] or \"\" is absent",
          "[sim][okx][cancel-batch]") {
  World w;
  const auto a = w.add("cl-a");
  const auto b = w.add("cl-b");
  std::string body;
  SECTION("rfqIds with clRfqIds []") { body = R"({"rfqIds": [")" + a + R"("], "clRfqIds": []})"; }
  SECTION("rfqIds with clRfqIds \"\"") { body = R"({"rfqIds": [")" + a + R"("], "clRfqIds": ""})"; }
  SECTION("clRfqIds with rfqIds []") { body = R"({"rfqIds": [], "clRfqIds": ["cl-a"]})"; }
  SECTION("clRfqIds with rfqIds \"\"") { body = R"({"rfqIds": "", "clRfqIds": ["cl-a"]})"; }
  SECTION("rfqIds as numbers") { body = R"({"rfqIds":[)" + a + "]}"; }
  const auto reply = batch(w, body);
  CHECK(code_of(reply) == "0");
  CHECK(ids_of(reply) == std::vector<std::string>{a});
  CHECK(w.okx.rfq(a)->state == "canceled");
  CHECK(w.okx.rfq(b)->state == "active");
}

TEST_CASE("okx cancel-batch-rfqs: rfqIds wins when both lists are non-empty",
          "[sim][okx][cancel-batch]") {
  World w;
  const auto a = w.add("cl-a");
  const auto b = w.add("cl-b");
  const auto reply = batch(w, R"({"rfqIds":[")" + a + R"("],"clRfqIds":["cl-b"]})");
  CHECK(code_of(reply) == "0");
  CHECK(ids_of(reply) == std::vector<std::string>{a});
  CHECK(w.okx.rfq(a)->state == "canceled");
  CHECK(w.okx.rfq(b)->state == "active");
}

TEST_CASE("okx cancel-batch-rfqs: no ids is HTTP 400 / 50014", "[sim][okx][cancel-batch]") {
  World w;
  std::string body;
  SECTION("{}") { body = "{}"; }
  SECTION("no body (ccxt style)") { body = ""; }
  SECTION("both lists empty") { body = R"({"rfqIds":[],"clRfqIds":[]})"; }
  SECTION("both lists \"\"") { body = R"({"rfqIds": "", "clRfqIds": ""})"; }
  const auto reply = batch(w, body);
  CHECK(reply.status == 400);
  CHECK(reply.body == R"({"code":"50014","msg":"Parameter rfqIds can not be empty","data":[]})");
}

TEST_CASE("okx cancel-batch-rfqs: more than 100 ids is HTTP 400 / 51000 and cancels nothing",
          "[sim][okx][cancel-batch]") {
  OkxSimOptions options;
  options.enforce_limits = false;
  World w(options);
  std::vector<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.push_back(w.add("cl" + std::to_string(i)));

  SECTION("101 rfqIds") {
    auto over = ids;
    over.push_back("999");
    const auto reply = batch(w, R"({"rfqIds":)" + json_list(over) + "}");
    CHECK(reply.status == 400);
    CHECK(reply.body == R"({"code":"51000","msg":"Parameter rfqIds error","data":[]})");
    CHECK(w.okx.count_in_state("active") == 100);
  }
  SECTION("101 clRfqIds name clRfqIds") {
    std::vector<std::string> cl_ids(101, "cl0");
    const auto reply = batch(w, R"({"clRfqIds":)" + json_list(cl_ids) + "}");
    CHECK(reply.status == 400);
    CHECK(str(body_of(reply), "msg") == "Parameter clRfqIds error");
    CHECK(w.okx.count_in_state("active") == 100);
  }
  SECTION("exactly 100 is accepted") {
    const auto reply = batch(w, R"({"rfqIds":)" + json_list(ids) + "}");
    CHECK(reply.status == 200);
    CHECK(code_of(reply) == "0");
    CHECK(ids_of(reply).size() == 100);
    CHECK(w.okx.count_in_state("canceled") == 100);
  }
}

TEST_CASE("okx cancel-batch-rfqs: malformed id lists are parameter errors",
          "[sim][okx][cancel-batch]") {
  World w;
  const auto a = w.add();
  std::string body;
  std::string msg = "Parameter rfqIds error";
  SECTION("a string instead of a list") { body = R"({"rfqIds":")" + a + R"("})"; }
  SECTION("an object in the list") { body = R"({"rfqIds":[{}]})"; }
  SECTION("a list of lists in clRfqIds") {
    body = R"({"clRfqIds":[["x"]]})";
    msg = "Parameter clRfqIds error";
  }
  const auto reply = batch(w, body);
  CHECK(reply.status == 400);
  CHECK(code_of(reply) == "51000");
  CHECK(str(body_of(reply), "msg") == msg);
  CHECK(w.okx.rfq(a)->state == "active");
}

TEST_CASE("okx cancel-all-rfqs: cancels every active RFQ and answers the time",
          "[sim][okx][cancel-all]") {
  World w;
  const auto a = w.add("", 60000);
  const auto b = w.add("", 60000);
  const auto expiring = w.add("", 1000);
  const auto filled = w.add("", 60000);
  REQUIRE(w.okx.fill(filled));
  w.clock.advance(milliseconds(1500));
  std::string body;
  SECTION("python-okx sends and signs {}") { body = "{}"; }
  SECTION("ccxt sends no body and signs timestamp + POST + path") { body = ""; }

  const auto reply = cancel_all(w, body);
  CHECK(reply.status == 200);
  CHECK(reply.body ==
        R"({"code":"0","msg":"","data":[{"ts":")" + std::to_string(kStartMs + 1500) + R"("}]})");
  CHECK(w.okx.rfq(a)->state == "canceled");
  CHECK(w.okx.rfq(b)->state == "canceled");
  CHECK(w.okx.rfq(a)->u_time_ms == kStartMs + 1500);
  CHECK(w.okx.rfq(expiring)->state == "expired");
  CHECK(w.okx.rfq(filled)->state == "filled");
}

TEST_CASE("okx cancel-all-rfqs: without a Content-Type an empty body still verifies",
          "[sim][okx][cancel-all]") {
  World w;
  w.add();
  auto req = signed_request(w.clock, "POST", kAllPath, "");
  remove_header(req, "Content-Type");
  const auto reply = w.okx.handle(req);
  CHECK(reply.status == 200);
  CHECK(code_of(reply) == "0");
  CHECK(w.okx.count_in_state("active") == 0);
}

TEST_CASE("okx cancel-all-rfqs: nothing active is top-level 70207 with HTTP 200",
          "[sim][okx][cancel-all]") {
  World w;
  SECTION("no RFQs at all") {}
  SECTION("only RFQs that are no longer active") {
    const auto id = w.add("", 1000);
    w.okx.handle(cancel_request(w.clock, R"({"rfqId":")" + id + R"("})"));
    w.add("", 1000);
    w.clock.advance(milliseconds(1000));
  }
  SECTION("a second cancel-all after the first emptied the book") {
    w.add();
    REQUIRE(code_of(cancel_all(w)) == "0");
  }
  const auto reply = cancel_all(w, "");
  CHECK(reply.status == 200);
  CHECK(reply.body ==
        R"({"code":"70207","msg":"Cancellation failed as you do not have any active RFQs.",)"
        R"("data":[]})");
  CHECK(w.journal.entries().back().at("code").as_string() == "70207");
}

TEST_CASE("okx cancel-batch-rfqs and cancel-all-rfqs: 2 per 2 s each, own windows",
          "[sim][okx][limits]") {
  World w;
  const auto batch_unknown = [&] { return batch(w, R"({"rfqIds":["1"]})").status; };
  const auto all = [&] { return cancel_all(w).status; };  // 200 (70207) with nothing active
  const auto single = [&] {
    return w.okx.handle(cancel_request(w.clock, R"({"rfqId":"1"})")).status;
  };

  SECTION("cancel-batch-rfqs") {
    CHECK(batch_unknown() == 200);
    CHECK(batch_unknown() == 200);
    const auto refused = batch(w, R"({"rfqIds":["1"]})");
    CHECK(refused.status == 429);
    CHECK(refused.body == R"({"msg":"Too Many Requests","code":"50011"})");
    // The other two cancel endpoints still have their whole windows.
    for (int i = 0; i < 5; ++i) CHECK(single() == 200);
    CHECK(all() == 200);
    CHECK(all() == 200);
    w.clock.advance(milliseconds(1999));
    CHECK(batch_unknown() == 429);
    w.clock.advance(milliseconds(1));
    CHECK(batch_unknown() == 200);
  }
  SECTION("cancel-all-rfqs") {
    CHECK(all() == 200);
    CHECK(all() == 200);
    const auto refused = cancel_all(w);
    CHECK(refused.status == 429);
    CHECK(code_of(refused) == "50011");
    CHECK(batch_unknown() == 200);
    CHECK(batch_unknown() == 200);
    for (int i = 0; i < 5; ++i) CHECK(single() == 200);
    w.clock.advance(milliseconds(2000));
    CHECK(all() == 200);
  }
  SECTION("a full cancel-rfq window leaves both batch endpoints free") {
    for (int i = 0; i < 5; ++i) REQUIRE(single() == 200);
    REQUIRE(single() == 429);
    CHECK(batch_unknown() == 200);
    CHECK(all() == 200);
  }
}

TEST_CASE("okx cancel-batch-rfqs and cancel-all-rfqs are journaled under their endpoints",
          "[sim][okx][journal]") {
  World w;
  const auto a = w.add();
  batch(w, R"({"rfqIds":[")" + a + R"(","999"]})");
  cancel_all(w, "");
  const auto batches = w.journal.find("okx", "cancel-batch-rfqs");
  REQUIRE(batches.size() == 1);
  CHECK(str(batches[0], "code") == "2");
  CHECK(str(batches[0], "target") == kBatchPath);
  const auto alls = w.journal.find("okx", "cancel-all-rfqs");
  REQUIRE(alls.size() == 1);
  CHECK(str(alls[0], "code") == "70207");
  CHECK(str(alls[0], "body") == "");
}
