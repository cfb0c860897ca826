// rollback: restore files byte for byte (content, mode, owner), remove what was created,
// write the sysfs undo values, re-run the regeneration commands, mark rolled back.
#include <algorithm>
#include <map>
#include <set>

#include "host/text.h"
#include "state/engine.h"
#include "state/hash.h"

namespace exliar {

namespace {

using detail::progress;

struct FileUndo {
  int step = -1;
  const EditFile* edit = nullptr;
  const JournalRecord* backup = nullptr;  ///< the file existed
  const JournalRecord* absent = nullptr;  ///< the file was created
  const JournalRecord* mkdir = nullptr;
  std::string original;  ///< backup content, verified
  std::optional<std::string> current;
  FileStat st;
  std::string lost;  ///< --force: why the backup cannot be restored (missing, damaged)
  std::string kept;  ///< the original inode's link in the journal ("" when none was made)
};

JournalRecord rec(std::string kind, int step) {
  JournalRecord r;
  r.rec = std::move(kind);
  r.step = step;
  return r;
}

/// Started steps, newest first.
std::vector<int> started_steps(const TxInfo& tx) {
  std::vector<int> steps;
  for (const auto& r : tx.records)
    if (r.rec == "start" && std::find(steps.begin(), steps.end(), r.step) == steps.end())
      steps.push_back(r.step);
  std::reverse(steps.begin(), steps.end());
  return steps;
}

/// Reads the current state and the backup of every file step; checks, changing nothing.
/// A backup that is missing or damaged blocks the whole rollback unless force, which
/// restores every other file and reports that one (the damage stays with its file).
TxResult<std::vector<FileUndo>> check_files(const Fs& fs, const TxInfo& tx, bool force) {
  std::vector<FileUndo> out;
  std::vector<std::string> drift, lost;
  for (int i : started_steps(tx)) {
    const auto* e = std::get_if<EditFile>(&tx.plan.steps[static_cast<size_t>(i)].action);
    if (!e) continue;
    FileUndo u;
    u.step = i;
    u.edit = e;
    u.backup = tx.find("backup", i);
    u.absent = tx.find("absent", i);
    u.mkdir = tx.find("mkdir", i);
    if (tx.find("original", i)) u.kept = path_join(tx.dir, original_name(i));
    if (!u.backup && !u.absent) continue;  // interrupted before it touched the file
    if (u.backup && u.backup->path != e->path)
      return tl::unexpected(
          TxError{Error{"journal corrupted: the backup record of step " + std::to_string(i + 1) +
                            " names " + u.backup->path + " but the plan edits " + e->path,
                        fs.display(path_join(tx.dir, "log"))},
                  3});
    if (u.backup) {
      std::string bpath = path_join(tx.dir, u.backup->file);
      auto b = fs.read_file(bpath);
      if (!b)
        u.lost = fs.display(e->path) + ": its backup cannot be read (" + b.error().describe() + ")";
      else if (sha256_hex(*b) != u.backup->sha256)
        u.lost = fs.display(e->path) + ": its backup " + fs.display(bpath) +
                 " does not match its recorded sha256 (damaged)";
      else
        u.original = std::move(*b);
      if (!u.lost.empty()) {
        lost.push_back(u.lost);
        out.push_back(std::move(u));
        continue;
      }
    }
    auto st = fs.stat(e->path, false);
    if (!st && st.error().err != ENOENT) return tl::unexpected(TxError{st.error(), 3});
    if (st) {
      u.st = *st;
      if (st->type != FileStat::Type::regular) {
        drift.push_back(fs.display(e->path) + " is no longer a regular file");
      } else {
        auto c = fs.read_file(e->path);
        if (!c) return tl::unexpected(TxError{c.error(), 3});
        u.current = std::move(*c);
      }
    }
    // What the file may hold now: what it held before (already restored or the step had
    // not written yet) or exactly what exliar wrote.
    bool is_original = u.backup ? (u.current && *u.current == u.original) : !st.has_value();
    bool is_ours = e->after ? (u.current && *u.current == *e->after) : !st.has_value();
    if (!st && !is_original && !is_ours)
      drift.push_back(fs.display(e->path) + " was deleted since exliar wrote it");
    else if (!is_original && !is_ours && st->type == FileStat::Type::regular)
      drift.push_back(fs.display(e->path) + " changed since exliar wrote it");
    out.push_back(std::move(u));
  }
  if (!lost.empty() && !force)
    return tl::unexpected(
        TxError{Error{"refusing to roll back transaction " + tx.id + ", nothing was restored:\n  " +
                      join(lost, "\n  ") + "\n(`exliar rollback --force " + tx.id +
                      "` restores every other file and leaves these as they are)"},
                3});
  if (!drift.empty() && !force)
    return tl::unexpected(
        TxError{Error{"refusing to roll back transaction " + tx.id + ", nothing was changed:\n  " +
                      join(drift, "\n  ") +
                      "\n(`exliar status` shows the differences; `exliar rollback --force " +
                      tx.id + "` restores the saved copies anyway)"},
                3});
  return out;
}

/// Removes what a crash inside a write (between creating the temp file and renaming it)
/// left beside the step's file: only exliar's own name for it, and only a regular file.
Status remove_temp(Fs& fs, const std::string& tx_id, const std::string& path) {
  std::string tmp = step_temp_path(tx_id, path);
  auto st = fs.stat(tmp, false);
  if (!st || st->type != FileStat::Type::regular) return {};
  return fs.remove(tmp);
}

/// The same for the journal's own files in the transaction directory.
void remove_journal_temps(Fs& fs, const TxInfo& tx) {
  auto names = fs.list_dir(tx.dir);
  if (!names) return;
  for (const auto& n : *names)
    if (n.size() > 12 && n[0] == '.' && n.ends_with(".exliar-tmp"))
      (void)fs.remove(path_join(tx.dir, n));
}

/// The journal's link to the original inode still holds exactly the saved content.
bool kept_is_original(const Fs& fs, const FileUndo& u) {
  if (u.kept.empty()) return false;
  auto st = fs.stat(u.kept, false);
  if (!st || st->type != FileStat::Type::regular) return false;
  auto c = fs.read_file(u.kept);
  return c && *c == u.original;
}

Status restore_file(Fs& fs, const std::string& tx_id, const FileUndo& u,
                    std::vector<std::string>& notes) {
  const std::string& p = u.edit->path;
  if (u.backup) {
    const JournalRecord& b = *u.backup;
    bool same = u.current && *u.current == u.original;
    if (!same) {
      if (!u.current && fs.exists(p)) {  // a directory or symlink in its place (--force)
        if (auto r = fs.remove(p); !r) return r;
      }
      auto dirs = fs.make_dirs(path_dirname(p), 0755);  // a parent removed since (--force)
      if (!dirs) return tl::unexpected(dirs.error());
      if (kept_is_original(fs, u)) {
        // The very inode apply replaced: its other links and attributes come back too.
        if (auto r = fs.rename(u.kept, p); !r) return r;
      } else {
        if (auto w = fs.write_atomic_via(p, u.original, b.mode, step_temp_name(tx_id, p)); !w)
          return w;
        // Changed through another of its names since: the saved copy wins; drop the link.
        if (!u.kept.empty() && fs.exists(u.kept)) (void)fs.remove(u.kept);
      }
    }
    auto st = fs.stat(p, false);
    if (!st) return tl::unexpected(st.error());
    if (st->mode != b.mode)
      if (auto r = fs.chmod(p, b.mode); !r) return r;
    if (st->uid != b.uid || st->gid != b.gid)
      if (auto r = fs.chown(p, b.uid, b.gid); !r) return r;
  } else if (u.absent) {
    if (fs.exists(p))
      if (auto r = fs.remove(p); !r) return r;
  }
  if (u.mkdir) {
    for (auto it = u.mkdir->dirs.rbegin(); it != u.mkdir->dirs.rend(); ++it) {
      if (!fs.exists(*it)) continue;
      auto entries = fs.list_dir(*it);
      if (!entries) return tl::unexpected(entries.error());
      if (!entries->empty()) {
        notes.push_back(fs.display(*it) +
                        " was left in place: it now holds files exliar did not create");
        break;
      }
      if (auto r = fs.remove(*it); !r) return r;
    }
  }
  return {};
}

}  // namespace

namespace detail {

TxResult<UndoResult> undo_records(Context& ctx, const TxInfo& tx, Journal& journal,
                                  const std::string& reason, bool force) {
  Fs& fs = ctx.fs;
  auto files = check_files(fs, tx, force);
  if (!files) return tl::unexpected(files.error());
  std::map<int, const FileUndo*> by_step;
  for (const auto& f : *files) by_step[f.step] = &f;

  UndoResult out;
  std::vector<std::string> errors;
  JournalRecord begin = rec("rollback_begin", -1);
  begin.reason = reason;
  // The journal is the record, not a precondition: if it cannot be written (disk full),
  // restoring the files is still right, and the log then shows the rollback as unfinished.
  bool journal_ok = journal.append(begin).has_value();
  std::vector<int> commands;
  for (int i : started_steps(tx)) {
    const Step& s = tx.plan.steps[static_cast<size_t>(i)];
    Status st;
    if (const auto* e = std::get_if<EditFile>(&s.action)) {
      st = remove_temp(fs, tx.id, e->path);
      auto f = by_step.find(i);
      if (f != by_step.end() && !f->second->lost.empty()) {
        errors.push_back("not restored: " + f->second->lost);
        continue;
      }
      if (st && f != by_step.end()) {  // else the step stopped before touching its file
        progress(ctx, "restoring " + fs.display(f->second->edit->path));
        st = restore_file(fs, tx.id, *f->second, out.notes);
      }
    } else if (std::holds_alternative<WriteSysfs>(s.action)) {
      const JournalRecord* r = tx.find("sysfs", i);
      if (r && r->undo_value && !tx.unwritten(i))
        st = fs.write_in_place(r->undo_path ? *r->undo_path : r->path, *r->undo_value);
    } else {
      commands.insert(commands.begin(), i);
    }
    if (!st) {
      errors.push_back(st.error().describe());
      continue;
    }
    journal_ok = journal.append(rec("undone", i)).has_value() && journal_ok;
  }
  // --force always closes the transaction (it must never stay stuck, blocking every later
  // apply): what could not be restored is reported instead.
  if (!errors.empty() && force) out.unrestored = errors;
  if (!errors.empty() && !force)
    return tl::unexpected(
        TxError{Error{"could not restore everything: " + join(errors, "; ") +
                      ". The journal keeps the backups; fix the cause and run `exliar rollback " +
                      tx.id + "` again, or `exliar rollback --force " + tx.id +
                      "` to close the transaction and leave these as they are"},
                3});
  // Regenerate from the restored files (initramfs, bootloader configuration).
  for (int i : commands) {
    const auto& c = std::get<RunCommand>(tx.plan.steps[static_cast<size_t>(i)].action);
    if (c.undo_argv.empty()) continue;
    if (!fs.is_live()) {
      out.pending.push_back(shell_quote(c.undo_argv));
      continue;
    }
    progress(ctx, "running " + shell_quote(c.undo_argv) + " ...");
    auto r = ctx.runner.run(c.undo_argv);
    if (!r || r->exit_code != 0)
      out.notes.push_back(
          "the files are restored, but `" + shell_quote(c.undo_argv) + "` failed (" +
          (r ? "exit status " + std::to_string(r->exit_code) + ": " + std::string(trim(r->err))
             : r.error().describe()) +
          "); run it by hand before rebooting");
  }
  JournalRecord done = rec("rolled_back", -1);
  done.time = utc_now();
  journal_ok = journal.append(done).has_value() && journal_ok;
  remove_journal_temps(fs, tx);
  if (!journal_ok)
    out.notes.push_back("the journal could not record the rollback; `exliar rollback " + tx.id +
                        "` will finish recording it (the files are already restored)");
  return out;
}

}  // namespace detail
}  // namespace exliar
