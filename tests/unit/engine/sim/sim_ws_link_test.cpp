// SimWsLink: a net::WsConnection whose far end is a WsRoute's model, on a VirtualClock. Most
// cases use a tiny model written here (it records the frames it gets and lets the test send or
// close from the server side at any time, also with an old connection's callbacks); the last
// ones run against the real OKX business WebSocket model.

#include "engine/sim/sim_ws_link.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/auth/credentials.hpp"
#include "engine/core/clock.hpp"
#include "engine/core/error.hpp"
#include "engine/sim/journal.hpp"
#include "engine/sim/okx_sim.hpp"
#include "engine/sim/ws_model.hpp"
#include "engine/venues/okx/okx_ws.hpp"

namespace {

using namespace rfq;
using namespace rfq::sim;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::int64_t kStartMs = 1'700'000'000'000;

// What every connection's model saw, kept by the test (models come and go with connections).
struct FarEnd {
  struct Conn {
    WsModel::SendFn send;    // the server side of this connection, usable after it ended
    WsModel::CloseFn close;
    std::vector<std::string> frames;  // client frames this connection's model received
    int ticks = 0;
    int disconnects = 0;
    bool alive = true;  // the model exists
  };
  std::deque<Conn> conns;  // a deque: references to a connection stay valid as more open
  bool answer_pings = true;

  Conn& last() {
    REQUIRE_FALSE(conns.empty());
    return conns.back();
  }
  std::vector<std::string> all_frames() const {
    std::vector<std::string> out;
    for (const auto& c : conns) out.insert(out.end(), c.frames.begin(), c.frames.end());
    return out;
  }
};

class FakeModel final : public WsModel {
 public:
  FakeModel(FarEnd& far, std::size_t index) : far_(far), index_(index) {}
  ~FakeModel() override { conn().alive = false; }

  void on_text(std::string_view text) override {
    conn().frames.emplace_back(text);
    if (text == "ping" && far_.answer_pings) conn().send("pong");
  }
  void on_tick() override { ++conn().ticks; }
  void on_disconnect() override { ++conn().disconnects; }
  bool closed() const override { return false; }

 private:
  FarEnd::Conn& conn() { return far_.conns.at(index_); }
  FarEnd& far_;
  std::size_t index_;
};

// What the client side (the venue) was told.
struct Client {
  int opens = 0;
  std::vector<std::string> texts;
  std::vector<boost::system::error_code> closes;
  std::vector<std::int64_t> open_at;   // virtual ms of each on_open
  std::vector<std::int64_t> close_at;  // virtual ms of each on_close
};

struct LinkWorld {
  boost::asio::io_context io;
  VirtualClock clock{io, kStartMs};
  FarEnd far;
  Client client;
  std::unique_ptr<SimWsLink> link;

  explicit LinkWorld(net::WsClientOptions options = {}) {
    WsRoute route;
    route.path = "/fake";
    route.clock = &clock;
    route.open = [this](WsModel::SendFn send, WsModel::CloseFn close) {
      auto& conn = far.conns.emplace_back();
      conn.send = std::move(send);
      conn.close = std::move(close);
      return std::make_unique<FakeModel>(far, far.conns.size() - 1);
    };
    net::WsCallbacks cb;
    cb.on_open = [this] {
      ++client.opens;
      client.open_at.push_back(clock.now_ms() - kStartMs);
    };
    cb.on_text = [this](std::string_view t) { client.texts.emplace_back(t); };
    cb.on_close = [this](const boost::system::error_code& ec) {
      client.closes.push_back(ec);
      client.close_at.push_back(clock.now_ms() - kStartMs);
    };
    link = std::make_unique<SimWsLink>(io, std::move(route), std::move(options), std::move(cb));
  }

  // Starts the link and runs the connect (posted, at this instant).
  void open() {
    link->start();
    clock.poll();
    REQUIRE(link->is_open());
  }
};

net::WsClientOptions link_options() {
  net::WsClientOptions o;
  o.ping_after = milliseconds(20000);
  o.pong_timeout = milliseconds(10000);
  o.backoff_initial = milliseconds(250);
  o.backoff_max = milliseconds(1000);
  return o;
}

}  // namespace

// ---- connect -------------------------------------------------------------------------------

TEST_CASE("sim ws link: start() connects on the loop, on_open once, connects() counts",
          "[sim][ws][link]") {
  LinkWorld w;
  CHECK_FALSE(w.link->is_open());
  CHECK(w.link->connects() == 0);
  w.link->start();
  CHECK(w.client.opens == 0);  // posted, not inside start()
  CHECK(w.far.conns.empty());
  w.clock.poll();
  CHECK(w.client.opens == 1);
  CHECK(w.link->is_open());
  CHECK(w.link->connects() == 1);
  REQUIRE(w.far.conns.size() == 1);
  CHECK(w.client.closes.empty());

  SECTION("start() again while open does not open a second connection") {
    w.link->start();
    w.clock.poll();
    CHECK(w.far.conns.size() == 1);
    CHECK(w.link->connects() == 1);
  }
}

