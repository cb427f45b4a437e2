#pragma once
// One client connection to a simulator WebSocket session model (OkxWsSession,
// DeribitWsSession): every frame the session sent, in order, and its close if any.
#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rfq::sim::test {

struct WsClose {
  int code;
  std::string reason;
};

template <typename Session, typename Model>
struct SessionConn {
  explicit SessionConn(Model& model)
      : session(
            model, [this](std::string text) { sent.push_back(std::move(text)); },
            [this](int code, std::string reason) {
              closed = WsClose{code, std::move(reason)};
            }) {}

  void send(std::string_view text) { session.on_text(text); }

  // The frames sent since the last take(), cleared.
  std::vector<std::string> take() { return std::exchange(sent, {}); }

  // Sends `text` and returns the one frame it was answered with (fails the test otherwise).
  std::string ask_text(std::string_view text) {
    take();
    send(text);
    auto frames = take();
    INFO(text);
    REQUIRE(frames.size() == 1);
    return std::move(frames[0]);
  }

  std::vector<std::string> sent;
  std::optional<WsClose> closed;
  Session session;
};

}  // namespace rfq::sim::test
