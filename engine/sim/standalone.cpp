#include "engine/sim/standalone.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/system/system_error.hpp>
#include <csignal>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "engine/auth/credentials.hpp"
#include "engine/core/clock.hpp"
#include "engine/core/log.hpp"
#include "engine/sim/deribit_sim.hpp"
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

// The same rule for Deribit's pair (the names rfqd's venue deribit reads by default).
bool resolve_credentials(DeribitSimOptions& sim) {
  auto id = auth::from_env("DERIBIT_CLIENT_ID");
  auto secret = auth::from_env("DERIBIT_CLIENT_SECRET");
  if (!id && !secret) {
    log::get("sim")->info("deribit sim: built-in sim credentials (client id {})", sim.client_id);
    return true;
  }
  if (!id || !secret) {
    log::get("sim")->error(
        "deribit sim: set both of DERIBIT_CLIENT_ID, DERIBIT_CLIENT_SECRET or neither");
    return false;
  }
  sim.client_id = std::move(*id);
  sim.client_secret = std::move(*secret);
  log::get("sim")->info("deribit sim: credentials from DERIBIT_CLIENT_ID / DERIBIT_CLIENT_SECRET");
  return true;
}

// Like OkxSim::seed(): expiries evenly over (now, now + spread], labels seed001, seed002, ...
void seed_deribit(DeribitSim& deribit, std::size_t count, std::int64_t spread_ms) {
  const auto n = static_cast<std::int64_t>(count);
  for (std::int64_t i = 1; i <= n; ++i) {
    NewBlockRfq rfq;
    rfq.legs = {{i % 2 == 0 ? "ETH-PERPETUAL" : "BTC-PERPETUAL", i % 3 == 0 ? "sell" : "buy", 1}};
    rfq.currency = i % 2 == 0 ? "ETH" : "BTC";
    std::string digits = std::to_string(i);
    if (digits.size() < 3) digits.insert(0, 3 - digits.size(), '0');
    rfq.label = "seed" + digits;
    rfq.expires_in_ms = std::max<std::int64_t>(1, spread_ms * i / n);
    deribit.add_rfq(std::move(rfq));
  }
}

std::optional<std::uint16_t> listen(SimServer& server, std::uint16_t port, const char* venue) {
  try {
    return server.listen(port);
  } catch (const boost::system::system_error& e) {
    log::get("sim")->error("{} sim: cannot listen on 127.0.0.1:{}: {}", venue, port,
                           e.code().message());
    return std::nullopt;
  }
}

void print_ready_line(std::ostream& out, std::uint16_t okx_port,
                      std::optional<std::uint16_t> deribit_port, const StandaloneOptions& options) {
  boost::json::object line;
  line["okx_port"] = okx_port;
  line["seed_rfqs"] = options.seed_rfqs;
  line["journal"] = options.journal_path;
  if (deribit_port) line["deribit_port"] = *deribit_port;  // last: readers of the old line agree
  out << boost::json::serialize(line) << '\n';
  out.flush();
}

}  // namespace

int run_standalone(const StandaloneOptions& options, std::ostream& out) {
  auto logger = log::get("sim");
  OkxSimOptions okx_options;
  if (!resolve_credentials(okx_options)) return kConfigError;
  DeribitSimOptions deribit_options;
  if (options.deribit_port && !resolve_credentials(deribit_options)) return kConfigError;

  boost::asio::io_context io;
  RealClock clock(io);
  Journal journal;
  if (!options.journal_path.empty() && !journal.open_file(options.journal_path)) {
    logger->error("okx sim: cannot open journal file {}", options.journal_path);
    return kConfigError;
  }
  OkxSim okx(clock, journal, std::move(okx_options));
  okx.seed(options.seed_rfqs, options.seed_spread_ms, options.seed);
  SimServer server(io, okx);
  const auto okx_port = listen(server, options.okx_port, "okx");
  if (!okx_port) return kConfigError;

  // Declared after `server` and before `deribit_server`: each model outlives its server.
  std::unique_ptr<DeribitSim> deribit;
  std::unique_ptr<SimServer> deribit_server;
  std::optional<std::uint16_t> deribit_port;
  if (options.deribit_port) {
    deribit = std::make_unique<DeribitSim>(clock, journal, std::move(deribit_options));
    seed_deribit(*deribit, options.seed_rfqs, options.seed_spread_ms);
    deribit_server = std::make_unique<SimServer>(io, *deribit);
    deribit_port = listen(*deribit_server, *options.deribit_port, "deribit");
    if (!deribit_port) return kConfigError;
  }
  // Registered before the ready line, so a client that signals right after reading it is heard.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    logger->info("sim: signal {}, stopping", signo);
    server.stop();
    if (deribit_server) deribit_server->stop();
  });
  logger->info("okx sim: listening on 127.0.0.1:{}, {} seeded RFQs", *okx_port, options.seed_rfqs);
  if (deribit_port) {
    logger->info("deribit sim: listening on 127.0.0.1:{}, {} seeded block RFQs", *deribit_port,
                 options.seed_rfqs);
  }
  print_ready_line(out, *okx_port, deribit_port, options);
  io.run();
  return 0;
}

}  // namespace rfq::sim
