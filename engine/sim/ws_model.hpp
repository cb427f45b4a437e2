#pragma once
// The simulator's WebSocket endpoints as pure models behind one interface, so the socket server
// (ws_session.hpp) and the in-process link of virtual-time tests (sim_ws_link.hpp) drive the
// very same session code: OkxWsSession on /ws/v5/business, DeribitWsSession on /ws/api/v2.

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace rfq {
class Clock;
}

namespace rfq::sim {

class OkxSim;
class DeribitSim;

// One WebSocket connection's protocol as a transport drives it: a venue's pure session model
// (OkxWsSession, DeribitWsSession) behind a thin adapter. Loop thread only.
class WsModel {
 public:
  using SendFn = std::function<void(std::string text)>;
  using CloseFn = std::function<void(int close_code, std::string reason)>;

  virtual ~WsModel() = default;
  // One text frame from the client.
  virtual void on_text(std::string_view text) = 0;
  // About once a second on the route's clock: due RFQ expiries (their pushes go out without any
  // request) and the model's own time rules.
  virtual void on_tick() = 0;
  // The peer closed or the socket failed. Also comes after a close the model asked for (the
  // peer's answering close frame); a closed model ignores it.
  virtual void on_disconnect() = 0;
  virtual bool closed() const = 0;
};

// A path the server accepts WebSocket upgrades on.
struct WsRoute {
  std::string path;        // e.g. "/ws/v5/business"
  Clock* clock = nullptr;  // the model's clock: the tick timer runs on it
  // One model per connection. `send` and `close` are the socket's; the model calls them only
  // from its own member functions, and the session destroys the model before itself. The
  // in-process link (SimWsLink) also takes no model as a refused connection.
  std::function<std::unique_ptr<WsModel>(WsModel::SendFn send, WsModel::CloseFn close)> open;
};

// The routes of the two venues' WebSocket APIs (the model must outlive every connection).
WsRoute okx_ws_route(OkxSim& okx);
WsRoute deribit_ws_route(DeribitSim& deribit);

}  // namespace rfq::sim
