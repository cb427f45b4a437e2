#pragma once
// rfqd test [PATH...]: runs scripted regression tests (require "rfq.test") against the
// in-process simulated venues in virtual time. TAP on stdout, optional JUnit XML, exit 1 when a
// case fails, 2 for usage errors (a path that does not exist, an unwritable --junit file).

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace rfq::cli {

struct TestOptions {
  std::vector<std::string> paths;  // files, or folders searched for *_test.lua; none: tests/lua
  std::string junit;               // write JUnit XML here too
  std::uint64_t seed = 1;          // same files + same seed -> byte-identical output
  std::string filter;              // run only cases whose "file: name" contains this text
};

int test_command(const TestOptions& options, std::ostream& out, std::ostream& err);

}  // namespace rfq::cli
