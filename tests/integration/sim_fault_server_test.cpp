// SimServer honouring injected faults over real loopback sockets (drop: the connection closes
// without an answer; delay: the answer waits on a timer while the loop serves others; 503),
// and the /sim/ control API on the same port. As in sim_okx_server_test.cpp, a synchronous
// Beast client runs on its own thread and this thread runs the server loop; the client stops
// the server when done, so io.run() returning is part of every test.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "engine/auth/okx_signer.hpp"
#include "engine/core/clock.hpp"
#include "engine/sim/http_server.hpp"
#include "engine/sim/journal.hpp"
#include "engine/sim/okx_sim.hpp"
#include "tests/integration/sim_server_world.hpp"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace json = boost::json;
using tcp = net::ip::tcp;
using namespace rfq;
using namespace rfq::sim;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// Every blocking client read gives up after this: a broken server fails the test, never hangs it.
constexpr auto kClientDeadline = std::chrono::seconds(10);

std::int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

Request signed_request(http::verb verb, std::string target, std::string body = "") {
  const std::string method(http::to_string(verb));
  const auto ts = auth::okx_timestamp(wall_ms());
  Request req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set("OK-ACCESS-KEY", kSimApiKey);
  req.set("OK-ACCESS-SIGN",
          auth::okx_sign(kSimSecret, auth::okx_prehash(ts, method, target, body)));
  req.set("OK-ACCESS-TIMESTAMP", ts);
  req.set("OK-ACCESS-PASSPHRASE", kSimPassphrase);
  if (verb == http::verb::post) req.set(http::field::content_type, "application/json");
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

// A control request as curl would send it: no auth, no Content-Type.
Request control_request(http::verb verb, std::string target, std::string body = "") {
  Request req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

Request cancel_request(const std::string& id) {
  return signed_request(http::verb::post, "/api/v5/rfq/cancel-rfq", R"({"rfqId":")" + id + "\"}");
}

json::object json_of(const Response& res) { return json::parse(res.body()).as_object(); }

// Synchronous plain-http client connection for the client thread.
class Client {
 public:
  explicit Client(std::uint16_t port) : stream_(io_) {
    stream_.connect(tcp::endpoint(net::ip::address_v4::loopback(), port));
  }
  void write(const Request& req) {
    stream_.expires_after(kClientDeadline);
    http::write(stream_, req);
  }
  Response read() {
    beast::error_code ec;
    auto res = read(ec);
    if (ec) throw std::runtime_error("client read: " + ec.message());
    return res;
  }
  Response read(beast::error_code& ec) {
    stream_.expires_after(kClientDeadline);
    Response res;
    http::read(stream_, buffer_, res, ec);
    return res;
  }
  Response send(const Request& req) {
    write(req);
    return read();
  }
  // Bytes the server has written that this client has not read yet.
  std::size_t unread() { return buffer_.size() + stream_.socket().available(); }

 private:
  net::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

using ServerWorld = rfq::testing::SimServerWorld;

// Asks the control API, on `client`, for the state of one RFQ.
std::string state_via_control(Client& client, const std::string& id) {
  const auto res = client.send(control_request(http::verb::get, "/sim/rfqs"));
  const auto body = json_of(res);
  for (const auto& r : body.at("rfqs").as_array()) {
    if (r.as_object().at("rfq_id").as_string() == id) {
      return std::string(r.as_object().at("state").as_string());
    }
  }
  return "";
}

}  // namespace

TEST_CASE("sim server: a drop fault closes the connection without an answer",
          "[sim][okx][server][fault]") {
  ServerWorld w;
  const auto id = w.add_rfq();
  w.okx.inject({"cancel-rfq", FaultKind::drop});
  beast::error_code dropped;
  Response after;
  const auto error = w.run_client([&] {
    Client client(w.port);
    client.write(cancel_request(id));
    client.read(dropped);
    Client again(w.port);  // the fault was used up: a new connection is served normally
    after = again.send(cancel_request(id));
  });
  REQUIRE(error.empty());
  CHECK((dropped == http::error::end_of_stream || dropped == net::error::connection_reset));
  CHECK(after.result_int() == 200);
  CHECK(json_of(after).at("code").as_string() == "0");
  const auto entries = w.journal.find("okx", "cancel-rfq");
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].at("fault").as_string() == "drop");
  CHECK_FALSE(entries[1].contains("fault"));
}

TEST_CASE("sim server: a delayed answer is written only after its timer, others go first",
          "[sim][okx][server][fault]") {
  ServerWorld w;
  const auto id = w.add_rfq();
  constexpr auto kDelay = milliseconds(1000);
  w.okx.inject({"cancel-rfq", FaultKind::delay, kDelay.count()});
  bool processed_while_held = false;
  std::size_t unread_while_held = 1;
  Response held;
  steady_clock::duration waited{};
  const auto error = w.run_client([&] {
    Client delayed(w.port);
    Client other(w.port);
    const auto sent = steady_clock::now();
    delayed.write(cancel_request(id));
    // The other connection is served meanwhile and sees the cancel already done: the request
    // was processed on arrival, only its answer is held back.
    for (int i = 0; i < 200 && !processed_while_held; ++i) {
      processed_while_held = state_via_control(other, id) == "canceled";
    }
    unread_while_held = delayed.unread();
    held = delayed.read();
    waited = steady_clock::now() - sent;
  });
  REQUIRE(error.empty());
  CHECK(processed_while_held);
  CHECK(unread_while_held == 0);
  CHECK(held.result_int() == 200);
  CHECK(json_of(held).at("code").as_string() == "0");
  CHECK(held.keep_alive());
  CHECK(waited >= kDelay);  // a timer never fires early
  const auto entries = w.journal.find("okx", "cancel-rfq");
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].at("fault").as_string() == "delay");
  CHECK(entries[0].at("delay_ms").as_int64() == kDelay.count());
}

