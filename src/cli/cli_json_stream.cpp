#include <cstdio>

#include "cli/commands.h"
#include "cli/json_stream.h"
#include "cli/output.h"

namespace exliar::cli {

using json = nlohmann::ordered_json;

JsonStream::JsonStream(Context& ctx) : ctx_(ctx), to_file_(!ctx.output_file.empty()) { put("{"); }

void JsonStream::put(std::string_view text) {
  buffered_.append(text);
  // To stdout in 64 KiB writes (stdio's buffer for a pipe or file is one 4 KiB page: 200
  // writes for a 1024-function document).
  if (!to_file_ && buffered_.size() >= 65536) flush();
}

void JsonStream::flush() {
  std::fwrite(buffered_.data(), 1, buffered_.size(), ctx_.output.out);
  buffered_.clear();
}

void JsonStream::key(std::string_view k) {
  put(first_member_ ? "\n  " : ",\n  ");
  first_member_ = false;
  put(json(std::string(k)).dump());
  put(": ");
}

void JsonStream::value_at(const json& value, int depth) {
  // Host data may hold bytes that are not UTF-8: replaced, as emit_json does.
  std::string text = value.dump(2, ' ', false, json::error_handler_t::replace);
  std::string indent(static_cast<size_t>(depth) * 2, ' ');
  // A dumped string never holds a raw newline (JSON escapes it), so every '\n' is layout.
  size_t from = 0;
  for (size_t nl; (nl = text.find('\n', from)) != std::string::npos; from = nl + 1) {
    put(std::string_view(text).substr(from, nl + 1 - from));
    put(indent);
  }
  put(std::string_view(text).substr(from));
}

void JsonStream::member(std::string_view k, const json& value) {
  key(k);
  value_at(value, 1);
}

void JsonStream::begin_array(std::string_view k) {
  key(k);
  put("[");
  first_element_ = true;
}

void JsonStream::element(const json& value) {
  put(first_element_ ? "\n    " : ",\n    ");
  first_element_ = false;
  value_at(value, 2);
}

void JsonStream::end_array() { put(first_element_ ? "]" : "\n  ]"); }

int JsonStream::finish() {
  put(first_member_ ? "}\n" : "\n}\n");
  if (to_file_) return emit(ctx_, buffered_);
  flush();
  ctx_.output.wrote_result = true;
  std::fflush(ctx_.output.out);
  return kOk;
}

}  // namespace exliar::cli
