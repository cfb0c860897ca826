// Pop!_OS kernelstub: it owns the systemd-boot entry and rewrites it from its JSON
// configuration, so exliar reads the JSON and changes options only through
// `kernelstub -a/-d` (peer-tools 5.10). No file of kernelstub's is edited directly.
#include "boot/backend.h"
#include "boot/entry_files.h"
#include "host/paths.h"
#include "host/text.h"

namespace exliar::boot {

namespace {

class KernelstubBackend final : public BootBackend {
 public:
  std::string name() const override { return "kernelstub"; }

  Result<std::vector<std::string>> options(const Fs& fs) const {
    auto t = read_boot_file(fs, paths::kEtcKernelstubConfig);
    if (!t) return tl::unexpected(t.error());
    auto o = parse_kernelstub_config(*t);
    if (!o)
      return tl::unexpected(
          Error{o.error().message, std::string(paths::kEtcKernelstubConfig), 0, o.error().line});
    return o;
  }

  Result<BootConfig> read_files(const Fs& fs) const override {
    auto o = options(fs);
    if (!o) return tl::unexpected(o.error());
    BootConfig cfg;
    cfg.backend = name();
    // kernelstub prepends root=UUID=... ro to the options in the entry it writes.
    cfg.entries.push_back({"kernelstub (user.kernel_options)",
                           *o,
                           {{std::string(paths::kEtcKernelstubConfig), 0, "user.kernel_options"}},
                           true,
                           false});
    return cfg;
  }

  Result<BootPlan> plan_edits(const Fs& fs, const std::vector<ParamEdit>& edits) const override {
    auto o = options(fs);
    if (!o) return tl::unexpected(o.error());
    // Simulate on the option list (one word per element) to know what changes.
    std::string line = join(*o, " ");
    auto c = Cmdline::parse(line);
    if (!c)
      return tl::unexpected(
          Error{c.error().message, std::string(paths::kEtcKernelstubConfig), 0, 0});
    BootPlan plan;
    for (const auto& e : edits) {
      auto before = c->words();
      auto changed = apply_edit(*c, e);
      if (!changed) return tl::unexpected(changed.error());
      if (!*changed) continue;
      plan.applied.push_back(e);
      auto after = c->words();
      // Tokens that disappeared are deleted, new ones added: a merged comma list is
      // one -d of the old token and one -a of the new.
      for (const auto& w : before)
        if (std::find(after.begin(), after.end(), w) == after.end())
          plan.steps.push_back(command_step(
              RunCommand{
                  {"kernelstub", "-d", w}, "remove a kernel option", {"kernelstub", "-a", w}},
              "kernel option " + w, "boot/kernelstub"));
      for (const auto& w : after)
        if (std::find(before.begin(), before.end(), w) == before.end())
          plan.steps.push_back(command_step(
              RunCommand{{"kernelstub", "-a", w}, "add a kernel option", {"kernelstub", "-d", w}},
              "kernel option " + w, "boot/kernelstub"));
    }
    // Each kernelstub call rewrites its configuration and copies the kernel and initramfs
    // to the ESP again: a plan that only adds options makes one call (issue 23: one
    // regeneration per plan). kernelstub(1) takes them as one quoted list, `-a
    // "kernel-options"`; undone as one `-d` of the same list. A plan that also deletes
    // keeps one call per option (kernelstub's order between -a and -d is not relied on).
    bool adds_only = plan.steps.size() > 1;
    for (const auto& st : plan.steps)
      adds_only = adds_only && std::get<RunCommand>(st.action).argv[1] == "-a";
    if (adds_only) {
      std::vector<std::string> words;
      for (const auto& st : plan.steps) words.push_back(std::get<RunCommand>(st.action).argv[2]);
      std::string all = join(words, " ");
      plan.steps = {command_step(
          RunCommand{{"kernelstub", "-a", all}, "add kernel options", {"kernelstub", "-d", all}},
          "kernel options " + all, "boot/kernelstub")};
    }
    return plan;
  }
};

}  // namespace

std::unique_ptr<BootBackend> make_kernelstub_backend(const System&) {
  return std::make_unique<KernelstubBackend>();
}

}  // namespace exliar::boot
