// Set-up shared by the phases of make bench.
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/engine.hpp"
#include "engine/sim/okx_sim.hpp"
#include "tests/bench/bench.hpp"

namespace rfq::bench {

auth::OkxCredentials okx_sim_credentials() {
  return {std::string(sim::kSimApiKey), auth::Secret(std::string(sim::kSimSecret)),
          auth::Secret(std::string(sim::kSimPassphrase))};
}

void start_engine(boost::asio::io_context& io, Engine& engine, const char* phase) {
  bool started = false;
  engine.start([&](boost::system::error_code ec) {
    if (ec) {
      std::fprintf(stderr, "%s: a venue did not start: %s\n", phase, ec.message().c_str());
      std::exit(1);
    }
    started = true;
  });
  while (!started) {
    if (io.run_one() == 0) io.restart();
  }
}

}  // namespace rfq::bench
