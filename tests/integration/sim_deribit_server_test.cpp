// Deribit on SimServer over real loopback sockets: HTTP JSON-RPC (Bearer and deri-hmac-sha256),
// the /ws/api/v2 WebSocket (auth, block_rfq.taker subscriptions, server-ticked expiry, the
// heartbeat in virtual time, closes, cancel-on-disconnect) and the /sim/deribit/ control API.
// Server and clients (rfqd's own HttpClient and WsClient, and a bare Beast client where the close
// frame's code matters) share one io_context that this thread drives until a condition holds,
// bounded so a broken server fails the test instead of hanging it.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/auth/deribit_signer.hpp"
#include "engine/core/clock.hpp"
#include "engine/net/http_client.hpp"
#include "engine/net/url.hpp"
#include "engine/net/ws_client.hpp"
#include "engine/sim/deribit_sim.hpp"
#include "engine/sim/deribit_ws_sim.hpp"
#include "engine/sim/http_server.hpp"
#include "engine/sim/journal.hpp"
#include "engine/sim/okx_sim.hpp"
#include "engine/sim/okx_ws_sim.hpp"

namespace {

namespace beast = boost::beast;
namespace json = boost::json;
namespace websocket = beast::websocket;
using namespace rfq;
using namespace rfq::sim;
using namespace std::chrono_literals;

std::int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

struct WorldOptions {
  DeribitSimOptions deribit;
  bool virtual_time = false;  // the models (and so the server's ticks) on a VirtualClock
  bool serve_deribit = true;  // on the OKX server
  bool deribit_only = false;  // SimServer(io, deribit)
};

// The models and the server on one loop; clients join the same loop.
struct DeribitServerWorld {
  explicit DeribitServerWorld(WorldOptions o = {})
      : clock(o.virtual_time ? static_cast<Clock&>(virtual_clock) : real_clock),
        deribit(clock, journal, o.deribit) {
    if (o.deribit_only) {
      server = std::make_unique<SimServer>(io, deribit);
    } else {
      server = std::make_unique<SimServer>(io, okx);
      if (o.serve_deribit) server->serve_deribit(deribit);
    }
    port = server->listen();
  }
  ~DeribitServerWorld() {
    http.reset();
    server->stop();
  }

  template <typename Pred>
  bool run_until(Pred pred, std::chrono::seconds bound = 10s) {
    const auto end = std::chrono::steady_clock::now() + bound;
    while (!pred() && std::chrono::steady_clock::now() < end) io.run_one_for(50ms);
    return pred();
  }

  std::string origin(std::string_view scheme) const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(port);
  }

  // One request on a keep-alive connection (pool of one); nullopt when it failed.
  std::optional<net::HttpResponse> try_request(net::HttpRequest req) {
    if (!http) {
      net::Origin o;
      std::string error;
      REQUIRE(net::parse_origin(origin("http"), o, error));
      http = std::make_unique<net::HttpClient>(io, o, net::HttpClientOptions{1, ""});
    }
    std::optional<std::pair<boost::system::error_code, net::HttpResponse>> done;
    http->async_request(std::move(req), 5000ms,
                        [&](auto ec, net::HttpResponse res) { done.emplace(ec, std::move(res)); });
    REQUIRE(run_until([&] { return done.has_value(); }));
    if (done->first) return std::nullopt;
    return std::move(done->second);
  }
  net::HttpResponse request(net::HttpRequest req) {
    auto res = try_request(std::move(req));
    REQUIRE(res);
    return std::move(*res);
  }
  net::HttpResponse get(std::string target,
                        std::vector<std::pair<std::string, std::string>> headers = {}) {
    return request({"GET", std::move(target), std::move(headers), ""});
  }
  net::HttpResponse post(std::string target, std::string body) {
    return request({"POST", std::move(target), {{"Content-Type", "application/json"}}, body});
  }

  std::int64_t add_rfq(std::int64_t expires_in_ms = 60000) {
    NewBlockRfq r;
    r.legs = {{"BTC-PERPETUAL", "buy", 1}};
    r.expires_in_ms = expires_in_ms;
    return deribit.add_rfq(std::move(r));
  }