TEST_CASE("sim server: the connection serves the next request after a delayed answer",
          "[sim][okx][server][fault]") {
  ServerWorld w;
  const auto id = w.add_rfq();
  w.okx.inject({"", FaultKind::delay, 50});
  Response first;
  Response second;
  const auto error = w.run_client([&] {
    Client client(w.port);
    first = client.send(signed_request(http::verb::get, "/api/v5/public/time"));
    second = client.send(cancel_request(id));
  });
  REQUIRE(error.empty());
  CHECK(first.result_int() == 200);
  CHECK(second.result_int() == 200);
  CHECK(json_of(second).at("code").as_string() == "0");
  CHECK(w.server.connections_accepted() == 1);
}

TEST_CASE("sim server: stop() ends a session whose answer is still held back",
          "[sim][okx][server][fault]") {
  ServerWorld w;
  const auto id = w.add_rfq();
  w.okx.inject({"cancel-rfq", FaultKind::delay, 60000});
  beast::error_code after_stop;
  const auto started = steady_clock::now();
  const auto error = w.run_client([&] {
    Client delayed(w.port);
    Client other(w.port);
    delayed.write(cancel_request(id));
    for (int i = 0; i < 200 && state_via_control(other, id) != "canceled"; ++i) {
    }
    w.server.stop();  // must cancel the 60 s timer, or io.run() would wait for it
    delayed.read(after_stop);
  });
  REQUIRE(error.empty());
  CHECK(steady_clock::now() - started < std::chrono::seconds(30));  // not the timer's 60 s
  CHECK(after_stop);
  CHECK(w.okx.rfq(id)->state == "canceled");
}

TEST_CASE("sim server: an unavailable fault answers 503 and keeps the connection",
          "[sim][okx][server][fault]") {
  ServerWorld w;
  const auto id = w.add_rfq();
  w.okx.inject({"cancel-rfq", FaultKind::unavailable});
  Response first;
  Response second;
  const auto error = w.run_client([&] {
    Client client(w.port);
    first = client.send(cancel_request(id));
    second = client.send(cancel_request(id));
  });
  REQUIRE(error.empty());
  CHECK(first.result_int() == 503);
  CHECK(json_of(first).at("code").as_string() == "50001");
  CHECK(second.result_int() == 200);
  CHECK(json_of(second).at("code").as_string() == "0");
}

TEST_CASE("sim server: the /sim/ control API drives the OKX model over loopback",
          "[sim][server][control]") {
  ServerWorld w;
  Response created;
  Response filled;
  Response fault;
  Response okx_rfqs;
  Response listed;
  Response bad;
  Response unknown;
  const auto error = w.run_client([&] {
    Client client(w.port);
    created = client.send(
        control_request(http::verb::post, "/sim/rfqs", R"({"count":2,"expires_in_ms":60000})"));
    const auto ids = json_of(created).at("rfq_ids").as_array();
    const std::string first(ids.at(0).as_string());
    filled = client.send(
        control_request(http::verb::post, "/sim/fill", R"({"rfq_id":")" + first + "\"}"));
    fault = client.send(control_request(http::verb::post, "/sim/fault",
                                        R"({"endpoint":"rfqs","kind":"unavailable"})"));
    okx_rfqs = client.send(signed_request(http::verb::get, "/api/v5/rfq/rfqs"));
    listed = client.send(control_request(http::verb::get, "/sim/rfqs"));
    bad = client.send(control_request(http::verb::post, "/sim/rfqs", R"({"count":-1})"));
    unknown = client.send(control_request(http::verb::get, "/sim/nothing"));
  });
  REQUIRE(error.empty());
  REQUIRE(created.result_int() == 200);
  CHECK(created[http::field::content_type] == "application/json");
  CHECK(json_of(created).at("rfq_ids").as_array().size() == 2);
  CHECK(filled.result_int() == 200);
  CHECK(json_of(filled).at("state").as_string() == "filled");
  CHECK(fault.result_int() == 200);
  CHECK(okx_rfqs.result_int() == 503);
  REQUIRE(listed.result_int() == 200);
  const auto rfqs = json_of(listed).at("rfqs").as_array();
  REQUIRE(rfqs.size() == 2);
  CHECK(rfqs[0].as_object().at("state").as_string() == "filled");
  CHECK(rfqs[1].as_object().at("state").as_string() == "active");
  CHECK(bad.result_int() == 400);
  CHECK(json_of(bad).at("error").as_string().size() > 0);
  CHECK(unknown.result_int() == 404);
  CHECK(w.journal.find("sim", "").size() == 6);
  CHECK(w.journal.find("okx", "").size() == 1);
}

TEST_CASE("sim server: control requests never consume an injected fault",
          "[sim][server][control][fault]") {
  ServerWorld w;
  w.okx.inject({"", FaultKind::drop});
  Response listed;
  beast::error_code dropped;
  const auto error = w.run_client([&] {
    Client client(w.port);
    listed = client.send(control_request(http::verb::get, "/sim/rfqs"));
    client.write(signed_request(http::verb::get, "/api/v5/public/time"));
    client.read(dropped);
  });
  REQUIRE(error.empty());
  CHECK(listed.result_int() == 200);
  CHECK(dropped);
  CHECK(w.okx.pending_faults() == 0);
}
