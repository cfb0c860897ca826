// A small lexer for the shell-syntax configuration files of initramfs generators
// (mkinitcpio.conf is sourced by bash, dracut.conf.d/*.conf by bash too). It finds
// top-level assignments `NAME=(...)`, `NAME+=(...)`, `NAME="..."`, `NAME+="..."` and the
// byte spans of the words inside them, so edits can change exactly the words exliar owns
// and leave comments, quoting, layout and every other byte alone.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "host/error.h"

namespace exliar {

struct ShWord {
  size_t begin = 0, end = 0;  ///< byte span in the file, quotes included
  std::string value;          ///< unquoted text
};

struct ShAssign {
  std::string name;
  bool append = false;  ///< "+="
  enum class Form { array, dquote, squote, bare } form = Form::bare;
  int line = 0;               ///< 1-based line of the name
  size_t begin = 0;           ///< offset of the name
  size_t open = 0;            ///< offset just after '(' or the opening quote (value start)
  size_t close = 0;           ///< offset of ')' or the closing quote (value end)
  size_t end = 0;             ///< offset just after the whole assignment
  std::vector<ShWord> words;  ///< array elements, or the whitespace-split words of a string
};

/// Every top-level assignment in order. A never-closed array or quote is an error naming
/// `path` and the line where it opened. Comments ('#' at a word start) are skipped.
Result<std::vector<ShAssign>> parse_shell_assignments(std::string_view text, std::string_view path);

/// Deletes the words with the given indices (into a.words) from text, each together with
/// the whitespace that separated it from its neighbour; a line left holding only
/// whitespace by a removal goes too. Returns the new text.
std::string remove_words(std::string_view text, const ShAssign& a, std::vector<size_t> idx);

/// Is name a valid shell variable name?
bool is_shell_name(std::string_view name);

}  // namespace exliar
