#include "engine/core/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <mutex>

namespace rfq::log {
namespace {

struct State {
  std::mutex mutex;
  Options options;
  spdlog::sink_ptr sink;
};

State& state() {
  static State s;
  return s;
}

spdlog::sink_ptr make_sink(const Options& o) {
  spdlog::sink_ptr sink;
  if (o.to_stderr) {
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  } else {
    sink = std::make_shared<spdlog::sinks::stdout_color_sink_mt>();
  }
  if (o.json) {
    sink->set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","logger":"%n","msg":"%v"})");
  } else {
    sink->set_pattern("%H:%M:%S.%e %^%-5l%$ [%n] %v");
  }
  return sink;
}

}  // namespace

bool configure(const Options& options) {
  auto level = spdlog::level::from_str(options.level);
  if (level == spdlog::level::off && options.level != "off") return false;
  auto& s = state();
  std::lock_guard lock(s.mutex);
  s.options = options;
  s.sink = make_sink(options);
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) {
    l->sinks().clear();
    l->sinks().push_back(s.sink);
    l->set_level(level);
  });
  spdlog::set_level(level);
  return true;
}

std::shared_ptr<spdlog::logger> get(std::string_view name) {
  std::string key(name);
  if (auto existing = spdlog::get(key)) return existing;
  auto& s = state();
  std::lock_guard lock(s.mutex);
  if (auto existing = spdlog::get(key)) return existing;
  if (!s.sink) s.sink = make_sink(s.options);
  auto logger = std::make_shared<spdlog::logger>(key, s.sink);
  logger->set_level(spdlog::level::from_str(s.options.level));
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace rfq::log
