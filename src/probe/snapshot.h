// `exliar snapshot`: the files exliar reads, captured by reading through a RecordingFs while
// the same pipeline as `detect` and `check` runs, then written out as a tree that `--root`
// reads back. What is captured is what was read, by construction: no list to keep in sync.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "host/fs.h"

namespace exliar {

/// Passes every read to `inner` and remembers what it read; refuses every write (a
/// snapshot changes nothing).
class RecordingFs final : public Fs {
 public:
  explicit RecordingFs(const Fs& inner) : inner_(inner) {}

  const std::string& root() const override { return inner_.root(); }
  Result<std::string> read_file(std::string_view p) const override;
  Result<std::string> read_link(std::string_view p) const override;
  Result<std::vector<std::string>> list_dir(std::string_view p) const override;
  Result<FileStat> stat(std::string_view p, bool follow = true) const override;
  Result<std::vector<std::optional<std::string>>> read_entries(
      std::string_view dir, const std::vector<Entry>& entries) const override;

  Status write_atomic_via(std::string_view p, std::string_view, mode_t, std::string_view) override;
  Status write_in_place(std::string_view p, std::string_view) override;
  Status remove(std::string_view p) override;
  Status make_dir(std::string_view p, mode_t) override;
  Status chown(std::string_view p, uid_t, gid_t) override;
  Status chmod(std::string_view p, mode_t) override;
  Status symlink(std::string_view, std::string_view p) override;

  /// What a path was seen as. A file's content is kept only when it was read.
  struct Seen {
    bool read = false;         ///< read_file succeeded: content holds it
    bool link_read = false;    ///< read_link succeeded: content holds the target
    bool listed = false;       ///< list_dir succeeded on it
    bool stat_follow = false;  ///< stat(follow) succeeded (the target must exist too)
    std::string content;
  };
  const std::map<std::string, Seen>& seen() const { return seen_; }

 private:
  const Fs& inner_;
  mutable std::map<std::string, Seen> seen_;
};

/// One captured path in the output tree.
struct SnapshotEntry {
  std::string path;  ///< absolute inside the root
  enum class Kind { file, dir, link } kind = Kind::file;
  std::string content;       ///< file content (only when read) or link target
  bool placeholder = false;  ///< file listed or tested but never read: written empty
};

/// Turns what `rec` saw into a tree: every symlink on the way to a seen path is captured
/// as a symlink (paths are resolved component by component in `inner`), a file read
/// keeps its content, a file only listed or stat-ed becomes an empty placeholder, a
/// directory keeps the names it listed. Sorted by path.
Result<std::vector<SnapshotEntry>> snapshot_entries(const Fs& inner, const RecordingFs& rec);

/// Writes the entries below `dest` (an empty directory, through `out`).
Status write_snapshot(Fs& out, const std::vector<SnapshotEntry>& entries);

}  // namespace exliar
