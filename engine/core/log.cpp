#include "engine/core/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <mutex>

namespace rfq::log {
namespace {

// %* in the JSON pattern: the message as a JSON string body (quotes, backslashes and control
// characters escaped), so multi-line tracebacks stay one valid JSON line.
class JsonEscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    static constexpr char kHex[] = "0123456789abcdef";
    for (char c : msg.payload) {
      switch (c) {
        case '"': dest.append(std::string_view("\\\"")); break;
        case '\\': dest.append(std::string_view("\\\\")); break;
        case '\n': dest.append(std::string_view("\\n")); break;
        case '\r': dest.append(std::string_view("\\r")); break;
        case '\t': dest.append(std::string_view("\\t")); break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            const char esc[] = {'\\', 'u', '0', '0', kHex[(c >> 4) & 0xf], kHex[c & 0xf]};
            dest.append(esc, esc + sizeof esc);
          } else {
            dest.push_back(c);
          }
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonEscapedMessage>();
  }
};

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
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<JsonEscapedMessage>('*').set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","logger":"%n","msg":"%*"})");
    sink->set_formatter(std::move(formatter));
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
