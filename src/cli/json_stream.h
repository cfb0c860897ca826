// A large JSON result written as it is produced: a top-level object whose members are
// small documents (dumped one at a time) or arrays of them, laid out byte for byte as
// ordered_json::dump(2) lays out the whole document. `detect --json` at 8192 functions
// held a 40 MB document in memory before printing it (issue 23); this holds one element.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "host/context.h"

namespace exliar::cli {

class JsonStream {
 public:
  /// Writes to stdout as it goes, or, with -o, collects the text for one atomic write.
  explicit JsonStream(Context& ctx);
  JsonStream(const JsonStream&) = delete;
  JsonStream& operator=(const JsonStream&) = delete;

  void member(std::string_view key, const nlohmann::ordered_json& value);
  void begin_array(std::string_view key);
  void element(const nlohmann::ordered_json& value);
  void end_array();
  /// Closes the object and writes out; returns the exit code of emit().
  int finish();

 private:
  void key(std::string_view k);
  void put(std::string_view text);
  void flush();
  /// value dumped at the given depth: every line after the first indented by it.
  void value_at(const nlohmann::ordered_json& value, int depth);

  Context& ctx_;
  bool to_file_;
  std::string buffered_;  ///< with -o the whole text (one atomic write), else < 64 KiB
  bool first_member_ = true;
  bool first_element_ = true;
};

}  // namespace exliar::cli
