#include "engine/sim/sim_ws_link.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>

#include "engine/core/error.hpp"

namespace rfq::sim {

namespace {
constexpr Millis kTick{1000};  // as the socket server ticks its sessions
}

struct SimWsLink::Impl : std::enable_shared_from_this<Impl> {
  boost::asio::io_context& io;
  WsRoute route;
  net::WsClientOptions opt;
  net::WsCallbacks cb;
  Clock& clock;
  std::unique_ptr<WsModel> model;
  std::uint64_t epoch = 0;  // one per connection: frames of an older one are dropped
  bool open = false;
  bool stopped = false;
  bool ping_sent = false;
  SteadyTime last_received{};
  std::size_t connects = 0;
  Millis backoff;
  TimerHandle retry;
  TimerHandle keepalive;
  TimerHandle tick;

  Impl(boost::asio::io_context& i, WsRoute r, net::WsClientOptions o, net::WsCallbacks c)
      : io(i), route(std::move(r)), opt(std::move(o)), cb(std::move(c)), clock(*route.clock),
        backoff(opt.backoff_initial) {}

  void connect() {
    if (stopped) return;
    const std::uint64_t e = ++epoch;
    std::weak_ptr<Impl> weak = shared_from_this();
    model = route.open(
        [weak, e](std::string text) {
          auto self = weak.lock();
          if (!self) return;
          boost::asio::post(self->io, [weak, e, text = std::move(text)] {
            if (auto s = weak.lock(); s && s->epoch == e && s->open) s->receive(text);
          });
        },
        [weak, e](int, std::string) {
          auto self = weak.lock();
          if (!self) return;
          boost::asio::post(self->io, [weak, e] {
            if (auto s = weak.lock(); s && s->epoch == e && s->open) s->lost(false);
          });
        });
    if (!model) {  // the server refused the connection: as a failed connect, try again later
      retry = clock.schedule(backoff, [weak] {
        if (auto s = weak.lock()) s->connect();
      });
      backoff = std::min(opt.backoff_max, backoff * 2);
      return;
    }
    open = true;
    ++connects;
    backoff = opt.backoff_initial;
    ping_sent = false;
    last_received = clock.steady_now();
    arm_keepalive();
    arm_tick();
    if (cb.on_open) cb.on_open();
  }

  void receive(const std::string& text) {
    last_received = clock.steady_now();
    ping_sent = false;
    if (!opt.pong_text.empty() && text == opt.pong_text) return;
    if (cb.on_text) cb.on_text(text);
  }

  // The connection ended: by the model (a server close) or by us (reconnect, silence).
  void lost(bool by_client) {
    open = false;
    keepalive.cancel();
    tick.cancel();
    ++epoch;
    if (model) {
      if (by_client) model->on_disconnect();
      auto gone = std::move(model);  // destroyed here, never inside its own call
    }
    if (stopped) return;
    if (cb.on_close) cb.on_close(make_error_code(Errc::disconnected));
    std::weak_ptr<Impl> weak = shared_from_this();
    retry = clock.schedule(backoff, [weak] {
      if (auto s = weak.lock()) s->connect();
    });
    backoff = std::min(opt.backoff_max, backoff * 2);
  }

  void arm_tick() {
    std::weak_ptr<Impl> weak = shared_from_this();
    tick = clock.schedule(kTick, [weak] {
      auto s = weak.lock();
      if (!s || !s->open || !s->model) return;
      s->model->on_tick();
      s->arm_tick();
    });
  }

  void arm_keepalive() {
    const auto period = std::max(Millis(10), std::min(opt.ping_after, opt.pong_timeout) / 4);
    std::weak_ptr<Impl> weak = shared_from_this();
    keepalive = clock.schedule(period, [weak] {
      auto s = weak.lock();
      if (!s || !s->open) return;
      const auto quiet = s->clock.steady_now() - s->last_received;
      if (quiet >= s->opt.ping_after + s->opt.pong_timeout) return s->lost(true);
      if (quiet >= s->opt.ping_after && !s->ping_sent && !s->opt.ping_text.empty()) {
        s->ping_sent = true;
        s->deliver(s->opt.ping_text);
      }
      s->arm_keepalive();
    });
  }

  void deliver(std::string text) {
    std::weak_ptr<Impl> weak = shared_from_this();
    boost::asio::post(io, [weak, e = epoch, text = std::move(text)] {
      auto s = weak.lock();
      if (!s || s->epoch != e || !s->open || !s->model) return;
      s->model->on_text(text);
    });
  }
};

SimWsLink::SimWsLink(boost::asio::io_context& io, WsRoute route, net::WsClientOptions options,
                     net::WsCallbacks cb)
    : impl_(std::make_shared<Impl>(io, std::move(route), std::move(options), std::move(cb))) {}

SimWsLink::~SimWsLink() { stop(); }

void SimWsLink::start() {
  std::weak_ptr<Impl> weak = impl_;
  boost::asio::post(impl_->io, [weak] {
    if (auto s = weak.lock(); s && !s->open) s->connect();
  });
}

bool SimWsLink::send(std::string text) {
  if (!impl_->open || impl_->stopped) return false;
  impl_->deliver(std::move(text));
  return true;
}

void SimWsLink::reconnect() {
  if (!impl_->open) return;
  std::weak_ptr<Impl> weak = impl_;
  boost::asio::post(impl_->io, [weak, e = impl_->epoch] {
    if (auto s = weak.lock(); s && s->epoch == e && s->open) s->lost(true);
  });
}

void SimWsLink::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->retry.cancel();
  if (impl_->open) impl_->lost(true);
}

bool SimWsLink::is_open() const { return impl_->open; }
std::size_t SimWsLink::connects() const { return impl_->connects; }

net::WsFactory SimWsLink::factory(boost::asio::io_context& io, WsRoute route) {
  return [&io, route = std::move(route)](const net::WsClientOptions& options, net::WsCallbacks cb)
             -> std::unique_ptr<net::WsConnection> {
    return std::make_unique<SimWsLink>(io, route, options, std::move(cb));
  };
}

}  // namespace rfq::sim
