// The journal of one transaction: <root>/var/lib/exliar/transactions/<id>/ holds
// plan.json, one backup file per changed file and `log`, a JSON-lines record of every
// step as it starts and ends. The log is rewritten through Fs::write_atomic for every
// record (temp file, fsync, rename, fsync of the directory), so after a crash it holds
// every record written before the crash and nothing torn.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "host/fs.h"
#include "plan/plan.h"

namespace exliar {

/// One line of the log. `rec` says which fields matter:
///   begin{time, live, steps}  start{step}  backup{step, path, sha256, mode, uid, gid, file}
///   absent{step, path}  mkdir{step, dirs}  sysfs{step, path, undo_path, undo_value}
///   pending{step, argv}  ran{step, exit}  done{step, sha256}  failed{step, error}
///   commit{time}  rollback_begin{reason}  undone{step}  rolled_back{time}
///   original{step}: the original inode of the step's file is linked as original-N
///   unwritten{step}: the sysfs write of the step failed (nothing to undo)
struct JournalRecord {
  std::string rec;
  int step = -1;
  std::string path;
  std::string sha256;  ///< content hash (backup: original; done: what exliar wrote)
  mode_t mode = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string file;  ///< backup file name inside the transaction directory
  std::vector<std::string> dirs;
  std::optional<std::string> undo_path;
  std::optional<std::string> undo_value;
  std::vector<std::string> argv;
  std::string error;
  std::string time;
  std::string reason;
  bool live = false;
  int steps = 0;
  int exit = 0;
};

enum class TxState { applying, committed, rolling_back, rolled_back };
const char* tx_state_name(TxState s);

struct TxInfo {
  std::string id;
  std::string dir;  ///< path inside the root
  Plan plan;
  std::vector<JournalRecord> records;
  TxState state = TxState::applying;
  std::string time;  ///< of the begin record

  bool interrupted() const { return state == TxState::applying || state == TxState::rolling_back; }
  /// First record of kind rec for step (nullptr when absent).
  const JournalRecord* find(const std::string& rec, int step) const;
  /// The sysfs write of step i returned an error (an "unwritten" record): it changed
  /// nothing, so there is nothing to undo, and undoing it anyway (binding back a driver
  /// that was never unbound) can only fail and leave the transaction stuck.
  bool unwritten(int i) const { return find("unwritten", i) != nullptr; }
};

/// Appends records to a transaction's log; `after_record` runs after each one is durable
/// (tests use it to simulate a crash between records).
class Journal {
 public:
  Journal(Fs& fs, std::string dir, std::string existing_log = {},
          std::function<void(size_t)> after_record = {})
      : fs_(fs),
        dir_(std::move(dir)),
        log_(std::move(existing_log)),
        after_record_(std::move(after_record)) {}
  Status append(const JournalRecord& r);
  Status write_file(const std::string& name, std::string_view content);
  const std::string& dir() const { return dir_; }
  const std::string& text() const { return log_; }

 private:
  Fs& fs_;
  std::string dir_;
  std::string log_;
  std::function<void(size_t)> after_record_;
  size_t count_ = 0;
};

std::string record_to_line(const JournalRecord& r);
/// Parses the log text; a bad line names the file and line.
Result<std::vector<JournalRecord>> parse_log(std::string_view text, const std::string& where);
TxState state_of(const std::vector<JournalRecord>& records);

/// Transaction ids in the journal, oldest first ([] when none was ever made).
Result<std::vector<std::string>> list_transactions(const Fs& fs);
/// True when transaction id `a` was made before `b`: ids start with a decimal sequence
/// number whose width grows past 9999, so they compare by that number, then as text.
bool transaction_older(const std::string& a, const std::string& b);
Result<TxInfo> load_transaction(const Fs& fs, const std::string& id);

/// One transaction of the journal as found: loaded, or damaged (its log or plan cannot be
/// read or parsed; `error` names the file, and the line for a bad log line). A damaged
/// transaction is its own problem: each caller decides what it blocks.
struct TxEntry {
  std::string id;
  std::optional<TxInfo> tx;  ///< empty when damaged
  Error error;               ///< why it could not be loaded
  bool damaged() const { return !tx; }
};
/// Every transaction, oldest first, each loaded or damaged; fails only when the journal
/// directory itself cannot be listed.
Result<std::vector<TxEntry>> load_transactions(const Fs& fs);
/// For the damaged all[i]: the id of a newer transaction that loaded and is closed
/// (committed or rolled back), or "" when there is none. apply refuses to start while any
/// transaction is interrupted, so such a newer one proves all[i] was closed when it began.
std::string closed_after(const std::vector<TxEntry>& all, size_t i);
/// The next id: a sequence number (so ids sort by age) and the UTC time.
std::string next_transaction_id(const std::vector<std::string>& existing);
std::string utc_now();
std::string transaction_dir(const std::string& id);

// Temp files are named, not random, so that a crash between creating one and renaming it
// over its target leaves a file recovery knows is exliar's and removes.
/// The temp name of a journal file (log, plan.json, backup-N) inside its transaction
/// directory: only the lock holder writes there, so one fixed name per file is enough.
std::string journal_temp_name(std::string_view name);
/// The temp file beside `path` through which transaction tx_id writes (and its rollback
/// restores) that file. Derived from the id and the journaled path, so the record naming
/// the path (backup or absent, appended before the write) names the temp file too, and a
/// damaged journal cannot point recovery at any other file.
std::string step_temp_name(const std::string& tx_id, std::string_view path);
std::string step_temp_path(const std::string& tx_id, std::string_view path);
/// "original-N": the hard link to the original inode of step N's file in the transaction
/// directory, present when the step has an "original" record.
std::string original_name(int step);

}  // namespace exliar
