// The kernel command line as a sequence of tokens over the bytes the user wrote.
//
// A Cmdline never re-serialises: it keeps the raw text and edits byte ranges, so order,
// duplicates, quoting and whitespace the user wrote stay as they were. Tokens are split
// the way the kernel does (lib/cmdline.c next_arg: whitespace outside double quotes),
// after undoing the quoting layer the text lives in (a shell string in /etc/default/grub,
// plain text in loader entries and /etc/kernel/cmdline).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host/error.h"

namespace exliar::boot {

/// The quoting layer around the command line text.
enum class Quoting {
  kernel,        ///< plain text: loader entries, /etc/kernel/cmdline, /proc/cmdline
  shell_double,  ///< inside "..." of a shell assignment: \" \\ \$ \` are escapes
  shell_single,  ///< inside '...': every byte literal, no ' possible
  shell_bare,    ///< an unquoted shell word: backslash escapes the next byte
};

struct Token {
  size_t begin = 0, end = 0;         ///< byte range in raw()
  std::string text;                  ///< as the kernel receives it (shell quoting undone)
  std::string key;                   ///< name before '=', '-' folded to '_' (the kernel's parameq)
  std::optional<std::string> value;  ///< after the first '=', nullopt for flags
  bool value_quoted = false;         ///< value contains kernel double quotes
};

/// "vfio-pci.ids" -> "vfio_pci.ids": the kernel treats '-' and '_' in names as equal.
std::string normalize_key(std::string_view key);
/// A token's identity: normalised key, then "=value" as written.
std::string normalize_token(std::string_view kernel_text);
/// Is `param` one kernel parameter (no unquoted whitespace, balanced quotes, not empty)?
Status check_param(std::string_view param);

class Cmdline {
 public:
  /// Fails on an unbalanced quote (kernel or shell escape level) or a NUL byte.
  static Result<Cmdline> parse(std::string_view raw, Quoting q = Quoting::kernel);

  const std::string& raw() const { return raw_; }
  Quoting quoting() const { return quoting_; }
  const std::vector<Token>& tokens() const { return tokens_; }
  /// Kernel-level token texts, in order.
  std::vector<std::string> words() const;
  /// Is a token equal to param (after key normalisation) present?
  bool contains(std::string_view param) const;
  /// Index of the last token whose normalised key is key, or -1.
  int last_with_key(std::string_view key) const;

  // Edits return whether anything changed. Each is idempotent; add then remove of a
  // token that was absent gives back the original bytes.

  /// Appends param after the last token (separated by one space) unless present.
  Result<bool> add(std::string_view param);
  /// Removes every token equal to param, with the whitespace before it (or after it,
  /// for the first token).
  bool remove(std::string_view param);
  /// Removes every token whose key is key ("vfio-pci.ids" removes "vfio_pci.ids=...").
  bool remove_key(std::string_view key);
  /// Replaces the value of the last token with key in place; appends key=value if absent.
  Result<bool> set(std::string_view key, std::string_view value);
  /// Comma lists: appends the missing items of `items` to the last token with key
  /// (",c" after "a,b"), or adds key=items when there is none.
  Result<bool> merge(std::string_view key, std::string_view items);
  /// Removes the items from every token with key; a token left empty is removed.
  Result<bool> unmerge(std::string_view key, std::string_view items);

 private:
  Cmdline(std::string raw, Quoting q) : raw_(std::move(raw)), quoting_(q) {}
  Status reparse();
  Result<std::string> encode(std::string_view kernel_text) const;
  void erase_token(size_t index);

  std::string raw_;
  Quoting quoting_ = Quoting::kernel;
  std::vector<Token> tokens_;
};

/// Tokens of a kernel-level command line such as /proc/cmdline (errors ignored: a
/// running kernel's line is what it is).
std::vector<std::string> kernel_words(std::string_view text);

}  // namespace exliar::boot
