// Errors are values: every fallible call returns Result<T>.
#pragma once

#include <string>
#include <tl/expected.hpp>

namespace exliar {

/// What went wrong, for the user: a sentence, plus where (file, line) and why (errno).
struct Error {
  std::string message;  ///< a full sentence, without trailing newline
  std::string path;     ///< host path involved, as the user would type it ("" if none)
  int err = 0;          ///< errno, 0 when not a system error
  int line = 0;         ///< 1-based line in `path` for parse errors, 0 otherwise

  /// "path:line: message (strerror)" with the parts that are present.
  std::string describe() const;
};

template <class T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

inline tl::unexpected<Error> fail(std::string message, std::string path = {}, int err = 0,
                                  int line = 0) {
  return tl::unexpected<Error>(Error{std::move(message), std::move(path), err, line});
}

}  // namespace exliar
