#include "engine/core/file_watch.hpp"

#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "engine/core/log.hpp"

namespace rfq {

namespace fs = std::filesystem;

namespace {
constexpr std::uint32_t kMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ONLYDIR;
}

struct FileWatch::Impl {
  explicit Impl(boost::asio::io_context& io) : fd(io) {}
  boost::asio::posix::stream_descriptor fd;
  std::map<int, std::string> dirs;                 // watch descriptor -> folder
  std::map<std::string, std::string> reported_as;  // folder/name -> path as given
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
  paths_ = paths;
  impl_->reported_as.clear();
  std::set<std::string> wanted;
  for (const auto& p : paths) {
    std::error_code ec;
    fs::path abs = fs::absolute(p, ec);
    if (ec) abs = p;
    abs = abs.lexically_normal();  // symlinks are watched by their own name, not their target
    wanted.insert(abs.parent_path().string());
    impl_->reported_as[abs.string()] = p;
  }
  // Folders no longer needed are dropped; the others keep their watch (no gap where a change
  // could be missed); new ones are added.
  for (auto it = impl_->dirs.begin(); it != impl_->dirs.end();) {
    if (wanted.erase(it->second) == 0) {
      inotify_rm_watch(fd, it->first);
      it = impl_->dirs.erase(it);
    } else {
      ++it;
    }
  }
  bool ok = true;
  for (const auto& dir : wanted) {
    const int wd = inotify_add_watch(fd, dir.c_str(), kMask);
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
  impl_->fd.async_wait(
      boost::asio::posix::stream_descriptor::wait_read,
      [this, alive = impl_->alive](const boost::system::error_code& ec) {
        if (ec || !*alive) return;
        std::set<std::string> changed;
        for (;;) {
          const ssize_t n =
              ::read(impl_->fd.native_handle(), impl_->buffer.data(), impl_->buffer.size());
          if (n <= 0) break;  // EAGAIN: all read
          for (ssize_t off = 0; off < n;) {
            inotify_event ev;
            std::memcpy(&ev, impl_->buffer.data() + off, sizeof ev);
            const char* name = impl_->buffer.data() + off + sizeof ev;
            off += static_cast<ssize_t>(sizeof ev + ev.len);
            if (ev.mask & IN_Q_OVERFLOW) {
              // Events were lost: whatever changed cannot be told, so everything has.
              log::get("engine")->warn(
                  "file watch: inotify queue overflowed; every file counts as changed");
              changed.insert(paths_.begin(), paths_.end());
              continue;
            }
            auto dir = impl_->dirs.find(ev.wd);
            if (dir == impl_->dirs.end()) continue;
            if (ev.mask & IN_IGNORED) {  // the folder went away (deleted, unmounted)
              log::get("engine")->warn(
                  "file watch: folder {} is gone; its files are no longer watched", dir->second);
              impl_->dirs.erase(dir);
              continue;
            }
            if (ev.len == 0) continue;
            const std::string full = dir->second + "/" + std::string(name);
            auto it = impl_->reported_as.find(full);
            if (it == impl_->reported_as.end()) continue;
            if (ev.mask & IN_CREATE) {
              // A new regular file is reported when its writer closes it; a new symlink
              // (`ln -sf`) has no writer, so it counts now.
              struct stat st {};
              if (::lstat(full.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) continue;
            }
            changed.insert(it->second);
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