TEST_CASE("sim ws link: send() is refused before the connection is open", "[sim][ws][link]") {
  LinkWorld w;
  CHECK_FALSE(w.link->send("too early"));
  w.open();
  CHECK(w.link->send("now"));
  w.clock.poll();
  CHECK(w.far.last().frames == std::vector<std::string>{"now"});
}

// ---- frames --------------------------------------------------------------------------------

TEST_CASE("sim ws link: frames go both ways in order and never inside the sending call",
          "[sim][ws][link]") {
  LinkWorld w;
  w.open();
  auto& conn = w.far.last();

  SECTION("client to model") {
    CHECK(w.link->send("a"));
    CHECK(w.link->send("b"));
    CHECK(w.link->send("c"));
    CHECK(conn.frames.empty());  // posted
    w.clock.poll();
    CHECK(conn.frames == std::vector<std::string>{"a", "b", "c"});
  }
  SECTION("model to client") {
    conn.send("1");
    conn.send("2");
    conn.send("3");
    CHECK(w.client.texts.empty());  // posted
    w.clock.poll();
    CHECK(w.client.texts == std::vector<std::string>{"1", "2", "3"});
  }
  SECTION("a frame the model sends before it closes arrives before on_close") {
    conn.send("last words");
    conn.close(4000, "bye");
    CHECK(w.client.closes.empty());
    w.clock.poll();
    CHECK(w.client.texts == std::vector<std::string>{"last words"});
    CHECK(w.client.closes.size() == 1);
  }
}

// ---- keep-alive ----------------------------------------------------------------------------

TEST_CASE("sim ws link: a text ping goes out after ping_after of silence; the pong is consumed",
          "[sim][ws][link][keepalive]") {
  LinkWorld w(link_options());
  w.open();
  w.clock.advance(milliseconds(19999));
  CHECK(w.far.last().frames.empty());

  w.clock.advance(milliseconds(2501));  // one keep-alive check (every 2.5 s) later at most
  CHECK(w.far.last().frames == std::vector<std::string>{"ping"});
  CHECK(w.client.texts.empty());  // the pong is never handed to on_text

  SECTION("answered pings keep the connection for minutes") {
    w.clock.advance(seconds(300));
    CHECK(w.link->connects() == 1);
    CHECK(w.client.closes.empty());
    CHECK(w.far.last().frames.size() >= 10);
    CHECK(w.client.texts.empty());
  }
  SECTION("traffic from the model counts as life: no ping while frames arrive") {
    const auto pings = w.far.last().frames.size();
    for (int i = 0; i < 10; ++i) {
      w.far.last().send("news");
      w.clock.advance(seconds(15));
    }
    CHECK(w.far.last().frames.size() == pings);
    CHECK(w.client.texts.size() == 10);
  }
}

TEST_CASE("sim ws link: only a pong text is consumed, other frames reach on_text",
          "[sim][ws][link][keepalive]") {
  LinkWorld w;
  w.open();
  w.far.last().send("pong");
  w.far.last().send("ping");
  w.far.last().send("pong!");
  w.clock.poll();
  CHECK(w.client.texts == std::vector<std::string>{"ping", "pong!"});
}

TEST_CASE("sim ws link: nothing received for ping_after + pong_timeout: it reconnects",
          "[sim][ws][link][keepalive]") {
  LinkWorld w(link_options());
  w.far.answer_pings = false;
  w.open();

  w.clock.advance(milliseconds(29999));
  CHECK(w.client.closes.empty());
  CHECK(w.link->connects() == 1);
  CHECK(w.far.last().frames == std::vector<std::string>{"ping"});  // one ping per silence

  w.clock.advance(milliseconds(2501));
  REQUIRE(w.client.closes.size() == 1);
  CHECK(w.client.closes[0] == make_error_code(Errc::disconnected));
  CHECK(w.client.close_at[0] >= 30000);
  CHECK(w.far.conns.at(0).disconnects == 1);  // the model hears the client side close
  CHECK_FALSE(w.far.conns.at(0).alive);

  w.clock.advance(milliseconds(250));
  CHECK(w.link->connects() == 2);
  REQUIRE(w.client.open_at.size() == 2);
  CHECK(w.client.open_at[1] - w.client.close_at[0] == 250);  // after backoff_initial
}

TEST_CASE("sim ws link: with no ping text it only watches for silence (Deribit heartbeats)",
          "[sim][ws][link][keepalive]") {
  auto options = link_options();
  options.ping_text = "";
  LinkWorld w(options);
  w.open();
  w.clock.advance(milliseconds(29999));
  CHECK(w.far.last().frames.empty());  // nothing is sent
  CHECK(w.client.closes.empty());
  w.clock.advance(milliseconds(2501));
  CHECK(w.client.closes.size() == 1);
  CHECK(w.far.conns.at(0).frames.empty());
}

