#pragma once
// Watches files for new content through inotify, on the loop: a file counts as changed when a
// writer closes it (IN_CLOSE_WRITE), another file is renamed onto its name (IN_MOVED_TO, how
// editors and `sed -i` save) or a symlink is made under its name (`ln -sf`). The folders are
// watched, not the files, so a file replaced by rename, or deleted and written again, is
// still seen; a symlink is watched by its own name, not its target. Events of one read are
// coalesced: each changed file is reported once. A queue overflow reports every file; a
// watched folder that goes away is logged (its files are no longer watched).

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

namespace boost::asio {
class io_context;
}

namespace rfq {

class FileWatch {
 public:
  using Changed = std::function<void(const std::string& path)>;

  FileWatch(boost::asio::io_context& io, Changed changed);
  ~FileWatch();
  FileWatch(const FileWatch&) = delete;
  FileWatch& operator=(const FileWatch&) = delete;

  // Replaces the watched set (paths as given are reported back). False with the reason when
  // inotify is unavailable or a folder cannot be watched (the others still are).
  bool watch(const std::set<std::string>& paths, std::string& error);
  const std::set<std::string>& watched() const { return paths_; }

 private:
  struct Impl;
  void read();

  std::unique_ptr<Impl> impl_;
  Changed changed_;
  std::set<std::string> paths_;
};

}  // namespace rfq
