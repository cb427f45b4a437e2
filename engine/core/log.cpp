#include "engine/core/log.hpp"

#include <spdlog/details/null_mutex.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <algorithm>
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
  spdlog::sink_ptr capture;  // a live Capture's sink, or null
  spdlog::level::level_enum capture_level = spdlog::level::off;
};

// A logger passes a record on when the console or a capture wants it; each sink filters again.
spdlog::level::level_enum logger_level(const State& s) {
  const auto console = spdlog::level::from_str(s.options.level);
  return s.capture ? std::min(console, s.capture_level) : console;
}

void attach(const State& s, spdlog::logger& l) {
  l.sinks().clear();
  l.sinks().push_back(s.sink);
  if (s.capture) l.sinks().push_back(s.capture);
  l.set_level(logger_level(s));
}

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
  s.sink->set_level(level);
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) { attach(s, *l); });
  return true;
}

std::shared_ptr<spdlog::logger> get(std::string_view name) {
  std::string key(name);
  if (auto existing = spdlog::get(key)) return existing;
  auto& s = state();
  std::lock_guard lock(s.mutex);
  if (auto existing = spdlog::get(key)) return existing;
  if (!s.sink) {
    s.sink = make_sink(s.options);
    s.sink->set_level(spdlog::level::from_str(s.options.level));
  }
  auto logger = std::make_shared<spdlog::logger>(key);
  attach(s, *logger);
  spdlog::register_logger(logger);
  return logger;
}

struct Capture::Sink final : spdlog::sinks::base_sink<spdlog::details::null_mutex> {
  std::vector<Record> records;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const auto level = spdlog::level::to_string_view(msg.level);
    records.push_back({std::string(msg.logger_name.data(), msg.logger_name.size()),
                       std::string(level.data(), level.size()),
                       std::string(msg.payload.data(), msg.payload.size())});
  }
  void flush_() override {}
};

Capture::Capture(std::string_view level) : sink_(std::make_shared<Sink>()) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  if (!s.sink) {
    s.sink = make_sink(s.options);
    s.sink->set_level(spdlog::level::from_str(s.options.level));
  }
  s.capture_level = spdlog::level::from_str(std::string(level));
  sink_->set_level(s.capture_level);
  s.capture = sink_;
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) { attach(s, *l); });
}

Capture::~Capture() {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  if (s.capture == sink_) s.capture.reset();
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) { attach(s, *l); });
}

const std::vector<Record>& Capture::records() const { return sink_->records; }
void Capture::clear() { sink_->records.clear(); }

}  // namespace rfq::log
