#pragma once
// `rfqd ctl`: a local Unix stream socket, owner-only (mode 0600, and peers of another user are
// refused by their credentials). One request per connection, one JSON object per line each
// way:  {"command":"status"|"reload"|"pause"|"resume", "policy":"NAME"?}  ->  {"ok":true,...}
// or {"ok":false,"error":"..."}.

#include <boost/json/object.hpp>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/unique_function.hpp"

namespace boost::asio {
class io_context;
}

namespace rfq::cli {

// $XDG_RUNTIME_DIR/rfqd.sock, else /tmp/rfqd-UID/rfqd.sock (the folder made 0700).
std::string default_control_socket();

class ControlServer {
 public:
  using Reply = UniqueFunction<void(boost::json::object)>;
  using Handler = std::function<void(const boost::json::object& request, Reply reply)>;

  ControlServer(boost::asio::io_context& io, Handler handler);
  ~ControlServer();  // closes and removes the socket file
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Binds and listens. False with the reason when the path is unusable, or when a live rfqd
  // already answers there (a stale socket file is replaced).
  bool listen(const std::string& path, std::string& error);
  void close();
  const std::string& path() const { return path_; }

 private:
  struct Impl;
  void accept();
  std::unique_ptr<Impl> impl_;
  std::string path_;
};

struct CtlOptions {
  std::string command;  // status | reload | pause | resume
  std::string policy;   // "" = every policy
  std::string socket;   // "" = from --config, else the default
  std::string config_path;
  bool json = false;  // print the daemon's answer as it came
  double timeout_s = 10;
};

// Exit code: 0 ok; 1 the daemon refused or the operation failed (unknown policy, a reload
// refused); 2 usage, no daemon at the socket, or no answer in time.
int ctl_command(const CtlOptions& opts, std::ostream& out, std::ostream& err);

}  // namespace rfq::cli