  boost::asio::io_context io;
  RealClock real_clock{io};
  VirtualClock virtual_clock{io, wall_ms()};
  Clock& clock;  // the models'
  Journal journal;
  OkxSim okx{clock, journal};
  DeribitSim deribit;
  std::unique_ptr<SimServer> server;
  std::uint16_t port = 0;
  std::unique_ptr<net::HttpClient> http;
};

json::object body_of(const net::HttpResponse& res) { return json::parse(res.body).as_object(); }

std::int64_t error_code_of(const json::object& answer) {
  return answer.at("error").at("code").as_int64();
}

std::string rpc(std::int64_t id, std::string_view method, json::object params = {}) {
  return json::serialize(json::object{
      {"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}});
}

json::object client_credentials() {
  return {{"grant_type", "client_credentials"},
          {"client_id", kDeribitSimClientId},
          {"client_secret", kDeribitSimClientSecret}};
}

// rfqd's WsClient on /ws/api/v2, every text frame kept as JSON.
class WsPeer {
 public:
  explicit WsPeer(DeribitServerWorld& w) : w_(w) {
    net::WsClientOptions o;
    std::string error;
    REQUIRE(net::parse_origin(w.origin("ws") + std::string(kDeribitWsPath), o.origin, error));
    o.ping_text = "";  // Deribit: no text ping; the server's heartbeat is what the test watches
    o.ping_after = 60000ms;
    net::WsCallbacks cb;
    cb.on_open = [this] { ++opened_; };
    cb.on_text = [this](std::string_view text) { frames.push_back(json::parse(text).as_object()); };
    cb.on_close = [this](const boost::system::error_code&) { ++closed_; };
    client_ = std::make_unique<net::WsClient>(w.io, w.real_clock, o, std::move(cb));
    client_->start();
    REQUIRE(w.run_until([&] { return opened_ == 1; }));
  }

  // Sends a call and waits for the answer with its id.
  json::object call(std::int64_t id, std::string_view method, json::object params = {}) {
    REQUIRE(client_->send(rpc(id, method, std::move(params))));
    const json::object* answer = nullptr;
    REQUIRE(w_.run_until([&] { return (answer = find_id(id)) != nullptr; }));
    return *answer;
  }

  // The first frame from index `from` on that satisfies pred, if one arrived.
  template <typename Pred>
  std::optional<json::object> find_frame(std::size_t from, Pred pred) const {
    for (std::size_t i = from; i < frames.size(); ++i) {
      if (pred(frames[i])) return frames[i];
    }
    return std::nullopt;
  }
  // The same, waiting for it.
  template <typename Pred>
  std::optional<json::object> wait_frame(std::size_t from, Pred pred) {
    w_.run_until([&] { return find_frame(from, pred).has_value(); });
    return find_frame(from, pred);
  }

  bool wait_closed() {
    return w_.run_until([&] { return closed_ > 0; });
  }
  void stop() { client_->stop(); }

  std::vector<json::object> frames;

 private:
  const json::object* find_id(std::int64_t id) const {
    for (const auto& f : frames) {
      const auto* v = f.if_contains("id");
      if (v != nullptr && v->is_int64() && v->as_int64() == id) return &f;
    }
    return nullptr;
  }

  DeribitServerWorld& w_;
  int opened_ = 0;
  int closed_ = 0;
  std::unique_ptr<net::WsClient> client_;
};

// A bare Beast client on the same loop, for what WsClient does not show: a declined upgrade and
// the close frame's code.
class RawWs {
 public:
  explicit RawWs(DeribitServerWorld& w) : w_(w), ws_(w.io) {}

  beast::error_code open(std::string_view path) {
    const boost::asio::ip::tcp::endpoint server(boost::asio::ip::address_v4::loopback(), w_.port);
    auto ec = step([&](auto h) { beast::get_lowest_layer(ws_).async_connect(server, h); });
    if (ec) return ec;
    return step([&](auto h) { ws_.async_handshake("127.0.0.1", std::string(path), h); });
  }
  void send(const std::string& text) {
    REQUIRE_FALSE(step([&](auto h) { ws_.async_write(boost::asio::buffer(text), h); }));
  }
  beast::error_code read(std::string& out) {
    beast::flat_buffer buffer;
    auto ec = step([&](auto h) { ws_.async_read(buffer, h); });
    out = beast::buffers_to_string(buffer.data());
    return ec;
  }
  websocket::close_reason reason() const { return ws_.reason(); }

 private:
  template <class Start>
  beast::error_code step(Start start) {
    std::optional<beast::error_code> result;
    start([&](beast::error_code ec, auto&&...) { result = ec; });
    REQUIRE(w_.run_until([&] { return result.has_value(); }));
    return *result;
  }

  DeribitServerWorld& w_;
  websocket::stream<beast::tcp_stream> ws_;
};

std::string subscription_state(const json::object& frame) {
  return std::string(frame.at("params").at("data").at("state").as_string());
}

bool is_notification(const json::object& frame, std::int64_t id, std::string_view state) {
  const auto* method = frame.if_contains("method");
  if (method == nullptr || method->as_string() != "subscription") return false;
  const auto& data = frame.at("params").at("data").as_object();
  return data.at("block_rfq_id").as_int64() == id && data.at("state").as_string() == state;
}

}  // namespace

TEST_CASE("sim deribit server: HTTP cancel with a Bearer token from public/auth",
          "[sim][deribit][server]") {
  DeribitServerWorld w;
  const auto id = w.add_rfq();
  const auto auth = w.get("/api/v2/public/auth?grant_type=client_credentials&client_id=" +
                          std::string(kDeribitSimClientId) +
                          "&client_secret=" + std::string(kDeribitSimClientSecret));
  REQUIRE(auth.status == 200);
  const std::string token(body_of(auth).at("result").at("access_token").as_string());
  const std::string target = "/api/v2/private/cancel_block_rfq?block_rfq_id=" + std::to_string(id);

  const auto refused = w.get(target);
  CHECK(refused.status == 401);
  CHECK(error_code_of(body_of(refused)) == 13009);
  CHECK(w.deribit.rfq(id)->state == "open");

  const auto cancelled = w.get(target, {{"Authorization", "Bearer " + token}});
  REQUIRE(cancelled.status == 200);
  const auto result = body_of(cancelled).at("result").as_object();
  CHECK(result.at("block_rfq_id").as_int64() == id);
  CHECK(result.at("state").as_string() == "cancelled");
  CHECK(w.deribit.rfq(id)->state == "cancelled");

  const auto cancels = w.journal.find("deribit", "private/cancel_block_rfq");
  REQUIRE(cancels.size() == 2);
  CHECK(cancels[1].at("status").as_int64() == 200);
  CHECK(cancels[1].at("auth").as_string() == "bearer");
  CHECK(w.journal.find("okx", "").empty());  // OKX never saw a Deribit path
}

TEST_CASE("sim deribit server: HTTP cancel signed with deri-hmac-sha256, GET and POST",
          "[sim][deribit][server]") {
  DeribitServerWorld w;
  const auto id = w.add_rfq();
  const auth::DeribitCredentials creds{std::string(kDeribitSimClientId),
                                       auth::Secret(std::string(kDeribitSimClientSecret))};
  net::HttpResponse res;
  SECTION("GET, signed over the target") {
    const std::string target =
        "/api/v2/private/cancel_block_rfq?block_rfq_id=" + std::to_string(id);
    res = w.get(target, {{"Authorization", auth::deribit_http_authorization(creds, wall_ms(), "n1",
                                                                            "GET", target, "")}});
  }
  SECTION("POST, signed over the JSON-RPC body") {
    const std::string target = "/api/v2/private/cancel_block_rfq";
    const auto body = rpc(7, "private/cancel_block_rfq", {{"block_rfq_id", id}});
    res = w.request({"POST",
                     target,
                     {{"Content-Type", "application/json"},
                      {"Authorization", auth::deribit_http_authorization(creds, wall_ms(), "n2",
                                                                         "POST", target, body)}},
                     body});
  }
  REQUIRE(res.status == 200);
  CHECK(body_of(res).at("result").at("state").as_string() == "cancelled");
  CHECK(w.deribit.rfq(id)->state == "cancelled");
  const auto cancels = w.journal.find("deribit", "private/cancel_block_rfq");
  REQUIRE(cancels.size() == 1);
  CHECK(cancels[0].at("auth").as_string() == "deri-hmac-sha256");
}

TEST_CASE("sim deribit server: OKX keeps its routes on the same server",
          "[sim][deribit][server][okx]") {
  DeribitServerWorld w;
  CHECK(w.get("/api/v5/public/time").status == 200);
  CHECK(w.get("/api/v2/public/test").status == 200);
  const auto okx_unknown = w.get("/api/v3/anything");
  CHECK(okx_unknown.status == 404);
  CHECK(body_of(okx_unknown).at("code").as_string() == "50005");  // OKX's 404, not Deribit's
  CHECK(w.journal.find("okx", "time").size() == 1);
  CHECK(w.journal.find("deribit", "public/test").size() == 1);
}

TEST_CASE("sim deribit server: injected faults on HTTP are honoured on the socket",
          "[sim][deribit][server][fault]") {
  DeribitServerWorld w;
  SECTION("delay: the answer comes delay_ms later") {
    w.deribit.inject({"public/test", FaultKind::delay, 300, 1});
    const auto res = w.get("/api/v2/public/test");
    CHECK(res.status == 200);
    CHECK(res.completed - res.write_started >= 300ms);
  }
  SECTION("drop: the connection closes without an answer") {
    w.deribit.inject({"public/test", FaultKind::drop, 0, 1});
    CHECK_FALSE(w.try_request({"GET", "/api/v2/public/test", {}, ""}));
    const auto tests = w.journal.find("deribit", "public/test");
    REQUIRE(tests.size() == 1);
    CHECK(tests[0].at("fault").as_string() == "drop");
    CHECK(tests[0].at("status").as_int64() == 0);
  }
  SECTION("unavailable: 503 with 13028") {
    w.deribit.inject({"", FaultKind::unavailable, 0, 1});
    const auto res = w.get("/api/v2/public/test");
    CHECK(res.status == 503);
    CHECK(error_code_of(body_of(res)) == 13028);
  }
  CHECK(w.deribit.pending_faults() == 0);
}

TEST_CASE(
    "sim deribit server: a WebSocket client authenticates, subscribes and hears an RFQ "
    "created and then expired by the server's tick",
    "[sim][deribit][server][ws]") {
  DeribitServerWorld w;
  WsPeer peer(w);
  const auto auth = peer.call(1, "public/auth", client_credentials());
  REQUIRE(auth.contains("result"));
  CHECK(auth.at("result").at("token_type").as_string() == "bearer");
  const auto sub =
      peer.call(2, "private/subscribe", {{"channels", json::array{"block_rfq.taker.any"}}});
  REQUIRE(sub.contains("result"));
  CHECK(sub.at("result").as_array() == json::array{"block_rfq.taker.any"});

  const auto from = peer.frames.size();
  const auto id = w.add_rfq(200);
  const auto created =
      peer.wait_frame(from, [&](const auto& f) { return is_notification(f, id, "open"); });
  REQUIRE(created);
  CHECK(created->at("params").at("channel").as_string() == "block_rfq.taker.any");
  // Nothing asks for the RFQ: only the connection's once-a-second tick can expire it.
  const auto expired =
      peer.wait_frame(from, [&](const auto& f) { return is_notification(f, id, "expired"); });
  REQUIRE(expired);
  CHECK(subscription_state(*expired) == "expired");
  CHECK(w.journal.find("deribit", "").empty());
  CHECK(w.journal.find("deribit_ws", "private/get_block_rfqs").empty());
  peer.stop();
}

TEST_CASE("sim deribit server: a peer that goes away with cancel-on-disconnect cancels open RFQs",
          "[sim][deribit][server][ws]") {
  DeribitServerWorld w;
  const auto open = w.add_rfq();
  WsPeer peer(w);
  peer.call(1, "public/auth", client_credentials());
  const auto cod = peer.call(2, "private/enable_cancel_on_disconnect");
  REQUIRE(cod.at("result").as_string() == "ok");
  CHECK(w.deribit.rfq(open)->state == "open");
  peer.stop();  // the socket just goes, no close frame
  REQUIRE(w.run_until([&] { return w.deribit.rfq(open)->state == "cancelled"; }));
  const auto closes = w.journal.find("deribit_ws", "close");
  REQUIRE(closes.size() == 1);
  CHECK(closes[0].at("by").as_string() == "client");
  // Told by the server the moment the read failed, not found out when the session was destroyed.
  CHECK(closes[0].at("reason").as_string() == "peer went away");
  REQUIRE(w.journal.find("deribit_ws", "cancel_on_disconnect").size() == 1);
}

TEST_CASE("sim deribit server: the model's close goes out with its code",
          "[sim][deribit][server][ws][fault]") {
  WorldOptions o;
  o.deribit.credit_pool = 1000;  // two calls at the default cost of 500
  o.deribit.credit_refill_per_s = 1;
  DeribitServerWorld w(o);
  RawWs ws(w);
  REQUIRE_FALSE(ws.open(kDeribitWsPath));
  std::string answer;
  SECTION("an injected ws_close fault: 1011, unanswered") {
    w.deribit.inject({"public/test", FaultKind::ws_close, 0, 1});
    ws.send(rpc(1, "public/test"));
    CHECK(ws.read(answer) == websocket::error::closed);
    CHECK(ws.reason().code == kDeribitWsCloseFault);
    CHECK(answer.empty());
  }
  SECTION("out of credits: the 10028 answer, then 1008") {
    for (std::int64_t id = 1; id <= 3; ++id) ws.send(rpc(id, "public/disable_heartbeat"));
    std::vector<std::string> answers;
    beast::error_code ec;
    while (!(ec = ws.read(answer))) answers.push_back(answer);
    CHECK(ec == websocket::error::closed);
    CHECK(ws.reason().code == kDeribitWsCloseTooManyRequests);
    REQUIRE(answers.size() == 3);  // two paid for, the third refused; nothing after the close
    CHECK(json::parse(answers[1]).at("result").as_string() == "ok");
    CHECK(error_code_of(json::parse(answers[2]).as_object()) == 10028);
  }
  const auto closes = w.journal.find("deribit_ws", "close");
  REQUIRE(closes.size() == 1);
  CHECK(closes[0].at("by").as_string() == "server");
}

TEST_CASE("sim deribit server: heartbeat test_request over the socket in virtual time",
          "[sim][deribit][server][ws][heartbeat]") {
  WorldOptions o;
  o.virtual_time = true;
  DeribitServerWorld w(o);
  WsPeer peer(w);
  REQUIRE(peer.call(1, "public/set_heartbeat", {{"interval", 10}}).at("result").as_string() ==
          "ok");
  const auto is_test_request = [](const json::object& f) {
    const auto* method = f.if_contains("method");
    return method != nullptr && method->as_string() == "heartbeat" &&
           f.at("params").at("type").as_string() == "test_request";
  };
  auto from = peer.frames.size();
  w.virtual_clock.advance(9s);
  CHECK_FALSE(peer.find_frame(from, is_test_request));  // nothing due, so nothing in flight
  w.virtual_clock.advance(1s);
  REQUIRE(peer.wait_frame(from, is_test_request));
  peer.call(2, "public/test");

  from = peer.frames.size();
  w.virtual_clock.advance(10s);
  REQUIRE(peer.wait_frame(from, is_test_request));  // answered: the cycle goes on
  w.virtual_clock.advance(10s);                     // not answered: closed with 4000
  REQUIRE(peer.wait_closed());
  const auto closes = w.journal.find("deribit_ws", "close");
  REQUIRE(closes.size() == 1);
  CHECK(closes[0].at("close_code").as_int64() == kDeribitWsCloseHeartbeat);
  peer.stop();
}

TEST_CASE("sim deribit server: the /sim/deribit/ control API", "[sim][deribit][server][control]") {
  DeribitServerWorld w;
  const auto created = w.post(
      "/sim/deribit/rfqs", R"({"count":2,"expires_in_ms":60000,"label":"ctl","currency":"ETH"})");
  REQUIRE(created.status == 200);
  const auto ids = body_of(created).at("block_rfq_ids").as_array();
  REQUIRE(ids.size() == 2);
  const auto first = ids[0].as_int64();
  CHECK(ids[1].as_int64() == first + 1);
  const auto rfq = w.deribit.rfq(first);
  REQUIRE(rfq);
  CHECK(rfq->state == "open");
  CHECK(rfq->label == "ctl");
  CHECK(rfq->currency == "ETH");
  CHECK(rfq->expiration_timestamp - rfq->creation_timestamp == 60000);

  const auto fill = R"({"block_rfq_id":)" + std::to_string(first) + "}";
  const auto filled = w.post("/sim/deribit/fill", fill);
  CHECK(filled.status == 200);
  CHECK(body_of(filled).at("state").as_string() == "filled");
  CHECK(w.deribit.rfq(first)->state == "filled");
  CHECK(w.post("/sim/deribit/fill", fill).status == 409);
  CHECK(w.post("/sim/deribit/fill", R"({"block_rfq_id":99999})").status == 404);
  CHECK(w.post("/sim/deribit/fill", R"({})").status == 400);
  CHECK(w.post("/sim/deribit/rfqs", R"({"currency":"DOGE"})").status == 400);
  CHECK(w.post("/sim/deribit/rfqs", "[1]").status == 400);
  CHECK(w.get("/sim/deribit/fill").status == 405);
  CHECK(w.get("/sim/deribit/nope").status == 404);

  const auto listed = w.get("/sim/deribit/rfqs");
  REQUIRE(listed.status == 200);
  CHECK(body_of(listed).at("block_rfqs").as_array().size() == 2);

  const auto fault =
      w.post("/sim/deribit/fault",
             R"({"method":"private/cancel_block_rfq","kind":"unavailable","count":2})");
  REQUIRE(fault.status == 200);
  CHECK(body_of(fault).at("pending_faults").as_int64() == 2);
  CHECK(w.deribit.pending_faults() == 2);
  CHECK(w.post("/sim/deribit/fault", R"({"method":"private/typo","kind":"drop"})").status == 400);
  CHECK(w.post("/sim/deribit/fault", R"({"kind":"lose"})").status == 400);
  const auto unavailable =
      w.get("/api/v2/private/cancel_block_rfq?block_rfq_id=" + std::to_string(first + 1));
  CHECK(unavailable.status == 503);
  CHECK(w.deribit.pending_faults() == 1);

  CHECK(w.post("/sim/rfqs", R"({"count":1})").status == 200);  // OKX's controls still there
  CHECK(w.okx.rfqs().size() == 1);
  CHECK(w.journal.find("sim", "deribit/rfqs").size() == 4);
  CHECK(w.journal.find("sim", "deribit/fill").size() == 5);
  const auto faults = w.journal.find("sim", "deribit/fault");
  REQUIRE(faults.size() == 3);
  CHECK(faults[1].at("status").as_int64() == 400);
  CHECK(faults[1].contains("error"));
  CHECK(w.journal.find("sim", "rfqs").size() == 1);
}

TEST_CASE("sim deribit server: without serve_deribit nothing Deribit is served",
          "[sim][deribit][server]") {
  WorldOptions o;
  o.serve_deribit = false;
  DeribitServerWorld w(o);
  CHECK(w.post("/sim/deribit/rfqs", "{}").status == 404);
  const auto api = w.get("/api/v2/public/test");
  CHECK(api.status == 404);
  CHECK(body_of(api).at("code").as_string() == "50005");  // OKX's
  RawWs ws(w);
  CHECK(ws.open(kDeribitWsPath) == websocket::error::upgrade_declined);
  CHECK(w.deribit.rfqs().empty());
  CHECK(w.journal.find("deribit", "").empty());
}

TEST_CASE("sim deribit server: a Deribit-only server answers Deribit's 404 outside /api/v2",
          "[sim][deribit][server]") {
  WorldOptions o;
  o.deribit_only = true;
  DeribitServerWorld w(o);
  CHECK(w.get("/api/v2/public/test").status == 200);
  const auto okx_path = w.get("/api/v5/public/time");
  CHECK(okx_path.status == 404);
  CHECK(error_code_of(body_of(okx_path)) == -32601);
  CHECK(w.post("/sim/rfqs", "{}").status == 404);
  CHECK(w.post("/sim/deribit/rfqs", "{}").status == 200);
  RawWs okx_ws(w);
  CHECK(okx_ws.open(kOkxBusinessWsPath) == websocket::error::upgrade_declined);
  WsPeer peer(w);
  CHECK(peer.call(1, "public/test").contains("result"));
  peer.stop();
  CHECK(w.journal.find("okx", "").empty());
}
