// Helpers for boot tests: fixture files from tests/data/boot and throw-away root trees.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "host/fs.h"

namespace exliar::boot::test {

inline std::string data_dir() { return std::string(EXLIAR_SOURCE_DIR) + "/tests/data/boot"; }

inline std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::string data(const std::string& name) { return slurp(data_dir() + "/" + name); }

inline std::vector<std::string> data_files() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(data_dir()))
    if (e.path().filename() != "SOURCES.md") out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

/// A temporary root directory, removed on destruction.
class TempRoot {
 public:
  TempRoot() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "exliar-boot-XXXXXX").string();
    char* d = mkdtemp(tmpl.data());
    if (!d) throw std::runtime_error("mkdtemp failed");
    dir_ = d;
  }
  ~TempRoot() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const std::string& dir() const { return dir_; }
  void write(const std::string& p, const std::string& content) {
    auto full = std::filesystem::path(dir_ + p);
    std::filesystem::create_directories(full.parent_path());
    std::ofstream(full, std::ios::binary) << content;
  }
  void symlink(const std::string& target, const std::string& p) {
    auto full = std::filesystem::path(dir_ + p);
    std::filesystem::create_directories(full.parent_path());
    std::filesystem::create_symlink(target, full);
  }
  std::string read(const std::string& p) const { return slurp(dir_ + p); }
  RealFs fs() const { return std::move(*RealFs::open(dir_)); }

 private:
  std::string dir_;
};

inline std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == '\n') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);  // last line (empty when the text ends with '\n')
  return out;
}

/// Line numbers (1-based) whose bytes differ; both texts must have the same line count.
inline std::vector<int> changed_lines(const std::string& a, const std::string& b) {
  auto la = lines_of(a), lb = lines_of(b);
  EXPECT_EQ(la.size(), lb.size());
  std::vector<int> out;
  for (size_t i = 0; i < std::min(la.size(), lb.size()); ++i)
    if (la[i] != lb[i]) out.push_back(static_cast<int>(i + 1));
  return out;
}

}  // namespace exliar::boot::test
