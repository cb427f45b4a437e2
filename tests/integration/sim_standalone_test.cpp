// run_standalone (`rfqd sim`): the ready line, credentials from the environment or built in,
// the journal file, configuration errors, a clean exit on SIGINT/SIGTERM, and Deribit on its
// own port (--deribit-port).

#include <signal.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/auth/okx_signer.hpp"
#include "engine/sim/deribit_sim.hpp"
#include "engine/sim/okx_sim.hpp"
#include "engine/sim/standalone.hpp"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace json = boost::json;
using namespace rfq::sim;

// Sets (or unsets, with nullopt) environment variables for one test and restores them after.
class EnvGuard {
 public:
  void set(const std::string& name, std::optional<std::string> value) {
    const char* old = std::getenv(name.c_str());
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    apply(name, value);
  }
  ~EnvGuard() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) apply(it->first, it->second);
  }

 private:
  static void apply(const std::string& name, const std::optional<std::string>& value) {
    if (value) {
      ::setenv(name.c_str(), value->c_str(), 1);
    } else {
      ::unsetenv(name.c_str());
    }
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

void set_okx_env(EnvGuard& env, std::optional<std::string> key, std::optional<std::string> secret,
                 std::optional<std::string> passphrase) {
  env.set("OKX_API_KEY", std::move(key));
  env.set("OKX_SECRET_KEY", std::move(secret));
  env.set("OKX_PASSPHRASE", std::move(passphrase));
  for (const char* file_var : {"OKX_API_KEY_FILE", "OKX_SECRET_KEY_FILE", "OKX_PASSPHRASE_FILE"}) {
    env.set(file_var, std::nullopt);
  }
}

// The sim's `out`: wakes the test when the ready line is flushed (or the sim has returned).
class ReadyLine : public std::stringbuf {
 public:
  std::string wait() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return flushed_ || finished_; });
    return str();
  }
  void finish() {
    std::lock_guard lock(mutex_);
    finished_ = true;
    ready_.notify_all();
  }
  bool flushed() {
    std::lock_guard lock(mutex_);
    return flushed_;
  }

 protected:
  int sync() override {
    std::lock_guard lock(mutex_);
    flushed_ = true;
    ready_.notify_all();
    return 0;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  bool flushed_ = false;
  bool finished_ = false;
};

// run_standalone on its own thread. Only a sim that printed its ready line has its signal
// handler installed, so only such a sim is signalled; the thread is always joined.
class StandaloneRun {
 public:
  explicit StandaloneRun(StandaloneOptions options)
      : thread_([this, options] {
          rc_ = run_standalone(options, out_);
          ready_.finish();
        }) {}
  ~StandaloneRun() { stop(SIGTERM); }

  std::string ready_line() { return ready_.wait(); }

  int stop(int signal_number) {
    if (thread_.joinable()) {
      if (ready_.flushed()) ::kill(::getpid(), signal_number);
      thread_.join();
    }
    return rc_;
  }

 private:
  ReadyLine ready_;
  std::ostream out_{&ready_};
  int rc_ = -1;
  std::thread thread_;
};

struct Creds {
  std::string key, secret, passphrase;
};

http::response<http::string_body> get_rfqs(std::uint16_t port, const Creds& creds) {
  using namespace std::chrono;
  const std::string target = "/api/v5/rfq/rfqs";
  const auto now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  const auto ts = rfq::auth::okx_timestamp(now);
  http::request<http::string_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set("OK-ACCESS-KEY", creds.key);
  req.set("OK-ACCESS-SIGN",
          rfq::auth::okx_sign(creds.secret, rfq::auth::okx_prehash(ts, "GET", target, "")));
  req.set("OK-ACCESS-TIMESTAMP", ts);
  req.set("OK-ACCESS-PASSPHRASE", creds.passphrase);
  net::io_context io;
  beast::tcp_stream stream(io);
  stream.connect({net::ip::address_v4::loopback(), port});
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  return res;
}

