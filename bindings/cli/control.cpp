#include "bindings/cli/control.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "bindings/cli/config.hpp"
#include "engine/core/error.hpp"

namespace rfq::cli {

namespace asio = boost::asio;
namespace json = boost::json;
using local = asio::local::stream_protocol;

constexpr std::size_t kMaxRequest = 64 * 1024;

std::string default_control_socket() {
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/rfqd.sock";
  }
  return "/tmp/rfqd-" + std::to_string(::getuid()) + "/rfqd.sock";
}

namespace {

// The folder of the default path under /tmp is ours alone: made 0700, and refused when it
// belongs to somebody else or others may write into it.
bool private_folder(const std::string& dir, bool create, std::string& error) {
  if (create && ::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    error = dir + ": " + std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    error = dir + ": " + (errno == ENOENT ? "no such folder" : "not a folder");
    return false;
  }
  if (st.st_uid != ::geteuid() || (st.st_mode & 0077) != 0) {
    error = dir + ": must belong to this user with mode 0700";
    return false;
  }
  return true;
}

bool fits(const std::string& path, std::string& error) {
  if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    error = path + ": path too long for a Unix socket (at most " +
            std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes)";
    return false;
  }
  return true;
}

// The default path under /tmp lives in a folder only this user may use.
bool default_under_tmp(const std::string& path) {
  return path == default_control_socket() && path.rfind("/tmp/", 0) == 0;
}

}  // namespace

struct ControlServer::Impl {
  Impl(asio::io_context& io, Handler h) : io(io), acceptor(io), handler(std::move(h)) {}
  asio::io_context& io;
  local::acceptor acceptor;
  Handler handler;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
  ino_t inode = 0;  // of the socket file we bound: close() removes only that one
  dev_t device = 0;
};

namespace {

constexpr auto kRequestDeadline = std::chrono::seconds(10);  // to send the request line

// One connection: read a line, answer it, close. A client that sends nothing is dropped after
// kRequestDeadline.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(local::socket socket, ControlServer::Handler& handler, std::shared_ptr<bool> alive)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        handler_(handler),
        alive_(std::move(alive)),
        buf_(kMaxRequest) {}

  void run() {
    timer_.expires_after(kRequestDeadline);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec) return;  // the request came
      boost::system::error_code ignored;
      self->socket_.close(ignored);
    });
    asio::async_read_until(socket_, buf_, '\n',
                           [self = shared_from_this()](boost::system::error_code ec,
                                                       std::size_t n) { self->on_line(ec, n); });
  }

 private:
  void on_line(boost::system::error_code ec, std::size_t n) {
    timer_.cancel();
    if (ec && !(ec == asio::error::eof && buf_.size() > 0)) {
      if (ec == asio::error::not_found) return answer(failure("request longer than 64 KiB"));
      return;  // the peer went away
    }
    const auto begin = asio::buffers_begin(buf_.data());
    std::string line(begin, begin + static_cast<std::ptrdiff_t>(n ? n : buf_.size()));
    boost::system::error_code jec;
    json::value v = json::parse(line, jec);
    if (jec || !v.is_object()) return answer(failure("request is not a JSON object"));
    if (!*alive_) return;
    handler_(v.as_object(),
             [self = shared_from_this()](json::object reply) { self->answer(std::move(reply)); });
  }

  static json::object failure(const std::string& message) {
    return {{"ok", false}, {"error", message}};
  }

  void answer(json::object reply) {
    out_ = json::serialize(reply) + "\n";
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](boost::system::error_code, std::size_t) {
                        boost::system::error_code ignored;
                        self->socket_.shutdown(local::socket::shutdown_both, ignored);
                      });
  }

  local::socket socket_;
  asio::steady_timer timer_;
  ControlServer::Handler& handler_;
  std::shared_ptr<bool> alive_;
  asio::streambuf buf_;
  std::string out_;
};

}  // namespace

ControlServer::ControlServer(asio::io_context& io, Handler handler)
    : impl_(std::make_unique<Impl>(io, std::move(handler))) {}

ControlServer::~ControlServer() { close(); }

bool ControlServer::listen(const std::string& path, std::string& error) {
  if (!fits(path, error)) return false;
  const auto dir = std::filesystem::path(path).parent_path();
  if (default_under_tmp(path) && !private_folder(dir.string(), true, error)) return false;
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      error = path + ": exists and is not a socket";
      return false;
    }
    local::socket probe(impl_->io);
    boost::system::error_code ec;
    probe.connect(local::endpoint(path), ec);
    if (!ec) {
      error = path + ": another rfqd is listening there";
      return false;
    }
    ::unlink(path.c_str());  // stale: left by a process that is gone
  }
  boost::system::error_code ec;
  impl_->acceptor.open(local(), ec);
  // Owner-only from the moment it exists: no window where others could connect.
  const mode_t old_mask = ::umask(0177);
  if (!ec) impl_->acceptor.bind(local::endpoint(path), ec);
  ::umask(old_mask);
  if (!ec) {
    ::chmod(path.c_str(), 0600);
    struct stat bound {};
    if (::lstat(path.c_str(), &bound) == 0) {
      impl_->inode = bound.st_ino;
      impl_->device = bound.st_dev;
    }
  }
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error = path + ": " + ec.message();
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    return false;
  }
  path_ = path;
  accept();
  return true;
}

