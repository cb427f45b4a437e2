#include "engine/sim/ws_model.hpp"

#include "engine/sim/deribit_sim.hpp"
#include "engine/sim/deribit_ws_sim.hpp"
#include "engine/sim/okx_sim.hpp"
#include "engine/sim/okx_ws_sim.hpp"

namespace rfq::sim {
namespace {

// The WebSocket session models behind the one interface WsSession drives.
class OkxWsModel final : public WsModel {
 public:
  OkxWsModel(OkxSim& okx, SendFn send, CloseFn close)
      : okx_(okx), session_(okx, std::move(send), std::move(close)) {}

  void on_text(std::string_view text) override { session_.on_text(text); }
  void on_tick() override {
    okx_.tick();
    session_.check_idle();
  }
  // Nothing outlives an OKX connection: its end is the session's destruction.
  void on_disconnect() override {}
  bool closed() const override { return session_.closed(); }

 private:
  OkxSim& okx_;
  OkxWsSession session_;
};

class DeribitWsModel final : public WsModel {
 public:
  DeribitWsModel(DeribitSim& deribit, SendFn send, CloseFn close)
      : deribit_(deribit), session_(deribit, std::move(send), std::move(close)) {}

  void on_text(std::string_view text) override { session_.on_text(text); }
  // Heartbeats keep their own timers (on the same clock); only expiries need a look.
  void on_tick() override { deribit_.tick(); }
  // Journals the close and applies cancel-on-disconnect.
  void on_disconnect() override { session_.on_disconnect(); }
  bool closed() const override { return session_.closed(); }

 private:
  DeribitSim& deribit_;
  DeribitWsSession session_;
};

}  // namespace

WsRoute okx_ws_route(OkxSim& okx) {
  return {std::string(kOkxBusinessWsPath), &okx.clock(),
          [&okx](WsModel::SendFn send, WsModel::CloseFn close) -> std::unique_ptr<WsModel> {
            return std::make_unique<OkxWsModel>(okx, std::move(send), std::move(close));
          }};
}

WsRoute deribit_ws_route(DeribitSim& deribit) {
  return {std::string(kDeribitWsPath), &deribit.clock(),
          [&deribit](WsModel::SendFn send, WsModel::CloseFn close) -> std::unique_ptr<WsModel> {
            return std::make_unique<DeribitWsModel>(deribit, std::move(send), std::move(close));
          }};
}

}  // namespace rfq::sim
