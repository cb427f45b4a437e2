#pragma once
// Internal to SimServer: one HTTP/1.1 connection (plain or TLS) that reads a request, asks the
// handler, writes the reply and reads again while the client keeps the connection alive. A
// WebSocket upgrade on a path the context routes (OKX's /ws/v5/business, Deribit's /ws/api/v2)
// becomes a WsSession (ws_session.hpp) on the same socket, driving that route's WsModel.

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/sim/sim_http.hpp"

namespace boost::asio::ssl {
class context;
}

namespace rfq {
class Clock;
}

namespace rfq::sim {

class HttpSessionBase {
 public:
  virtual ~HttpSessionBase() = default;
  // Closes the socket: pending reads and writes complete with an error and the session ends.
  virtual void close() = 0;
};

// One WebSocket connection's protocol as the server drives it: a venue's pure session model
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
  // from its own member functions, and the session destroys the model before itself.
  std::function<std::unique_ptr<WsModel>(WsModel::SendFn send, WsModel::CloseFn close)> open;
};

// Shared by a listener and the sessions (HTTP and WebSocket) it started; sessions unregister
// when destroyed.
struct HttpSessionContext {
  std::function<SimHttpReply(const SimHttpRequest&)> handler;
  std::shared_ptr<boost::asio::ssl::context> tls;  // nullptr: plain http
  std::vector<WsRoute> ws_routes;                  // their models outlive the sessions
  std::uint64_t next_id = 0;
  std::unordered_map<std::uint64_t, std::weak_ptr<HttpSessionBase>> live;

  // The route for an upgrade to `path` (no query); nullptr when none.
  const WsRoute* ws_route(std::string_view path) const {
    for (const auto& route : ws_routes) {
      if (route.path == path) return &route;
    }
    return nullptr;
  }
};

// Starts a session on an accepted socket (TLS handshake first when context->tls is set).
void start_http_session(boost::asio::ip::tcp::socket socket,
                        std::shared_ptr<HttpSessionContext> context);

}  // namespace rfq::sim
