#pragma once
// A WebSocket client for venue feeds (OKX business WS, Deribit JSON-RPC): text frames, TLS with
// peer and host-name verification and SNI (plain ws for loopback), TCP_NODELAY, an
// application-level keep-alive (OKX: text "ping" when nothing arrived for a while, "pong"
// expected), and reconnect with exponential backoff until stop(). The owner logs in from
// on_open on every (re)connect. Backoff and keep-alive timers run on the engine's Clock.

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "engine/core/clock.hpp"
#include "engine/net/url.hpp"

namespace boost::asio {
class io_context;
}

namespace boost::system {
class error_code;
}

namespace rfq::net {

struct WsClientOptions {
  Origin origin;  // ws:// or wss://, with the path (e.g. /ws/v5/business)
  std::string ca_file;
  Millis connect_timeout{10000};
  Millis ping_after{20000};    // send a ping when nothing was received for this long
  Millis pong_timeout{10000};  // then reconnect if still nothing arrived
  std::string ping_text = "ping";  // "": send nothing, only watch for silence (Deribit heartbeats)
  std::string pong_text = "pong";  // consumed, never handed to on_text
  Millis backoff_initial{250};
  Millis backoff_max{30000};
};

struct WsCallbacks {
  std::function<void()> on_open;                   // connected; log in / resubscribe here
  std::function<void(std::string_view)> on_text;   // every text frame but the pong
  std::function<void(const boost::system::error_code&)> on_close;  // lost; reconnecting
};

class WsClient {
 public:
  WsClient(boost::asio::io_context& io, Clock& clock, WsClientOptions options, WsCallbacks cb);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Connects, and keeps reconnecting (with backoff) whenever the connection is lost.
  void start();
  // Queues a text frame; frames go out in order. False (and dropped) when not open: callers
  // that need delivery resend after on_open.
  bool send(std::string text);
  // Closes the connection to force a reconnect (e.g. a missed venue heartbeat).
  void reconnect();
  // Closes for good: no more callbacks after it returns.
  void stop();

  bool is_open() const;
  std::size_t connects() const;  // successful handshakes so far

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace rfq::net
