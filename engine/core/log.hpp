#pragma once
// Log facade: named spdlog loggers ("engine", "net", "venue.okx", "script", "sim").
// spdlog formats lazily (level checked before formatting). Secrets never reach a logger: the
// Secret type formats as "***".

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rfq::log {

struct Options {
  std::string level = "info";  // trace|debug|info|warn|error|critical|off
  bool json = false;           // one JSON object per line
  bool to_stderr = true;
};

// Applies to every logger, existing and future. Returns false for an unknown level name.
bool configure(const Options& options);

// The logger with this name, created on first use with the configured sink and level.
std::shared_ptr<spdlog::logger> get(std::string_view name);

// One log record as a capture keeps it: no time stamp, so a capture of a virtual-time run is
// reproducible.
struct Record {
  std::string logger;
  std::string level;  // trace|debug|info|warning|error|critical (spdlog's names)
  std::string message;
};

// While it lives, every logger (existing and future) also hands it each record at `level` or
// above, whatever the console's level (rfqd test shows a case's logs through s:logs()). At
// most one at a time; loop thread only.
class Capture {
 public:
  explicit Capture(std::string_view level = "debug");
  ~Capture();
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  const std::vector<Record>& records() const;
  void clear();

 private:
  struct Sink;
  std::shared_ptr<Sink> sink_;
};

}  // namespace rfq::log
