// FileWatch: inotify on the loop. A watched file written and closed, or replaced by a rename,
// is reported once per read, as the path it was given; other files of the folder are not;
// the watched set can be replaced. The loop is driven until the report (bounded), never slept.

#include "engine/core/file_watch.hpp"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct Folder {
  fs::path path;
  Folder() {
    static int n = 0;
    path = fs::temp_directory_path() /
           ("rfq-file-watch-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
    fs::create_directories(path);
  }
  ~Folder() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::trunc) << text;
  }
};

struct Watched {
  boost::asio::io_context io;
  std::vector<std::string> reports;
  rfq::FileWatch watch{io, [this](const std::string& p) { reports.push_back(p); }};

  // Runs the loop until `n` reports came (or 5 s passed: the test then fails on the count).
  void until(std::size_t n) {
    io.restart();
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (reports.size() < n && std::chrono::steady_clock::now() < end) {
      io.run_one_for(std::chrono::milliseconds(100));
    }
  }
};

}  // namespace

TEST_CASE("file watch: write and close, rename onto the name, other files ignored",
          "[file_watch]") {
  Folder dir;
  dir.write("policy.lua", "-- v1");
  dir.write("other.lua", "-- x");
  Watched w;
  std::string error;
  REQUIRE(w.watch.watch({dir.file("policy.lua")}, error));

  dir.write("other.lua", "-- y");  // same folder, not watched
  dir.write("policy.lua", "-- v2");
  w.until(1);
  CHECK(w.reports == std::vector<std::string>{dir.file("policy.lua")});

  // Saved the way editors and `sed -i` do: a new file renamed over the old one.
  dir.write("policy.lua.tmp", "-- v3");
  fs::rename(dir.path / "policy.lua.tmp", dir.path / "policy.lua");
  w.until(2);
  CHECK(w.reports == std::vector<std::string>{dir.file("policy.lua"), dir.file("policy.lua")});
  // The rename replaced the file; the folder watch still sees the next write.
  dir.write("policy.lua", "-- v4");
  w.until(3);
  CHECK(w.reports.size() == 3);
}

TEST_CASE("file watch: several files, replaced set, relative paths reported as given",
          "[file_watch]") {
  Folder dir;
  Folder lib;
  dir.write("a.lua", "");
  lib.write("helpers.lua", "");
  Watched w;
  std::string error;
  REQUIRE(w.watch.watch({dir.file("a.lua"), lib.file("helpers.lua")}, error));
  lib.write("helpers.lua", "return {}");
  w.until(1);
  CHECK(w.reports == std::vector<std::string>{lib.file("helpers.lua")});

  // After the set is replaced, a.lua is no longer reported; helpers.lua, given relative to
  // the working directory, is reported as given.
  struct Cwd {  // restored however the test ends
    fs::path saved = fs::current_path();
    ~Cwd() { fs::current_path(saved); }
  } cwd;
  fs::current_path(lib.path);
  REQUIRE(w.watch.watch({"helpers.lua"}, error));
  dir.write("a.lua", "-- changed, not watched now");
  lib.write("helpers.lua", "return { 1 }");
  w.until(2);
  CHECK(w.reports == std::vector<std::string>{lib.file("helpers.lua"), "helpers.lua"});
}

TEST_CASE("file watch: changes made before the loop reads them are reported once", "[file_watch]") {
  Folder dir;
  dir.write("p.lua", "");
  Watched w;
  std::string error;
  REQUIRE(w.watch.watch({dir.file("p.lua")}, error));
  for (int i = 0; i < 5; ++i) dir.write("p.lua", "-- " + std::to_string(i));
  w.until(1);
  w.io.restart();
  w.io.poll();  // anything else already queued
  CHECK(w.reports == std::vector<std::string>{dir.file("p.lua")});
}

TEST_CASE(
    "file watch: a symlink made under the watched name counts; a new regular file counts "
    "when closed, once",
    "[file_watch]") {
  Folder dir;
  dir.write("v1.lua", "-- v1");
  dir.write("v2.lua", "-- v2");
  fs::create_symlink(dir.path / "v1.lua", dir.path / "policy.lua");
  Watched w;
  std::string error;
  REQUIRE(w.watch.watch({dir.file("policy.lua")}, error));
  fs::remove(dir.path / "policy.lua");
  fs::create_symlink(dir.path / "v2.lua", dir.path / "policy.lua");  // as `ln -sf` does
  w.until(1);
  CHECK(w.reports == std::vector<std::string>{dir.file("policy.lua")});
  fs::remove(dir.path / "policy.lua");
  dir.write("policy.lua", "-- a regular file now");  // IN_CREATE, then IN_CLOSE_WRITE
  w.until(2);
  w.io.restart();
  w.io.poll();
  CHECK(w.reports.size() == 2);
}

TEST_CASE("file watch: a folder that does not exist is an error naming it", "[file_watch]") {
  Watched w;
  std::string error;
  CHECK_FALSE(w.watch.watch({"/nonexistent-rfq-folder/x.lua"}, error));
  CHECK_THAT(error, Catch::Contains("/nonexistent-rfq-folder"));
}
