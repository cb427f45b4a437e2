#pragma once
// Log facade: named spdlog loggers ("engine", "net", "venue.okx", "script", "sim").
// spdlog formats lazily (level checked before formatting). Secrets never reach a logger: the
// Secret type formats as "***".

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <string_view>

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

}  // namespace rfq::log
