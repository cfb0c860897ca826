#include "plan/next_steps.h"

#include "host/runner.h"
#include "host/text.h"

namespace exliar {

std::string step_label(const Step& s) {
  if (const auto* e = std::get_if<EditFile>(&s.action))
    return std::string(!e->before ? "create " : !e->after ? "delete " : "edit ") + e->path;
  if (const auto* c = std::get_if<RunCommand>(&s.action)) return "run " + shell_quote(c->argv);
  const auto& w = std::get<WriteSysfs>(s.action);
  return "write " + std::string(trim(w.value)) + " to " + w.path;
}

AfterApply after_apply(const Plan& plan) {
  AfterApply a;
  bool boot_time = false, runtime = false;
  for (const auto& s : plan.steps) {
    if (std::holds_alternative<WriteSysfs>(s.action)) {
      runtime = true;
      continue;
    }
    boot_time = true;
    a.changed.push_back(step_label(s));
  }
  a.reboot = boot_time;
  if (boot_time)
    a.why =
        "the kernel reads its command line, module options and initramfs only at boot: "
        "vfio-pci takes the GPU at the next boot";
  else if (runtime)
    a.why = "the changes are runtime driver bindings, in effect already";
  else
    a.why = "nothing was changed";
  return a;
}

std::vector<const RunCommand*> regenerations(const Plan& plan) {
  std::vector<const RunCommand*> out;
  for (const auto& s : plan.steps)
    if (const auto* c = std::get_if<RunCommand>(&s.action))
      if (!c->argv.empty() && c->argv[0] != "modprobe") out.push_back(c);
  return out;
}

}  // namespace exliar
