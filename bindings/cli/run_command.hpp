#pragma once
// `rfqd run`: load the config, start the venues (or the embedded simulator with --sim), run
// the policies until --duration or SIGINT/SIGTERM, print the summary.

#include <string>

namespace rfq::cli {

struct RunOptions {
  std::string config_path;
  bool sim = false;
  double duration_s = 0;  // 0: until a signal
};

// Exit code: 0 ok, 2 usage/config/policy start-up error.
int run_command(const RunOptions& opts);

}  // namespace rfq::cli