void ControlServer::accept() {
  impl_->acceptor.async_accept(
      [this, alive = impl_->alive](boost::system::error_code ec, local::socket socket) {
        if (!*alive || ec == asio::error::operation_aborted) return;
        if (!ec) {
          // Only this user (or root) may talk to the daemon, whatever the file's mode says.
          ucred cred{};
          socklen_t len = sizeof cred;
          if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
              (cred.uid == ::geteuid() || cred.uid == 0)) {
            std::make_shared<Session>(std::move(socket), impl_->handler, impl_->alive)->run();
          }
        }
        accept();
      });
}

void ControlServer::close() {
  if (!impl_) return;
  *impl_->alive = false;
  impl_->alive = std::make_shared<bool>(true);
  boost::system::error_code ignored;
  if (impl_->acceptor.is_open()) impl_->acceptor.close(ignored);
  // Only our own socket file: another daemon may have replaced it since.
  struct stat st {};
  if (!path_.empty() && ::lstat(path_.c_str(), &st) == 0 && st.st_ino == impl_->inode &&
      st.st_dev == impl_->device) {
    ::unlink(path_.c_str());
  }
  path_.clear();
}

// ---- the client: rfqd ctl ------------------------------------------------------------------

namespace {

std::string text(const json::value* v) {
  if (v == nullptr || v->is_null()) return "-";
  if (v->is_string()) return std::string(v->get_string());
  return json::serialize(*v);
}

std::int64_t integer(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_int64()    ? v->get_int64()
         : v && v->is_uint64() ? static_cast<std::int64_t>(v->get_uint64())
                               : 0;
}

std::string utc(std::int64_t ms) {
  if (ms <= 0) return "-";
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void print_status(const json::object& r, std::ostream& out) {
  out << "rfqd pid " << integer(r, "pid") << ", up " << integer(r, "uptime_s") << " s"
      << (r.contains("dry_run") && r.at("dry_run").as_bool() ? ", DRY RUN" : "") << ", "
      << integer(r, "in_flight") << " cancel(s) in flight\n";
  if (const auto* ps = r.if_contains("policies"); ps && ps->is_array()) {
    for (const auto& pv : ps->as_array()) {
      const auto& p = pv.as_object();
      out << "policy " << text(p.if_contains("name")) << "  " << text(p.if_contains("state"))
          << "  version " << text(p.if_contains("version")) << "\n";
      out << "  script         " << text(p.if_contains("script")) << "\n";
      out << "  loaded at      " << utc(integer(p, "loaded_at_ms")) << "  (reloads "
          << integer(p, "reloads") << ", refused " << integer(p, "reload_failures") << ")\n";
      auto err = [&](const char* label, const char* key) {
        const auto* e = p.if_contains(key);
        if (e == nullptr || !e->is_object()) {
          out << label << "-\n";
          return;
        }
        std::string msg = text(e->as_object().if_contains("message"));
        if (auto nl = msg.find('\n'); nl != std::string::npos) msg = msg.substr(0, nl) + " ...";
        out << label << utc(integer(e->as_object(), "at_ms")) << "  " << msg << "\n";
      };
      err("  last error     ", "last_error");
      err("  reload refused ", "last_reload_error");
      if (const auto* c = p.if_contains("counters"); c && c->is_object()) {
        const auto& co = c->as_object();
        out << "  counters       tasks " << integer(co, "tasks_started") << " ("
            << integer(co, "tasks_live") << " live), errors " << integer(co, "errors")
            << ", timers " << integer(co, "timers") << ", handlers " << integer(co, "handlers")
            << ", skipped ticks " << integer(co, "skipped_ticks") << ", dropped events "
            << integer(co, "dropped_events") << ", memory " << integer(co, "memory_bytes") / 1024
            << " KiB\n";
      }
    }
  }
  if (const auto* vs = r.if_contains("venues"); vs && vs->is_array()) {
    for (const auto& vv : vs->as_array()) {
      const auto& v = vv.as_object();
      out << "venue " << text(v.if_contains("name")) << "  " << text(v.if_contains("connection"))
          << "\n";
      if (const auto* b = v.if_contains("budget"); b && b->is_array()) {
        for (const auto& lv : b->as_array()) {
          const auto& l = lv.as_object();
          char line[160];
          std::snprintf(line, sizeof line, "  %-20s %lld/%lld free per %lld ms, %lld queued\n",
                        text(l.if_contains("endpoint")).c_str(),
                        static_cast<long long>(integer(l, "remaining")),
                        static_cast<long long>(integer(l, "limit")),
                        static_cast<long long>(integer(l, "window_ms")),
                        static_cast<long long>(integer(l, "queued")));
          out << line;
        }
      }
    }
  }
}

}  // namespace

int ctl_command(const CtlOptions& opts, std::ostream& out, std::ostream& err) {
  std::string path = opts.socket;
  if (path.empty() && !opts.config_path.empty()) {
    try {
      Config cfg = load_config(opts.config_path);
      if (!cfg.control) {
        err << "rfqd ctl: config " << opts.config_path
            << ": key 'control_socket': the control socket is turned off\n";
        return 2;
      }
      path = cfg.control_socket;
    } catch (const ConfigError& e) {
      err << "rfqd ctl: " << e.what() << "\n";
      return 2;
    }
  }
  if (path.empty()) path = default_control_socket();
  std::string error;
  if (!fits(path, error) ||
      (default_under_tmp(path) &&
       !private_folder(std::filesystem::path(path).parent_path().string(), false, error))) {
    err << "rfqd ctl: " << error << "\n";
    return 2;
  }

  json::object request{{"command", opts.command}};
  if (!opts.policy.empty()) request["policy"] = opts.policy;
  const std::string line = json::serialize(request) + "\n";

  asio::io_context io;
  local::socket socket(io);
  boost::system::error_code ec;
  socket.connect(local::endpoint(path), ec);
  if (ec) {
    err << "rfqd ctl: no rfqd at " << path << ": " << ec.message() << "\n";
    return 2;
  }
  // Whoever listens there must be this user (or root): never act on another user's answer.
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
      (cred.uid != ::geteuid() && cred.uid != 0)) {
    err << "rfqd ctl: " << path << ": the process listening there belongs to another user\n";
    return 2;
  }
  asio::write(socket, asio::buffer(line), ec);
  // The answer may take a while (a reload runs the new main chunk), but not forever: each
  // read waits in poll() for what is left of the timeout.
  std::string answer;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(opts.timeout_s));
  while (!ec && answer.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd pfd{socket.native_handle(), POLLIN, 0};
    const int n = left.count() > 0 ? ::poll(&pfd, 1, static_cast<int>(left.count())) : 0;
    if (n == 0) {
      err << "rfqd ctl: " << path << ": no answer within " << opts.timeout_s << " s\n";
      return 2;
    }
    if (n < 0 && errno == EINTR) continue;
    char chunk[4096];
    const std::size_t got = socket.read_some(asio::buffer(chunk), ec);
    answer.append(chunk, got);
    if (ec == asio::error::eof && !answer.empty()) ec = {};
    if (ec == asio::error::eof || answer.size() > (4u << 20)) break;
  }
  if (ec) {
    err << "rfqd ctl: " << path << ": " << ec.message() << "\n";
    return 2;
  }
  boost::system::error_code jec;
  json::value v = json::parse(answer, jec);
  if (jec || !v.is_object()) {
    err << "rfqd ctl: the daemon's answer is not a JSON object\n";
    return 2;
  }
  const auto& r = v.as_object();
  const bool ok = r.contains("ok") && r.at("ok").is_bool() && r.at("ok").as_bool();
  if (opts.json) {
    out << json::serialize(r) << "\n";
  } else if (!ok && r.contains("error")) {
    err << "rfqd ctl " << opts.command << ": " << text(r.if_contains("error")) << "\n";
  } else if (opts.command == "status") {
    print_status(r, out);
  } else if (const auto* rs = r.if_contains("results"); rs && rs->is_array()) {
    for (const auto& xv : rs->as_array()) {
      const auto& x = xv.as_object();
      const bool xok = x.contains("ok") && x.at("ok").as_bool();
      out << opts.command << " " << text(x.if_contains("policy")) << ": "
          << (xok ? "ok" : "REFUSED");
      if (x.contains("version")) out << ", version " << text(x.if_contains("version"));
      if (x.contains("took_us"))
        out << (xok ? " live in " : " after ") << integer(x, "took_us") << " us";
      if (!xok && x.contains("error")) out << "\n  " << text(x.if_contains("error"));
      if (!xok && x.contains("version")) out << "\n  the version above keeps serving";
      out << "\n";
    }
  }
  return ok ? 0 : 1;
}

}  // namespace rfq::cli
