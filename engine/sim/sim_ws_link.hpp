#pragma once
// A venue's WebSocket connection to the simulator without sockets: a net::WsConnection whose far
// end is a WsRoute's model (OkxWsSession, DeribitWsSession), as the socket server would drive it.
// Frames both ways are posted (never delivered inside the sender's call), in order. What the
// socket client does, this does on the same Clock: the text ping after `ping_after` of silence
// (pong consumed), a reconnect when `pong_timeout` more passes with nothing received, reconnect
// with exponential backoff after any close or refused connect (a route whose `open` returns
// no model refuses it), and the model's once-a-second tick (RFQ expiry pushes, the OKX idle
// rule). A close the model asks for reaches the venue as DISCONNECTED.
// With a VirtualClock this runs a venue's feed in virtual time.

#include <memory>

#include "engine/net/ws_connection.hpp"
#include "engine/sim/ws_model.hpp"

namespace boost::asio {
class io_context;
}

namespace rfq::sim {

class SimWsLink final : public net::WsConnection {
 public:
  SimWsLink(boost::asio::io_context& io, WsRoute route, net::WsClientOptions options,
            net::WsCallbacks cb);
  ~SimWsLink() override;
  SimWsLink(const SimWsLink&) = delete;
  SimWsLink& operator=(const SimWsLink&) = delete;

  void start() override;
  bool send(std::string text) override;
  void reconnect() override;
  void stop() override;
  bool is_open() const override;
  std::size_t connects() const override;

  // A factory for venue options (their ws_factory): every connection goes to `route`.
  static net::WsFactory factory(boost::asio::io_context& io, WsRoute route);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace rfq::sim
