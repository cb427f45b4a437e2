#pragma once
// A simulator as an HttpTransport: requests go straight to the model's handler (OkxSim::handle,
// DeribitSim::handle_http) on the same loop, no sockets, answers posted back (never inline). Faults behave as on the wire: drop ->
// DISCONNECTED, delay -> the answer arrives delay_ms later on the simulator's clock (a
// deadline passing first -> TIMEOUT). With a VirtualClock this runs a venue in virtual time.

#include <functional>
#include <memory>

#include "engine/net/http_transport.hpp"
#include "engine/sim/sim_http.hpp"

namespace boost::asio {
class io_context;
}

namespace rfq::sim {

class OkxSim;

class SimTransport final : public net::HttpTransport {
 public:
  using Model = std::function<SimHttpReply(const SimHttpRequest&)>;

  SimTransport(boost::asio::io_context& io, OkxSim& okx);
  // Any model; `clock` is the model's (delays are held on it).
  SimTransport(boost::asio::io_context& io, Clock& clock, Model model);
  ~SimTransport() override;

  void async_request(net::HttpRequest req, Millis timeout, Handler handler) override;
  void warm_up(Millis timeout, ReadyHandler handler) override;
  void close() override;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace rfq::sim
