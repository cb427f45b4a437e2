#pragma once
// What a venue needs from a WebSocket: text frames in order, an open/lost signal, reconnect with
// backoff until stop(). WsClient implements it over real sockets; the simulator's in-process
// link (engine/sim/sim_ws_link.hpp) implements it without sockets, so a venue runs unchanged
// in virtual time.

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "engine/core/clock.hpp"
#include "engine/net/url.hpp"

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

class WsConnection {
 public:
  virtual ~WsConnection() = default;
  // Connects, and keeps reconnecting (with backoff) whenever the connection is lost.
  virtual void start() = 0;
  // Queues a text frame; frames go out in order. False (and dropped) when not open: callers
  // that need delivery resend after on_open.
  virtual bool send(std::string text) = 0;
  // Closes the connection to force a reconnect (e.g. a missed venue heartbeat).
  virtual void reconnect() = 0;
  // Closes for good: no more callbacks after it returns.
  virtual void stop() = 0;
  virtual bool is_open() const = 0;
  virtual std::size_t connects() const = 0;  // successful handshakes so far
};

// Makes a venue's connection to options.origin; the venue owns it and calls start().
using WsFactory =
    std::function<std::unique_ptr<WsConnection>(const WsClientOptions& options, WsCallbacks cb)>;

}  // namespace rfq::net
