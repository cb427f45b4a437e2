// A trading platform's process embedding rfqd: it owns its io_context, builds the engine with
// its venues, loads a policy into a PolicyHost and publishes its own exposure figures to it.
// To run anywhere, the venue here is the OKX simulator served on 127.0.0.1 by this same
// process; a real host points OkxVenueOptions::rest at OKX and takes the credentials from its
// own secret store.
//
//   embed_example [POLICY.lua]   (default: examples/embed/exposure_guard.lua)
//
// It seeds 5 RFQs, publishes an exposure under the limit, then one over it; the policy pulls
// every RFQ. Exit 0 when the simulator has no active RFQ left, 1 otherwise.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <iostream>
#include <memory>
#include <string>

#include "bindings/modules/policy_host.hpp"
#include "engine/engine.hpp"
#include "engine/sim/http_server.hpp"
#include "engine/sim/journal.hpp"
#include "engine/sim/okx_sim.hpp"
#include "engine/venues/okx/okx_venue.hpp"

int main(int argc, char** argv) {
  const std::string policy_path = argc > 1 ? argv[1] : RFQ_EXAMPLES_DIR "/embed/exposure_guard.lua";

  // The host's loop and clock: rfqd runs on them, it has no thread of its own.
  boost::asio::io_context io;
  rfq::RealClock clock(io);

  // Stand-in venue: the simulator on loopback, with 5 active RFQs.
  rfq::sim::Journal journal;
  rfq::sim::OkxSim okx(clock, journal);
  rfq::sim::SimServer server(io, okx);
  const std::uint16_t port = server.listen(0);
  for (int i = 0; i < 5; ++i) {
    rfq::sim::NewRfq r;
    r.legs = {{"BTC-USD-261225-100000-C", "buy", "25"}};
    r.expires_in_ms = 600000;
    okx.add_rfq(std::move(r));
  }

  // The engine and its venue.
  rfq::Engine engine(io, clock);
  rfq::okx::OkxVenueOptions venue;
  std::string error;
  if (!rfq::net::parse_origin("http://127.0.0.1:" + std::to_string(port), venue.rest, error)) {
    std::cerr << "embed: " << error << "\n";
    return 2;
  }
  const auto& keys = okx.options();
  venue.credentials = {keys.api_key, rfq::auth::Secret(keys.secret),
                       rfq::auth::Secret(keys.passphrase)};
  engine.add_venue(std::make_unique<rfq::okx::OkxVenue>(io, clock, engine.book(), venue));

  // The policy, with its params as the host's config would give them.
  rfq::lua::PolicySpec spec;
  spec.script = policy_path;
  spec.params = boost::json::object{{"limit", 1000000}};
  spec.scripts_lib_dir = RFQ_SCRIPTS_DIR "/lib";
  rfq::lua::PolicyHost policy(engine, spec);
  if (!policy.load(error)) {
    std::cerr << "embed: policy " << policy_path << ": " << error << "\n";
    return 2;
  }

  // Once every venue is up: run the policy, then publish the host's exposure figures.
  auto deadline = clock.schedule(std::chrono::seconds(10), [&] { io.stop(); });
  engine.start([&](boost::system::error_code ec) {
    if (ec) {
      std::cerr << "embed: a venue did not start: " << ec.message() << "\n";
      return io.stop();
    }
    policy.start();  // the main chunk runs on the next turn of the loop, registering handlers
    boost::asio::post(io, [&] {
      policy.publish("exposure", boost::json::object{{"gross", 400000}});
      policy.publish("exposure", boost::json::object{{"gross", 1200000}});
    });
  });
  // Done when the venue shows nothing active (checked as the loop runs).
  std::function<void()> watch;
  rfq::TimerHandle poll;
  watch = [&] {
    if (okx.count_in_state("active") == 0) return io.stop();
    poll = clock.schedule(std::chrono::milliseconds(10), watch);
  };
  watch();
  io.run();

  engine.stop();
  server.stop();
  const std::size_t active = okx.count_in_state("active");
  std::cout << "embed: " << okx.count_in_state("canceled") << " RFQs canceled, " << active
            << " active; cancel-all requests sent: " << engine.metrics().get("rfq.cancel_all.ok")
            << "; policy task errors: " << policy.errors() << "\n";
  return active == 0 && policy.errors() == 0 ? 0 : 1;
}
