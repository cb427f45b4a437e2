#pragma once
// `rfqd run`: load the config, start the venues (or the embedded simulator with --sim), run
// the policies until --duration or SIGINT/SIGTERM, print the summary. Optional: an audit log
// of every cancel request (config audit_log), dry run (--dry-run: nothing is sent), and a
// cancel_all on every venue at exit (config cancel_on_exit).

#include <string>

namespace rfq::cli {

struct RunOptions {
  std::string config_path;
  bool sim = false;
  double duration_s = 0;  // 0: until a signal
  bool dry_run = false;    // policies run on live data; nothing is sent to any venue
};

// Exit code: 0 ok, 2 usage/config/policy start-up error.
int run_command(const RunOptions& opts);

}  // namespace rfq::cli
