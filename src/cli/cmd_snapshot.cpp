// `exliar snapshot OUT.tar.gz`: the files `detect` and `check` read, for a bug report.
// The two commands run once through a RecordingFs (src/probe/snapshot.h), so the archive
// holds exactly what they read, and `exliar --root DIR` on the unpacked archive reads the
// same bytes and gives the same detect --json and check --json.
#include <fmt/format.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/output.h"
#include "probe/snapshot.h"

namespace exliar::cli {

int run_snapshot(Context& ctx, const SnapshotOptions& o) {
  RecordingFs rec(ctx.fs);
  {
    std::FILE* null = std::fopen("/dev/null", "w");
    if (!null) {
      error(ctx, "cannot open /dev/null");
      return kEnvironment;
    }
    // Plugins stay off: they are code, and what they read is theirs, not exliar's.
    for (bool json : {true, false}) {
      Output quiet = ctx.output;
      quiet.json = json;
      quiet.out = quiet.err = null;
      quiet.verbosity = Verbosity::verbose;
      Context c{rec, ctx.runner, quiet, ctx.gpu_db_dir, true, false, ""};
      run_detect(c);
      run_check(c, CheckOptions{});
    }
    std::fclose(null);
  }
  auto entries = snapshot_entries(ctx.fs, rec);
  if (!entries) {
    error(ctx, entries.error().describe());
    return kEnvironment;
  }

  char tmpl[] = "/tmp/exliar-snapshot.XXXXXX";
  if (!::mkdtemp(tmpl)) {
    error(ctx, "cannot create a temporary directory in /tmp");
    return kEnvironment;
  }
  std::string tmp = tmpl;
  auto cleanup = [&] { ctx.runner.run({"rm", "-rf", "--one-file-system", tmp}); };
  auto staging = RealFs::open(tmp);
  if (!staging) {
    error(ctx, staging.error().describe());
    cleanup();
    return kEnvironment;
  }
  if (auto w = write_snapshot(*staging, *entries); !w) {
    error(ctx, "writing the snapshot: " + w.error().describe());
    cleanup();
    return kEnvironment;
  }
  std::string out = o.out;
  if (out.front() != '/') {
    char buf[4096];
    if (::getcwd(buf, sizeof buf)) out = std::string(buf) + "/" + out;
  }
  // GNU tar: names sorted and owners numeric, so the archive shows only what was read.
  auto r = ctx.runner.run({"tar", "--sort=name", "--numeric-owner", "--owner=0", "--group=0",
                           "-czf", out, "-C", tmp, "."});
  cleanup();
  if (!r || r->exit_code != 0) {
    error(ctx, "tar -czf " + out + " failed: " + (r ? r->err : r.error().describe()));
    return kEnvironment;
  }

  size_t files = 0, placeholders = 0, bytes = 0;
  for (const auto& e : *entries)
    if (e.kind == SnapshotEntry::Kind::file) {
      ++files;
      placeholders += e.placeholder;
      bytes += e.content.size();
    }
  if (ctx.output.json) {
    nlohmann::ordered_json j;
    j["archive"] = out;
    j["root"] = ctx.fs.root();
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& e : *entries) {
      nlohmann::ordered_json x;
      x["path"] = e.path;
      x["type"] = e.kind == SnapshotEntry::Kind::dir    ? "dir"
                  : e.kind == SnapshotEntry::Kind::link ? "link"
                  : e.placeholder                       ? "empty"
                                                        : "file";
      if (e.kind == SnapshotEntry::Kind::link) x["target"] = e.content;
      if (e.kind == SnapshotEntry::Kind::file && !e.placeholder) x["bytes"] = e.content.size();
      list.push_back(x);
    }
    j["entries"] = list;
    return emit_json(ctx, j);
  }
  std::string text;
  for (const auto& e : *entries) {
    if (e.kind == SnapshotEntry::Kind::dir) continue;
    if (e.kind == SnapshotEntry::Kind::link)
      text += fmt::format("link  {} -> {}\n", e.path, e.content);
    else if (e.placeholder)
      text += fmt::format("empty {}   (listed or tested, not read)\n", e.path);
    else
      text += fmt::format("file  {}   ({} bytes)\n", e.path, e.content.size());
  }
  text += fmt::format(
      "{}: {} files read ({} bytes), {} empty placeholders, {} entries in all.\n"
      "Unpack it and run `exliar --root DIR detect` to read it back.\n",
      out, files - placeholders, bytes, placeholders, entries->size());
  return emit(ctx, text);
}

}  // namespace exliar::cli
