#pragma once
// A WebSocket client for venue feeds (OKX business WS, Deribit JSON-RPC): text frames, TLS with
// peer and host-name verification and SNI (plain ws for loopback), TCP_NODELAY, an
// application-level keep-alive (OKX: text "ping" when nothing arrived for a while, "pong"
// expected), and reconnect with exponential backoff until stop(). The owner logs in from
// on_open on every (re)connect. Backoff and keep-alive timers run on the engine's Clock.

#include "engine/net/ws_connection.hpp"

namespace boost::asio {
class io_context;
}

namespace boost::system {
class error_code;
}

namespace rfq::net {

class WsClient final : public WsConnection {
 public:
  WsClient(boost::asio::io_context& io, Clock& clock, WsClientOptions options, WsCallbacks cb);
  ~WsClient() override;
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  void start() override;
  bool send(std::string text) override;
  void reconnect() override;
  void stop() override;
  bool is_open() const override;
  std::size_t connects() const override;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// The connection a venue uses: made by `factory` when one is set (the in-process simulator of
// virtual-time tests), else a WsClient over real sockets.
std::unique_ptr<WsConnection> open_ws_connection(const WsFactory& factory,
                                                 boost::asio::io_context& io, Clock& clock,
                                                 WsClientOptions options, WsCallbacks cb);

}  // namespace rfq::net
