#include "state/journal.h"

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

#include "host/paths.h"
#include "plan/plan_json.h"

namespace exliar {

using ojson = nlohmann::ordered_json;
using json = nlohmann::json;

namespace {

std::string octal(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

ojson strings(const std::vector<std::string>& v) {
  ojson a = ojson::array();
  for (const auto& s : v) a.push_back(s);
  return a;
}

}  // namespace

const char* tx_state_name(TxState s) {
  switch (s) {
    case TxState::applying:
      return "interrupted";
    case TxState::committed:
      return "applied";
    case TxState::rolling_back:
      return "interrupted during rollback";
    case TxState::rolled_back:
      return "rolled back";
  }
  return "unknown";
}

const JournalRecord* TxInfo::find(const std::string& rec, int step) const {
  for (const auto& r : records)
    if (r.rec == rec && r.step == step) return &r;
  return nullptr;
}

std::string record_to_line(const JournalRecord& r) {
  ojson j;
  j["rec"] = r.rec;
  if (r.step >= 0) j["step"] = r.step;
  if (!r.path.empty()) j["path"] = r.path;
  if (!r.sha256.empty()) j["sha256"] = r.sha256;
  if (r.rec == "backup") {
    j["mode"] = octal(r.mode);
    j["uid"] = r.uid;
    j["gid"] = r.gid;
    j["file"] = r.file;
  }
  if (!r.dirs.empty()) j["dirs"] = strings(r.dirs);
  if (r.rec == "sysfs") {
    j["undo_path"] = r.undo_path ? ojson(*r.undo_path) : ojson(nullptr);
    j["undo_value"] = r.undo_value ? ojson(*r.undo_value) : ojson(nullptr);
  }
  if (!r.argv.empty()) j["argv"] = strings(r.argv);
  if (!r.error.empty()) j["error"] = r.error;
  if (!r.time.empty()) j["time"] = r.time;
  if (!r.reason.empty()) j["reason"] = r.reason;
  if (r.rec == "begin") {
    j["live"] = r.live;
    j["steps"] = r.steps;
  }
  if (r.rec == "ran") j["exit"] = r.exit;
  // Invalid UTF-8 (an error message quoting a file) must not make the record unwritable.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {
bool is_backup_name(std::string_view f) {
  constexpr std::string_view kPrefix = "backup-";
  if (f.size() <= kPrefix.size() || f.substr(0, kPrefix.size()) != kPrefix) return false;
  for (char c : f.substr(kPrefix.size()))
    if (c < '0' || c > '9') return false;
  return f.size() - kPrefix.size() <= 9;
}
}  // namespace

Result<std::vector<JournalRecord>> parse_log(std::string_view text, const std::string& where) {
  std::vector<JournalRecord> out;
  int line = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t e = text.find('\n', i);
    if (e == std::string_view::npos) e = text.size();
    std::string_view l = text.substr(i, e - i);
    i = e + 1;
    ++line;
    if (l.empty()) continue;
    auto bad = [&](const std::string& why) {
      return fail("journal corrupted: " + why + "; exliar will not guess what happened", where, 0,
                  line);
    };
    json j = json::parse(l, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return bad("the record is not a JSON object");
    if (!j.contains("rec") || !j["rec"].is_string()) return bad("the record has no \"rec\" field");
    JournalRecord r;
    try {
      r.rec = j["rec"].get<std::string>();
      r.step = j.value("step", -1);
      r.path = j.value("path", "");
      r.sha256 = j.value("sha256", "");
      if (j.contains("mode"))
        r.mode = static_cast<mode_t>(std::stoul(j["mode"].get<std::string>(), nullptr, 8));
      r.uid = j.value("uid", 0u);
      r.gid = j.value("gid", 0u);
      r.file = j.value("file", "");
      if (j.contains("dirs")) r.dirs = j["dirs"].get<std::vector<std::string>>();
      if (j.contains("undo_path") && !j["undo_path"].is_null())
        r.undo_path = j["undo_path"].get<std::string>();
      if (j.contains("undo_value") && !j["undo_value"].is_null())
        r.undo_value = j["undo_value"].get<std::string>();
      if (j.contains("argv")) r.argv = j["argv"].get<std::vector<std::string>>();
      r.error = j.value("error", "");
      r.time = j.value("time", "");
      r.reason = j.value("reason", "");
      r.live = j.value("live", false);
      r.steps = j.value("steps", 0);
      r.exit = j.value("exit", 0);
    } catch (const std::exception& ex) {
      return bad(std::string("a field has the wrong type (") + ex.what() + ")");
    }
    static const char* kKnown[] = {"begin",  "start",          "backup",  "absent",      "mkdir",
                                   "sysfs",  "pending",        "ran",     "done",        "failed",
                                   "commit", "rollback_begin", "undone",  "rolled_back", "skip",
                                   "hook",   "unwritten",      "original"};
    bool known = false;
    for (const char* k : kKnown) known = known || r.rec == k;
    if (!known) return bad("unknown record \"" + r.rec + "\"");
    if (r.rec == "backup" && (r.sha256.size() != 64 || r.file.empty() || r.path.empty()))
      return bad("a backup record lacks its hash, file or path");
    // Backups are the transaction's own "backup-N" files; any other name (../../etc/…, an
    // absolute path) would have rollback copy an unrelated file over the target.
    if (r.rec == "backup" && !is_backup_name(r.file))
      return bad("a backup record names \"" + r.file +
                 "\", which is not a backup file of this transaction (backup-N)");
    out.push_back(std::move(r));
  }
  if (out.empty() || out.front().rec != "begin") {
    return fail("journal corrupted: the log does not start with a begin record", where, 0, 1);
  }
  return out;
}

TxState state_of(const std::vector<JournalRecord>& records) {
  TxState s = TxState::applying;
  for (const auto& r : records) {
    if (r.rec == "commit") s = TxState::committed;
    if (r.rec == "rollback_begin") s = TxState::rolling_back;
    if (r.rec == "rolled_back") s = TxState::rolled_back;
  }
  return s;
}

Status Journal::append(const JournalRecord& r) {
  size_t old = log_.size();
  log_ += record_to_line(r);
  log_ += '\n';
  if (auto w = fs_.write_atomic_via(path_join(dir_, "log"), log_, 0600, journal_temp_name("log"));
      !w) {
    log_.resize(old);
    return w;
  }
  if (after_record_) after_record_(count_);
  ++count_;
  return {};
}

Status Journal::write_file(const std::string& name, std::string_view content) {
  return fs_.write_atomic_via(path_join(dir_, name), content, 0600, journal_temp_name(name));
}

std::string journal_temp_name(std::string_view name) {
  return "." + std::string(name) + ".exliar-tmp";
}

std::string step_temp_name(const std::string& tx_id, std::string_view path) {
  // 100 bytes of the name keep the whole within NAME_MAX (255); a clash of two truncated
  // names is harmless, as the steps of one transaction write one file at a time.
  return "." + std::string(path_basename(path).substr(0, 100)) + ".exliar-tmp-" + tx_id;
}

std::string original_name(int step) { return "original-" + std::to_string(step); }

std::string step_temp_path(const std::string& tx_id, std::string_view path) {
  return path_join(path_dirname(path), step_temp_name(tx_id, path));
}

std::string transaction_dir(const std::string& id) {
  return path_join(paths::kTransactionsDir, id);
}

Result<std::vector<std::string>> list_transactions(const Fs& fs) {
  if (!fs.exists(paths::kTransactionsDir)) return std::vector<std::string>{};
  auto names = fs.list_dir(paths::kTransactionsDir);
  if (!names) return tl::unexpected(names.error());
  std::vector<std::string> ids;
  // A directory without a log is a transaction that stopped before its begin record was
  // durable: nothing outside the journal was touched, so there is nothing to undo.
  for (auto& n : *names)
    if (!n.empty() && n.front() != '.' && fs.is_dir(transaction_dir(n)) &&
        fs.exists(path_join(transaction_dir(n), "log")))
      ids.push_back(n);
  // Not list_dir's text order: "10000-…" sorts before "9999-…" as text.
  std::sort(ids.begin(), ids.end(), transaction_older);
  return ids;
}

bool transaction_older(const std::string& a, const std::string& b) {
  auto seq = [](const std::string& id) {
    size_t n = 0;
    while (n < id.size() && id[n] >= '0' && id[n] <= '9') ++n;
    std::string_view digits(id.data(), n);
    while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
    return digits;
  };
  auto sa = seq(a), sb = seq(b);
  if (sa.size() != sb.size()) return sa.size() < sb.size();
  if (sa != sb) return sa < sb;
  return a < b;
}

Result<TxInfo> load_transaction(const Fs& fs, const std::string& id) {
  if (id.empty() || id.find('/') != std::string::npos || id.front() == '.')
    return fail("invalid transaction id \"" + id + "\"");
  TxInfo t;
  t.id = id;
  t.dir = transaction_dir(id);
  if (!fs.is_dir(t.dir))
    return fail("no transaction with id \"" + id + "\" (see `exliar status`)", fs.display(t.dir));
  std::string plan_path = path_join(t.dir, "plan.json");
  auto plan_text = fs.read_file(plan_path);
  if (!plan_text) return tl::unexpected(plan_text.error());
  auto plan = parse_plan(*plan_text, fs.display(plan_path));
  if (!plan) {
    Error e = plan.error();
    e.message = "journal corrupted: " + e.message;
    return tl::unexpected(e);
  }
  t.plan = std::move(*plan);
  std::string log_path = path_join(t.dir, "log");
  auto log = fs.read_file(log_path);
  if (!log) return tl::unexpected(log.error());
  auto recs = parse_log(*log, fs.display(log_path));
  if (!recs) return tl::unexpected(recs.error());
  t.records = std::move(*recs);
  for (const auto& r : t.records)
    if (r.step >= static_cast<int>(t.plan.steps.size()))
      return fail("journal corrupted: a record names step " + std::to_string(r.step + 1) +
                      " but the plan has " + std::to_string(t.plan.steps.size()),
                  fs.display(log_path));
  t.state = state_of(t.records);
  t.time = t.records.front().time;
  return t;
}

Result<std::vector<TxEntry>> load_transactions(const Fs& fs) {
  auto ids = list_transactions(fs);
  if (!ids) return tl::unexpected(ids.error());
  std::vector<TxEntry> out;
  for (const auto& id : *ids) {
    TxEntry e;
    e.id = id;
    if (auto tx = load_transaction(fs, id))
      e.tx = std::move(*tx);
    else
      e.error = tx.error();
    out.push_back(std::move(e));
  }
  return out;
}

std::string closed_after(const std::vector<TxEntry>& all, size_t i) {
  for (size_t k = all.size(); k-- > i + 1;)
    if (all[k].tx && !all[k].tx->interrupted() && transaction_older(all[i].id, all[k].id))
      return all[k].id;
  return {};
}

std::string utc_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string next_transaction_id(const std::vector<std::string>& existing) {
  long seq = 0;
  for (const auto& id : existing) {
    long v = std::strtol(id.c_str(), nullptr, 10);
    if (v > seq) seq = v;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04ld-%s", seq + 1, utc_now().c_str());
  return buf;
}

}  // namespace exliar