// ---- closes and reconnects -----------------------------------------------------------------

TEST_CASE("sim ws link: a close the model asks for reaches on_close as DISCONNECTED and the "
          "link reconnects after the backoff",
          "[sim][ws][link][reconnect]") {
  LinkWorld w(link_options());
  w.open();
  w.clock.advance(milliseconds(100));
  w.far.last().close(4004, "No data received in 30s");
  w.clock.poll();
  REQUIRE(w.client.closes.size() == 1);
  CHECK(w.client.closes[0] == make_error_code(Errc::disconnected));
  CHECK(code_of(w.client.closes[0]) == Errc::disconnected);
  CHECK_FALSE(w.link->is_open());
  CHECK_FALSE(w.far.conns.at(0).alive);  // the model is gone with its connection
  CHECK_FALSE(w.link->send("while down"));

  w.clock.advance(milliseconds(249));
  CHECK(w.link->connects() == 1);
  CHECK(w.client.opens == 1);
  w.clock.advance(milliseconds(1));
  CHECK(w.link->connects() == 2);
  CHECK(w.client.opens == 2);
  CHECK(w.link->is_open());
  CHECK(w.far.conns.size() == 2);
  CHECK(w.far.conns.at(1).alive);
}

// The doubling in SimWsLink (like WsClient) applies between attempts that never open; every
// in-process connect opens, and an open resets the backoff. A model that drops every connection
// at once is therefore redialled every backoff_initial, never faster and never slower.
TEST_CASE("sim ws link: a model that closes every connection is redialled every backoff_initial",
          "[sim][ws][link][reconnect]") {
  LinkWorld w(link_options());
  w.open();
  for (int i = 0; i < 6; ++i) {
    w.far.last().close(1011, "flapping");
    w.clock.poll();
    w.clock.advance(milliseconds(250));
  }
  REQUIRE(w.client.close_at.size() == 6);
  REQUIRE(w.client.open_at.size() == 7);
  for (std::size_t i = 0; i < 6; ++i) {
    INFO("reconnect " << i);
    CHECK(w.client.open_at[i + 1] - w.client.close_at[i] == 250);
  }
}

TEST_CASE("sim ws link: reconnect() from the client closes the model's side and reconnects",
          "[sim][ws][link][reconnect]") {
  LinkWorld w(link_options());
  w.open();
  w.link->reconnect();
  CHECK(w.far.conns.at(0).disconnects == 0);  // posted
  w.clock.poll();
  CHECK(w.far.conns.at(0).disconnects == 1);
  CHECK_FALSE(w.far.conns.at(0).alive);
  REQUIRE(w.client.closes.size() == 1);
  CHECK(w.client.closes[0] == make_error_code(Errc::disconnected));
  w.clock.advance(milliseconds(250));
  CHECK(w.link->connects() == 2);
  CHECK(w.client.opens == 2);
  CHECK(w.far.conns.at(1).disconnects == 0);

  SECTION("reconnect() while down does nothing") {
    w.far.last().close(1000, "");
    w.clock.poll();
    w.link->reconnect();
    w.clock.advance(milliseconds(250));
    CHECK(w.link->connects() == 3);
    CHECK(w.far.conns.at(1).disconnects == 0);
    CHECK(w.client.closes.size() == 2);
  }
}

TEST_CASE("sim ws link: frames of an old connection never reach a new one",
          "[sim][ws][link][reconnect]") {
  LinkWorld w(link_options());
  w.open();
  auto old_send = w.far.conns.at(0).send;
  auto old_close = w.far.conns.at(0).close;

  SECTION("sent by the old model after the client reconnected") {
    w.link->reconnect();
    w.clock.advance(milliseconds(250));
    REQUIRE(w.link->connects() == 2);
    old_send("stale");
    old_close(1000, "stale close");
    w.clock.poll();
    CHECK(w.client.texts.empty());
    CHECK(w.client.closes.size() == 1);  // the reconnect's only
    CHECK(w.link->is_open());
    w.far.last().send("fresh");
    w.clock.poll();
    CHECK(w.client.texts == std::vector<std::string>{"fresh"});
  }
  SECTION("sent by the old model just before it closed, while the close is handled") {
    w.far.conns.at(0).close(1000, "going");
    old_send("after the close");  // queued behind the close
    w.clock.poll();
    CHECK(w.client.texts.empty());
    w.clock.advance(milliseconds(250));
    CHECK(w.client.texts.empty());
  }
  SECTION("sent by the client after it asked to reconnect: dropped with the old connection") {
    w.link->reconnect();
    CHECK(w.link->send("into the gap"));  // still open until the reconnect runs
    w.clock.advance(milliseconds(250));
    REQUIRE(w.far.conns.size() == 2);
    CHECK(w.far.conns.at(0).frames.empty());
    CHECK(w.far.conns.at(1).frames.empty());
  }
}

