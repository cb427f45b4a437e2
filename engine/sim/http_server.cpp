#include "engine/sim/http_server.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/bind_handler.hpp>

#include "engine/core/log.hpp"
#include "engine/sim/http_session.hpp"
#include "engine/sim/okx_sim.hpp"
#include "engine/sim/sim_control.hpp"

namespace rfq::sim {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// The listener: accepts on 127.0.0.1 and starts one session per connection (a WebSocket
// upgrade turns it into a WsSession, registered in the same context, so stop() closes both).
struct SimServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(net::io_context& io, std::shared_ptr<HttpSessionContext> context)
      : io(io), acceptor(io), context(std::move(context)) {}

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
  std::shared_ptr<HttpSessionContext> context;
  std::size_t accepted = 0;
};

SimServer::SimServer(net::io_context& io, OkxSim& okx, std::shared_ptr<net::ssl::context> tls) {
  auto context = std::make_shared<HttpSessionContext>();
  // /sim/ is the control API (sim_control.hpp); everything else is the OKX model's.
  context->handler = [&okx,
                      control = std::make_shared<SimControl>(okx)](const SimHttpRequest& request) {
    if (SimControl::is_control_target(request.target)) return control->handle(request);
    return okx.handle(request);
  };
  context->tls = std::move(tls);
  context->okx = &okx;
  impl_ = std::make_shared<Impl>(io, std::move(context));
}

SimServer::~SimServer() { impl_->stop(); }

std::uint16_t SimServer::listen(std::uint16_t port) { return impl_->listen(port); }

void SimServer::stop() {
  net::dispatch(impl_->io, [impl = impl_] { impl->stop(); });
}

std::size_t SimServer::connections_accepted() const { return impl_->accepted; }

}  // namespace rfq::sim
