#include "engine/sim/sim_transport.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/sim/okx_sim.hpp"

namespace rfq::sim {

namespace {
using boost::system::error_code;
}

struct SimTransport::Impl : std::enable_shared_from_this<Impl> {
  boost::asio::io_context& io;
  Clock& clock;
  Model model;
  bool closed = false;
  std::vector<TimerHandle> held;  // delayed answers and their deadlines

  Impl(boost::asio::io_context& i, Clock& c, Model m) : io(i), clock(c), model(std::move(m)) {}

  void complete(Handler handler, error_code ec, net::HttpResponse res) {
    boost::asio::post(io, [h = std::move(handler), ec, res = std::move(res)]() mutable {
      std::move(h)(ec, std::move(res));
    });
  }

  void serve(net::HttpRequest req, Millis timeout, Handler handler) {
    if (closed) return complete(std::move(handler), make_error_code(Errc::disconnected), {});
    SimHttpRequest sreq{req.method, req.target, req.body, req.headers};
    net::HttpResponse res;
    res.dispatched = res.write_started = clock.steady_now();
    SimHttpReply reply = model(sreq);
    if (reply.drop) return complete(std::move(handler), make_error_code(Errc::disconnected), {});
    res.status = reply.status;
    res.body = std::move(reply.body);
    if (reply.delay_ms <= 0) {
      res.completed = clock.steady_now();
      return complete(std::move(handler), {}, std::move(res));
    }
    hold(std::move(res), Millis(reply.delay_ms), timeout, std::move(handler));
  }

  // A delayed answer races the request's deadline; whichever fires first completes it.
  void hold(net::HttpResponse res, Millis delay, Millis timeout, Handler handler) {
    struct Pending {
      Handler handler;
      net::HttpResponse answer;
      bool done = false;  // (a moved-from handler must not be reassigned: Boost 1.81)
    };
    auto pending = std::make_shared<Pending>(Pending{std::move(handler), std::move(res)});
    std::weak_ptr<Impl> weak = shared_from_this();
    auto fire = [weak, pending](error_code ec) {
      auto self = weak.lock();
      if (!self || pending->done) return;
      pending->done = true;
      if (self->closed) ec = make_error_code(Errc::disconnected);
      pending->answer.completed = self->clock.steady_now();
      self->complete(std::move(pending->handler), ec,
                     ec ? net::HttpResponse{} : std::move(pending->answer));
    };
    std::erase_if(held, [](const TimerHandle& t) { return !t.active(); });
    held.push_back(clock.schedule(delay, [fire] { fire({}); }));
    if (timeout < delay) {
      held.push_back(clock.schedule(timeout, [fire] { fire(make_error_code(Errc::timeout)); }));
    }
  }
};

SimTransport::SimTransport(boost::asio::io_context& io, OkxSim& okx)
    : SimTransport(io, okx.clock(), [&okx](const SimHttpRequest& r) { return okx.handle(r); }) {}

SimTransport::SimTransport(boost::asio::io_context& io, Clock& clock, Model model)
    : impl_(std::make_shared<Impl>(io, clock, std::move(model))) {}

SimTransport::~SimTransport() { close(); }

void SimTransport::async_request(net::HttpRequest req, Millis timeout, Handler handler) {
  // Served on the next turn of the loop, like bytes that still have to travel.
  boost::asio::post(impl_->io, [impl = impl_, req = std::move(req), timeout,
                                h = std::move(handler)]() mutable {
    impl->serve(std::move(req), timeout, std::move(h));
  });
}

void SimTransport::warm_up(Millis, ReadyHandler handler) {
  const bool closed = impl_->closed;
  boost::asio::post(impl_->io, [closed, h = std::move(handler)]() mutable {
    std::move(h)(closed ? make_error_code(Errc::disconnected) : error_code{});
  });
}

void SimTransport::close() { impl_->closed = true; }

}  // namespace rfq::sim