// ---- stop ----------------------------------------------------------------------------------

TEST_CASE("sim ws link: after stop() there are no more callbacks", "[sim][ws][link][stop]") {
  LinkWorld w(link_options());
  w.open();
  auto& first = w.far.conns.at(0);
  first.send("queued before stop");

  SECTION("stopped while open") {
    w.link->stop();
    CHECK_FALSE(w.link->is_open());
    CHECK(first.disconnects == 1);
    CHECK_FALSE(first.alive);
  }
  SECTION("stopped while waiting to reconnect") {
    first.close(1011, "gone");
    w.clock.poll();
    REQUIRE(w.client.closes.size() == 1);
    w.client.texts.clear();
    w.link->stop();
  }
  SECTION("destroyed") {
    w.link.reset();
    CHECK(first.disconnects == 1);
  }

  const auto closes = w.client.closes.size();
  const auto ticks = first.ticks;
  first.send("after stop");
  first.close(1000, "after stop");
  w.clock.advance(seconds(120));
  CHECK(w.client.texts.empty());
  CHECK(w.client.opens == 1);
  CHECK(w.client.closes.size() == closes);
  CHECK(w.far.conns.size() == 1);  // never redialled
  CHECK(first.ticks == ticks);
  if (w.link) {
    CHECK_FALSE(w.link->send("x"));
    CHECK(w.link->connects() == 1);
  }
}

// ---- the model's tick ----------------------------------------------------------------------

TEST_CASE("sim ws link: the model's on_tick runs once a second of virtual time while open",
          "[sim][ws][link][tick]") {
  LinkWorld w(link_options());
  w.open();
  w.clock.advance(milliseconds(999));
  CHECK(w.far.last().ticks == 0);
  w.clock.advance(milliseconds(1));
  CHECK(w.far.last().ticks == 1);
  w.clock.advance(seconds(10));
  CHECK(w.far.last().ticks == 11);

  w.link->reconnect();
  w.clock.poll();
  w.clock.advance(seconds(5));
  CHECK(w.far.conns.at(0).ticks == 11);  // a closed connection's model ticks no more
  CHECK(w.far.conns.at(1).ticks == 4);   // opened at +250 ms: ticks at 1.25 .. 4.25 s
}

// ---- against the real OKX business WebSocket model -------------------------------------------

namespace {

struct OkxLinkWorld {
  boost::asio::io_context io;
  VirtualClock clock{io, kStartMs};
  Journal journal;
  OkxSim okx{clock, journal};
  Client client;
  std::unique_ptr<net::WsConnection> link;

  OkxLinkWorld() {
    net::WsCallbacks cb;
    cb.on_open = [this] {
      ++client.opens;
      const auth::OkxCredentials creds{std::string(kSimApiKey),
                                       auth::Secret(std::string(kSimSecret)),
                                       auth::Secret(std::string(kSimPassphrase))};
      CHECK(link->send(okx::build_ws_login(creds, clock.now_ms() / 1000)));
    };
    cb.on_text = [this](std::string_view t) { client.texts.emplace_back(t); };
    cb.on_close = [this](const boost::system::error_code& ec) { client.closes.push_back(ec); };
    link = SimWsLink::factory(io, okx_ws_route(okx))(net::WsClientOptions{}, std::move(cb));
  }
};

}  // namespace

TEST_CASE("sim ws link: logging in to the okx model with the sim's credentials is answered",
          "[sim][ws][link][okx]") {
  OkxLinkWorld w;
  w.link->start();
  w.clock.poll();
  REQUIRE(w.client.opens == 1);
  REQUIRE(w.client.texts.size() == 1);
  const auto frame = okx::parse_ws_frame(w.client.texts[0]);
  CHECK(frame.kind == okx::WsFrame::Kind::login);
  CHECK(frame.code == "0");
  const auto logins = w.journal.find("okx_ws", "login");
  REQUIRE(logins.size() == 1);
  CHECK(logins[0].at("code").as_string() == "0");
}

TEST_CASE("sim ws link: against the okx model, pings keep the connection past the idle rule",
          "[sim][ws][link][okx]") {
  OkxLinkWorld w;
  w.link->start();
  w.clock.poll();
  w.clock.advance(seconds(120));  // the model closes 4004 after 30 s without a message
  CHECK(w.link->connects() == 1);
  CHECK(w.client.closes.empty());
  CHECK(w.journal.find("okx_ws", "ping").size() >= 4);
  CHECK(w.client.texts.size() == 1);  // the login answer; every pong consumed
}
