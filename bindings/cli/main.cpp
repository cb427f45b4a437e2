// rfqd: the standalone daemon. Subcommands: run, test, check, sim, ctl.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <iostream>

#include "bindings/cli/check_command.hpp"
#include "bindings/cli/control.hpp"
#include "bindings/cli/run_command.hpp"
#include "bindings/cli/test_command.hpp"
#include "engine/core/log.hpp"
#include "engine/sim/standalone.hpp"

int main(int argc, char** argv) {
  CLI::App app{"rfqd: cancel OKX and Deribit RFQs from Lua policies"};
  app.require_subcommand(1);
  std::string log_level = "info";
  bool log_json = false;

  rfq::cli::RunOptions run;
  auto* run_cmd = app.add_subcommand("run", "run the policies of a config against the venues");
  run_cmd->add_option("--config", run.config_path, "config file (Lua)");
  run_cmd->add_flag("--sim", run.sim, "start the embedded simulator and point every venue at it");
  run_cmd->add_option("--duration", run.duration_s, "stop cleanly after SECONDS")
      ->check(CLI::NonNegativeNumber);
  run_cmd->add_flag("--dry-run", run.dry_run,
                    "policies run on live data; every cancel decision is logged, counted and "
                    "audited, none is sent (results read ok with dry_run = true)");
  run_cmd->add_option("--log-level", log_level, "trace|debug|info|warn|error|off");
  run_cmd->add_flag("--log-json", log_json, "log one JSON object per line");
  run_cmd->footer(
      "Config keys of note: audit_log = \"FILE\" appends one JSON line per cancel request "
      "(policy, script hash, venue, ids, outcome, latency); cancel_on_exit = true runs "
      "cancel_all on every venue after SIGINT/SIGTERM or --duration, before exiting. "
      "Policies reload on file change (reload_on_change), SIGHUP or `rfqd ctl reload`; "
      "control_socket = \"PATH\" (or false) sets the socket of `rfqd ctl`. "
      "See docs/operations.md.");

  rfq::cli::TestOptions test;
  auto* test_cmd = app.add_subcommand(
      "test", "run scripted regression tests (require \"rfq.test\") in virtual time, TAP output");
  test_cmd->add_option("paths", test.paths,
                       "test files, or folders searched for *_test.lua (default: tests/lua)");
  test_cmd->add_option("--junit", test.junit, "also write JUnit XML to FILE");
  test_cmd->add_option("--seed", test.seed, "seed of the simulated world (same seed, same output)");
  test_cmd->add_option("--filter", test.filter, "run only cases whose 'file: name' contains TEXT");
  auto* test_log = test_cmd->add_option("--log-level", log_level,
                                        "host log on stderr (default off; s:logs() sees all)");

  rfq::cli::CheckOptions check;
  auto* check_cmd = app.add_subcommand(
      "check", "compile policies and run their main chunk in the sandbox, no venue needed");
  check_cmd->add_option("scripts", check.scripts, "policy files")->required();

  rfq::sim::StandaloneOptions sim;
  std::uint16_t deribit_port = 0;
  auto* sim_cmd = app.add_subcommand("sim", "serve the exchange simulator on 127.0.0.1");
  sim_cmd->add_option("--okx-port", sim.okx_port, "OKX REST and WebSocket port (0: any free port)");
  auto* deribit_opt = sim_cmd->add_option(
      "--deribit-port", deribit_port,
      "also serve Deribit (/api/v2/, /ws/api/v2) on this port (0: any free port)");
  sim_cmd->add_option("--seed-rfqs", sim.seed_rfqs,
                      "active RFQs to create at start (on each venue served)");
  sim_cmd->add_option("--seed-spread-ms", sim.seed_spread_ms,
                      "seeded RFQs expire evenly over this many ms");
  sim_cmd->add_option("--journal", sim.journal_path, "append every request as JSON lines here");
  sim_cmd->add_option("--log-level", log_level, "trace|debug|info|warn|error|off");

  rfq::cli::CtlOptions ctl;
  auto* ctl_cmd = app.add_subcommand(
      "ctl", "talk to a running rfqd over its control socket: status, reload, pause, resume");
  ctl_cmd->add_option("command", ctl.command, "status | reload | pause | resume")
      ->required()
      ->check(CLI::IsMember({"status", "reload", "pause", "resume"}));
  ctl_cmd->add_option("policy", ctl.policy, "one policy by name (default: every policy)");
  ctl_cmd->add_option("--socket", ctl.socket,
                      "the daemon's socket (default: control_socket of --config, else "
                      "$XDG_RUNTIME_DIR/rfqd.sock or /tmp/rfqd-UID/rfqd.sock)");
  ctl_cmd->add_option("--config", ctl.config_path, "read control_socket from this config");
  ctl_cmd->add_flag("--json", ctl.json, "print the daemon's answer as JSON");
  ctl_cmd->add_option("--timeout", ctl.timeout_s, "seconds to wait for the answer (default 10)")
      ->check(CLI::PositiveNumber);
  ctl_cmd->footer("Exit codes: 0 ok; 1 refused (unknown policy, a reload that failed: the old "
                  "version keeps serving); 2 usage, or no rfqd at the socket.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;  // usage errors exit 2, whatever CLI11's own numbering
  }
  if (*test_cmd && test_log->count() == 0) log_level = "off";
  if (!rfq::log::configure({log_level, log_json, true})) {
    std::cerr << "rfqd: --log-level: unknown level '" << log_level << "'\n";
    return 2;
  }
  if (*run_cmd) return rfq::cli::run_command(run);
  if (*test_cmd) return rfq::cli::test_command(test, std::cout, std::cerr);
  if (*ctl_cmd) return rfq::cli::ctl_command(ctl, std::cout, std::cerr);
  if (*check_cmd) return rfq::cli::check_command(check, std::cout, std::cerr);
  if (*sim_cmd) {
    if (deribit_opt->count() > 0) sim.deribit_port = deribit_port;
    return rfq::sim::run_standalone(sim, std::cout);
  }
  return 2;
}
