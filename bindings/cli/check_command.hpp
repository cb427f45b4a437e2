#pragma once
// rfqd check SCRIPT...: compiles each policy, runs its main chunk in the policy sandbox against a
// stub world (the real venues registered, never started, no network), and reports syntax
// errors, main chunk errors, unknown rfq.* names and forbidden globals with file:line, sorted by
// file then line. Exit 0 when every script is clean, 1 when there is a finding, 2 when a script
// cannot be read.

#include <iosfwd>
#include <string>
#include <vector>

namespace rfq::cli {

struct CheckOptions {
  std::vector<std::string> scripts;
};

int check_command(const CheckOptions& options, std::ostream& out, std::ostream& err);

}  // namespace rfq::cli