void set_deribit_env(EnvGuard& env, std::optional<std::string> id,
                     std::optional<std::string> secret) {
  env.set("DERIBIT_CLIENT_ID", std::move(id));
  env.set("DERIBIT_CLIENT_SECRET", std::move(secret));
  env.set("DERIBIT_CLIENT_ID_FILE", std::nullopt);
  env.set("DERIBIT_CLIENT_SECRET_FILE", std::nullopt);
}

// One plain request on a fresh connection.
http::response<http::string_body> send(std::uint16_t port, http::verb verb,
                                       const std::string& target, const std::string& body = "",
                                       const std::string& authorization = "") {
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!authorization.empty()) req.set(http::field::authorization, authorization);
  req.body() = body;
  req.prepare_payload();
  net::io_context io;
  beast::tcp_stream stream(io);
  stream.connect({net::ip::address_v4::loopback(), port});
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  return res;
}

std::filesystem::path temp_journal() {
  return std::filesystem::temp_directory_path() /
         ("rfqd-sim-standalone-" + std::to_string(::getpid()) + ".jsonl");
}

}  // namespace

TEST_CASE("sim standalone: ready line, signed requests, journal file, exit 0 on a signal",
          "[sim][okx][standalone]") {
  EnvGuard env;
  Creds creds;
  int signal_number = SIGTERM;
  SECTION("credentials from OKX_API_KEY / OKX_SECRET_KEY / OKX_PASSPHRASE, SIGTERM") {
    creds = {"it-key", "it-secret", "it-passphrase"};
    set_okx_env(env, creds.key, creds.secret, creds.passphrase);
  }
  SECTION("built-in sim credentials when none is set, SIGINT") {
    creds = {std::string(kSimApiKey), std::string(kSimSecret), std::string(kSimPassphrase)};
    set_okx_env(env, std::nullopt, std::nullopt, std::nullopt);
    signal_number = SIGINT;
  }
  const auto journal = temp_journal();
  StandaloneOptions options;
  options.seed_rfqs = 3;
  options.journal_path = journal.string();

  StandaloneRun sim(options);
  const auto line = sim.ready_line();
  REQUIRE_FALSE(line.empty());
  CHECK(line.back() == '\n');
  const auto ready_obj = json::parse(line).as_object();
  const auto port = static_cast<std::uint16_t>(ready_obj.at("okx_port").as_int64());
  CHECK(port != 0);
  CHECK(ready_obj.at("seed_rfqs").as_int64() == 3);
  CHECK(ready_obj.at("journal").as_string() == journal.string());
  CHECK_FALSE(ready_obj.contains("deribit_port"));  // no --deribit-port, no Deribit

  const auto ok = get_rfqs(port, creds);
  const auto wrong_key = get_rfqs(port, {"someone-else", creds.secret, creds.passphrase});

  CHECK(sim.stop(signal_number) == 0);

  CHECK(ok.result_int() == 200);
  const auto body = json::parse(ok.body()).as_object();
  CHECK(body.at("data").as_array().size() == 3);
  CHECK(wrong_key.result_int() == 401);

  std::ifstream in(journal);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  CHECK(lines.size() == 2);
  std::filesystem::remove(journal);
}

TEST_CASE("sim standalone: a partial set of OKX_* variables is a configuration error",
          "[sim][okx][standalone]") {
  EnvGuard env;
  set_okx_env(env, "it-key", std::nullopt, "it-passphrase");
  std::ostringstream out;
  CHECK(run_standalone(StandaloneOptions{}, out) == 2);
  CHECK(out.str().empty());
}

TEST_CASE("sim standalone: a journal path that cannot be written is a configuration error",
          "[sim][okx][standalone]") {
  EnvGuard env;
  set_okx_env(env, std::nullopt, std::nullopt, std::nullopt);
  StandaloneOptions options;
  options.journal_path = "/nonexistent-dir/rfqd/journal.jsonl";
  std::ostringstream out;
  CHECK(run_standalone(options, out) == 2);
  CHECK(out.str().empty());
}

