#include "engine/core/file_watch.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace rfq {

namespace fs = std::filesystem;

struct FileWatch::Impl {
  explicit Impl(boost::asio::io_context& io) : fd(io) {}
  boost::asio::posix::stream_descriptor fd;
  std::map<int, std::string> dirs;                       // watch descriptor -> folder
  std::map<std::string, std::set<std::string>> by_dir;   // folder -> file names -> ...
  std::map<std::string, std::string> reported_as;        // folder/name -> path as given
  std::vector<char> buffer = std::vector<char>(64 * 1024);
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

FileWatch::FileWatch(boost::asio::io_context& io, Changed changed)
    : impl_(std::make_unique<Impl>(io)), changed_(std::move(changed)) {}

FileWatch::~FileWatch() {
  *impl_->alive = false;
  boost::system::error_code ec;
  impl_->fd.close(ec);
}

bool FileWatch::watch(const std::set<std::string>& paths, std::string& error) {
  if (!impl_->fd.is_open()) {
    const int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
      error = std::string("inotify: ") + std::strerror(errno);
      return false;
    }
    impl_->fd.assign(fd);
    read();
  }
  const int fd = impl_->fd.native_handle();
  for (const auto& [wd, dir] : impl_->dirs) inotify_rm_watch(fd, wd);
  impl_->dirs.clear();
  impl_->by_dir.clear();
  impl_->reported_as.clear();
  paths_ = paths;
  bool ok = true;
  for (const auto& p : paths) {
    std::error_code ec;
    fs::path abs = fs::absolute(p, ec);
    if (ec) abs = p;
    const std::string dir = abs.parent_path().string();
    const std::string name = abs.filename().string();
    impl_->by_dir[dir].insert(name);
    impl_->reported_as[dir + "/" + name] = p;
  }
  for (const auto& [dir, names] : impl_->by_dir) {
    const int wd = inotify_add_watch(fd, dir.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR);
    if (wd < 0) {
      error += (error.empty() ? "" : "; ") + dir + ": " + std::strerror(errno);
      ok = false;
      continue;
    }
    impl_->dirs[wd] = dir;
  }
  return ok;
}

void FileWatch::read() {
  impl_->fd.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                       [this, alive = impl_->alive](const boost::system::error_code& ec) {
    if (ec || !*alive) return;
    std::set<std::string> changed;
    for (;;) {
      const ssize_t n = ::read(impl_->fd.native_handle(), impl_->buffer.data(), impl_->buffer.size());
      if (n <= 0) break;  // EAGAIN: all read
      for (ssize_t off = 0; off < n;) {
        inotify_event ev;
        std::memcpy(&ev, impl_->buffer.data() + off, sizeof ev);
        const char* name = impl_->buffer.data() + off + sizeof ev;
        off += static_cast<ssize_t>(sizeof ev + ev.len);
        auto dir = impl_->dirs.find(ev.wd);
        if (dir == impl_->dirs.end() || ev.len == 0) continue;
        auto it = impl_->reported_as.find(dir->second + "/" + std::string(name));
        if (it != impl_->reported_as.end()) changed.insert(it->second);
      }
    }
    // Reported after the read: a handler may replace the watched set.
    for (const auto& p : changed) {
      if (!*alive) return;
      changed_(p);
    }
    if (*alive) read();
  });
}

}  // namespace rfq
