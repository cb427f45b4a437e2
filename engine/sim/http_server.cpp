#include "engine/sim/http_server.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <string_view>

#include "engine/core/log.hpp"
#include "engine/sim/deribit_sim.hpp"
#include "engine/sim/deribit_ws_sim.hpp"
#include "engine/sim/http_session.hpp"
#include "engine/sim/okx_sim.hpp"
#include "engine/sim/sim_control.hpp"

namespace rfq::sim {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr std::string_view kDeribitApi = "/api/v2";

// "/api/v2" itself (POST with the method in the body) and everything under "/api/v2/".
bool is_deribit_target(std::string_view target) {
  const auto path = target.substr(0, target.find('?'));
  return path.starts_with(kDeribitApi) &&
         (path.size() == kDeribitApi.size() || path[kDeribitApi.size()] == '/');
}

// What one server serves; the request handler and serve_deribit() share it.
struct SimRoutes {
  OkxSim* okx = nullptr;
  DeribitSim* deribit = nullptr;
  SimControl control;

  SimHttpReply handle(const SimHttpRequest& request) {
    if (SimControl::is_control_target(request.target)) return control.handle(request);
    if (deribit != nullptr && (okx == nullptr || is_deribit_target(request.target))) {
      return deribit->handle_http(request);
    }
    return okx->handle(request);
  }
};

}  // namespace

// The listener: accepts on 127.0.0.1 and starts one session per connection (a WebSocket
// upgrade turns it into a WsSession, registered in the same context, so stop() closes both).
struct SimServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(net::io_context& io, std::shared_ptr<net::ssl::context> tls)
      : io(io), acceptor(io), routes(std::make_shared<SimRoutes>()) {
    context = std::make_shared<HttpSessionContext>();
    context->handler = [routes = routes](const SimHttpRequest& request) {
      return routes->handle(request);
    };
    context->tls = std::move(tls);
  }

  void serve_okx(OkxSim& okx) {
    routes->okx = &okx;
    routes->control.serve_okx(okx);
    context->ws_routes.push_back(okx_ws_route(okx));
  }

  void serve_deribit(DeribitSim& deribit) {
    routes->deribit = &deribit;
    routes->control.serve_deribit(deribit);
    std::erase_if(context->ws_routes,
                  [](const WsRoute& route) { return route.path == kDeribitWsPath; });
    context->ws_routes.push_back(deribit_ws_route(deribit));
  }

  std::uint16_t listen(std::uint16_t port) {
    const tcp::endpoint endpoint(net::ip::address_v4::loopback(), port);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(net::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(net::socket_base::max_listen_connections);
    do_accept();
    return acceptor.local_endpoint().port();
  }

  void do_accept() {
    acceptor.async_accept(boost::beast::bind_front_handler(&Impl::on_accept, shared_from_this()));
  }

  void on_accept(boost::system::error_code ec, tcp::socket socket) {
    if (!acceptor.is_open()) return;  // stopped
    if (ec) {
      log::get("sim")->warn("sim http accept: stage=accept error={}", ec.message());
    } else {
      ++accepted;
      socket.set_option(tcp::no_delay(true), ec);
      start_http_session(std::move(socket), context);
    }
    do_accept();
  }

  void stop() {
    boost::system::error_code ec;
    acceptor.close(ec);
    // close() only cancels; sessions unregister later, from their own handlers.
    for (auto& [id, weak] : context->live) {
      if (auto session = weak.lock()) session->close();
    }
  }

  net::io_context& io;
  tcp::acceptor acceptor;
  std::shared_ptr<SimRoutes> routes;
  std::shared_ptr<HttpSessionContext> context;
  std::size_t accepted = 0;
};

SimServer::SimServer(net::io_context& io, OkxSim& okx, std::shared_ptr<net::ssl::context> tls)
    : impl_(std::make_shared<Impl>(io, std::move(tls))) {
  impl_->serve_okx(okx);
}

SimServer::SimServer(net::io_context& io, DeribitSim& deribit,
                     std::shared_ptr<net::ssl::context> tls)
    : impl_(std::make_shared<Impl>(io, std::move(tls))) {
  impl_->serve_deribit(deribit);
}

SimServer::~SimServer() { impl_->stop(); }

void SimServer::serve_deribit(DeribitSim& deribit) { impl_->serve_deribit(deribit); }

std::uint16_t SimServer::listen(std::uint16_t port) { return impl_->listen(port); }

void SimServer::stop() {
  net::dispatch(impl_->io, [impl = impl_] { impl->stop(); });
}

std::size_t SimServer::connections_accepted() const { return impl_->accepted; }

}  // namespace rfq::sim