TEST_CASE("sim standalone: --deribit-port serves a seeded Deribit on its own port, one journal",
          "[sim][deribit][standalone]") {
  EnvGuard env;
  set_okx_env(env, std::nullopt, std::nullopt, std::nullopt);
  std::string id(kDeribitSimClientId);
  std::string secret(kDeribitSimClientSecret);
  SECTION("built-in Deribit credentials when none is set") {
    set_deribit_env(env, std::nullopt, std::nullopt);
  }
  SECTION("credentials from DERIBIT_CLIENT_ID / DERIBIT_CLIENT_SECRET") {
    id = "it-deribit-id";
    secret = "it-deribit-secret";
    set_deribit_env(env, id, secret);
  }
  const auto journal = temp_journal();
  StandaloneOptions options;
  options.seed_rfqs = 2;
  options.deribit_port = 0;
  options.journal_path = journal.string();

  StandaloneRun sim(options);
  const auto line = sim.ready_line();
  REQUIRE_FALSE(line.empty());
  const auto ready_obj = json::parse(line).as_object();
  CHECK(line.starts_with(R"({"okx_port":)"));  // what `sed` in cli_test.sh relies on
  const auto okx_port = static_cast<std::uint16_t>(ready_obj.at("okx_port").as_int64());
  const auto deribit_port = static_cast<std::uint16_t>(ready_obj.at("deribit_port").as_int64());
  CHECK(deribit_port != 0);
  CHECK(deribit_port != okx_port);

  const auto auth = send(deribit_port, http::verb::get,
                         "/api/v2/public/auth?grant_type=client_credentials&client_id=" + id +
                             "&client_secret=" + secret);
  const auto token =
      std::string(json::parse(auth.body()).at("result").at("access_token").as_string());
  const auto listed =
      send(deribit_port, http::verb::get, "/api/v2/private/get_block_rfqs", "", "Bearer " + token);
  const auto created = send(deribit_port, http::verb::post, "/sim/deribit/rfqs", R"({"count":1})");
  const auto okx_on_deribit = send(deribit_port, http::verb::get, "/api/v5/public/time");
  const auto okx_time = send(okx_port, http::verb::get, "/api/v5/public/time");

  CHECK(sim.stop(SIGTERM) == 0);

  CHECK(auth.result_int() == 200);
  REQUIRE(listed.result_int() == 200);
  const auto rfqs = json::parse(listed.body()).at("result").at("block_rfqs").as_array();
  REQUIRE(rfqs.size() == 2);
  CHECK(rfqs[0].at("state").as_string() == "open");
  CHECK(created.result_int() == 200);
  CHECK(okx_on_deribit.result_int() == 404);  // the Deribit port is Deribit's alone
  CHECK(okx_time.result_int() == 200);

  std::ifstream in(journal);
  std::vector<std::string> venues;
  bool secret_seen = false;
  for (std::string l; std::getline(in, l);) {
    venues.emplace_back(json::parse(l).at("venue").as_string());
    secret_seen = secret_seen || l.find(secret) != std::string::npos;
  }
  CHECK(venues == std::vector<std::string>{"deribit", "deribit", "sim", "deribit", "okx"});
  CHECK_FALSE(secret_seen);  // the auth query's client_secret is journaled as "***"
  std::filesystem::remove(journal);
}

TEST_CASE(
    "sim standalone: one of DERIBIT_CLIENT_ID / DERIBIT_CLIENT_SECRET is an error only "
    "with --deribit-port",
    "[sim][deribit][standalone]") {
  EnvGuard env;
  set_okx_env(env, std::nullopt, std::nullopt, std::nullopt);
  set_deribit_env(env, "it-deribit-id", std::nullopt);
  StandaloneOptions options;
  options.deribit_port = 0;
  std::ostringstream out;
  CHECK(run_standalone(options, out) == 2);
  CHECK(out.str().empty());

  StandaloneRun without_deribit(StandaloneOptions{});
  CHECK_FALSE(without_deribit.ready_line().empty());
  CHECK(without_deribit.stop(SIGTERM) == 0);
}
