#include "engine/sim/standalone.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/system/system_error.hpp>
#include <csignal>
#include <ostream>

#include "engine/auth/credentials.hpp"
#include "engine/core/clock.hpp"
#include "engine/core/log.hpp"
#include "engine/sim/http_server.hpp"
#include "engine/sim/journal.hpp"
#include "engine/sim/okx_sim.hpp"

namespace rfq::sim {

namespace {

constexpr int kConfigError = 2;

// All three variables or none: a sim silently mixing real and built-in credentials would only
// make every signature fail in a confusing way.
bool resolve_credentials(OkxSimOptions& sim) {
  auto key = auth::from_env("OKX_API_KEY");
  auto secret = auth::from_env("OKX_SECRET_KEY");
  auto passphrase = auth::from_env("OKX_PASSPHRASE");
  const int set = int(key.has_value()) + int(secret.has_value()) + int(passphrase.has_value());
  if (set == 0) {
    log::get("sim")->info("okx sim: built-in sim credentials (api key {})", sim.api_key);
    return true;
  }
  if (set != 3) {
    log::get("sim")->error(
        "okx sim: set all of OKX_API_KEY, OKX_SECRET_KEY, OKX_PASSPHRASE or none of them");
    return false;
  }
  sim.api_key = std::move(*key);
  sim.secret = std::move(*secret);
  sim.passphrase = std::move(*passphrase);
  log::get("sim")->info("okx sim: credentials from OKX_API_KEY / OKX_SECRET_KEY / OKX_PASSPHRASE");
  return true;
}

void print_ready_line(std::ostream& out, std::uint16_t port, const StandaloneOptions& options) {
  boost::json::object line;
  line["okx_port"] = port;
  line["seed_rfqs"] = options.seed_rfqs;
  line["journal"] = options.journal_path;
  out << boost::json::serialize(line) << '\n';
  out.flush();
}

}  // namespace

int run_standalone(const StandaloneOptions& options, std::ostream& out) {
  auto logger = log::get("sim");
  OkxSimOptions sim_options;
  if (!resolve_credentials(sim_options)) return kConfigError;

  boost::asio::io_context io;
  RealClock clock(io);
  Journal journal;
  if (!options.journal_path.empty() && !journal.open_file(options.journal_path)) {
    logger->error("okx sim: cannot open journal file {}", options.journal_path);
    return kConfigError;
  }
  OkxSim okx(clock, journal, std::move(sim_options));
  okx.seed(options.seed_rfqs, options.seed_spread_ms, options.seed);

  SimServer server(io, okx);
  std::uint16_t port = 0;
  try {
    port = server.listen(options.okx_port);
  } catch (const boost::system::system_error& e) {
    logger->error("okx sim: cannot listen on 127.0.0.1:{}: {}", options.okx_port,
                  e.code().message());
    return kConfigError;
  }
  // Registered before the ready line, so a client that signals right after reading it is heard.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    logger->info("okx sim: signal {}, stopping", signo);
    server.stop();
  });
  logger->info("okx sim: listening on 127.0.0.1:{}, {} seeded RFQs", port, options.seed_rfqs);
  print_ready_line(out, port, options);
  io.run();
  return 0;
}

}  // namespace rfq::sim
