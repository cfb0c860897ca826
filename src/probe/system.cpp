// System detection. Each decision is a table of evidence checked in order: the first
// file that exists under the root decides, and the file is kept as evidence.
#include "probe/system.h"

#include <functional>

#include "host/paths.h"
#include "host/text.h"
#include "probe/os_release.h"

namespace exliar {

namespace {

std::optional<std::string> read_trimmed(const Fs& fs, std::string_view p) {
  auto r = fs.read_file(p);
  if (!r) return std::nullopt;
  return std::string(trim(*r));
}

Distro probe_distro(const Fs& fs, std::vector<ProbeNote>& notes) {
  Distro d;
  // os-release(5): /etc/os-release first, /usr/lib/os-release as fallback; /etc's is
  // usually a relative symlink to the other, which Fs follows inside the root.
  for (auto p : {paths::kEtcOsRelease, paths::kUsrLibOsRelease}) {
    auto text = fs.read_file(p);
    if (!text) continue;
    auto kv = parse_os_release(*text);
    if (!kv) {
      notes.push_back({fs.display(p), kv.error().describe()});
      continue;
    }
    auto get = [&](const char* k) -> std::optional<std::string> {
      auto it = kv->find(k);
      if (it == kv->end() || it->second.empty()) return std::nullopt;
      return it->second;
    };
    d.id = get("ID");
    d.version_id = get("VERSION_ID");
    d.pretty_name = get("PRETTY_NAME");
    if (auto like = get("ID_LIKE"))
      for (auto t : split_ws(*like)) d.id_like.emplace_back(t);
    d.source = std::string(p);
    return d;
  }
  notes.push_back({fs.display(paths::kEtcOsRelease), "no os-release file; distribution unknown"});
  return d;
}

bool has_conf_entries(const Fs& fs, std::string_view dir) {
  auto names = fs.list_dir(dir);
  if (!names) return false;
  for (const auto& n : *names)
    if (n.size() > 5 && n.ends_with(".conf")) return true;
  return false;
}

bool any_grub_cfg(const Fs& fs) {
  if (fs.exists(paths::kBootGrubCfg) || fs.exists(paths::kBootGrub2Cfg)) return true;
  auto vendors = fs.list_dir(paths::kBootEfiDir);
  if (!vendors) return false;
  for (const auto& v : *vendors)
    if (fs.exists(path_join(path_join(paths::kBootEfiDir, v), "grub.cfg"))) return true;
  return false;
}

// The LoaderInfo EFI variable is set by the boot loader that booted this kernel
// (systemd-boot sets it; see systemd's Boot Loader Interface). UTF-16LE after 4 bytes.
std::optional<Bootloader> loader_info(const Fs& fs) {
  auto raw = fs.read_file(paths::kEfiVarLoaderInfo);
  if (!raw || raw->size() < 6) return std::nullopt;
  std::string ascii;
  for (size_t i = 4; i + 1 < raw->size(); i += 2)
    if ((*raw)[i] != 0) ascii += (*raw)[i];
  ascii = to_lower(ascii);
  if (ascii.find("systemd-boot") != std::string::npos) return Bootloader::systemd_boot;
  if (ascii.find("grub") != std::string::npos) return Bootloader::grub;
  return std::nullopt;
}

struct Rule {
  std::function<bool(const Fs&)> matches;
  std::string_view evidence;
};

template <class T>
struct Decision {
  T value;
  Rule rule;
};

template <class T>
std::pair<T, std::string_view> decide(const Fs& fs, const std::vector<Decision<T>>& table,
                                      T fallback) {
  for (const auto& d : table)
    if (d.rule.matches(fs)) return {d.value, d.rule.evidence};
  return {fallback, ""};
}

auto exists(std::string_view p) {
  return [p](const Fs& fs) { return fs.exists(p); };
}
auto exists_any(std::vector<std::string_view> ps) {
  return [ps](const Fs& fs) {
    for (auto p : ps)
      if (fs.exists(p)) return true;
    return false;
  };
}

Bootloader probe_bootloader(const Fs& fs, std::string& evidence) {
  if (auto li = loader_info(fs)) {
    // Pop!_OS boots with systemd-boot (so LoaderInfo says systemd-boot), but kernelstub
    // owns the entries and rewrites them: edits must go through its configuration.
    if (*li == Bootloader::systemd_boot && fs.exists(paths::kEtcKernelstubConfig)) {
      evidence = paths::kEtcKernelstubConfig;
      return Bootloader::kernelstub;
    }
    evidence = "EFI variable LoaderInfo";
    return *li;
  }
  static const std::vector<Decision<Bootloader>> table = {
      {Bootloader::kernelstub, {exists(paths::kEtcKernelstubConfig), paths::kEtcKernelstubConfig}},
      // Proxmox on ZFS/UEFI boots with systemd-boot via proxmox-boot-tool even though the
      // grub package (and /etc/default/grub) is installed.
      {Bootloader::systemd_boot,
       {[](const Fs& f) {
          return f.exists(paths::kProxmoxBootUuids) && f.exists(paths::kEtcKernelCmdline);
        },
        paths::kProxmoxBootUuids}},
      {Bootloader::grub, {[](const Fs& f) { return any_grub_cfg(f); }, "grub.cfg"}},
      {Bootloader::systemd_boot,
       {[](const Fs& f) {
          return has_conf_entries(f, paths::kBootLoaderEntries) ||
                 has_conf_entries(f, paths::kBootEfiLoaderEntries) ||
                 has_conf_entries(f, paths::kEfiLoaderEntries);
        },
        "loader/entries/*.conf"}},
      {Bootloader::grub,
       {exists_any({paths::kEtcDefaultGrub, paths::kEtcSysconfigGrub}), paths::kEtcDefaultGrub}},
      {Bootloader::systemd_boot, {exists(paths::kEtcKernelCmdline), paths::kEtcKernelCmdline}},
  };
  auto [b, ev] = decide(fs, table, Bootloader::unknown);
  evidence = ev;
  return b;
}

InitSystem probe_init(const Fs& fs) {
  // sd_booted(): /run/systemd/system exists only when systemd is PID 1.
  if (fs.is_dir(paths::kRunSystemdSystem)) return InitSystem::systemd;
  if (auto comm = read_trimmed(fs, paths::kProc1Comm)) {
    static const std::pair<const char*, InitSystem> names[] = {{"systemd", InitSystem::systemd},
                                                               {"openrc-init", InitSystem::openrc},
                                                               {"runit", InitSystem::runit},
                                                               {"runit-init", InitSystem::runit}};
    for (auto [n, v] : names)
      if (*comm == n) return v;
  }
  // Offline roots (snapshots, chroots): what is installed as /sbin/init decides.
  if (auto target = fs.read_link(paths::kSbinInit)) {
    if (target->find("systemd") != std::string::npos) return InitSystem::systemd;
    if (target->find("openrc") != std::string::npos) return InitSystem::openrc;
    if (target->find("runit") != std::string::npos) return InitSystem::runit;
  }
  static const std::vector<Decision<InitSystem>> table = {
      {InitSystem::openrc,
       {exists_any({paths::kRunOpenrc, paths::kSbinOpenrc, paths::kUsrSbinOpenrc}), ""}},
      {InitSystem::runit, {exists_any({paths::kRunRunit, paths::kEtcRunit}), ""}},
      {InitSystem::systemd,
       {exists_any({paths::kLibSystemdSystemd, paths::kUsrLibSystemdSystemd}), ""}},
      {InitSystem::sysvinit, {exists(paths::kEtcInittab), ""}},
  };
  return decide(fs, table, InitSystem::unknown).first;
}

Initramfs probe_initramfs(const Fs& fs, std::string& evidence) {
  // The generator's own binary is the strongest evidence; its config directory next.
  static const std::vector<Decision<Initramfs>> table = {
      {Initramfs::mkinitcpio, {exists(paths::kMkinitcpioBin), paths::kMkinitcpioBin}},
      {Initramfs::booster, {exists(paths::kBoosterBin), paths::kBoosterBin}},
      {Initramfs::dracut,
       {exists_any({std::begin(paths::kDracutBins), std::end(paths::kDracutBins)}), "dracut"}},
      {Initramfs::initramfs_tools,
       {exists_any(
            {std::begin(paths::kUpdateInitramfsBins), std::end(paths::kUpdateInitramfsBins)}),
        "update-initramfs"}},
      {Initramfs::mkinitcpio, {exists(paths::kEtcMkinitcpioConf), paths::kEtcMkinitcpioConf}},
      {Initramfs::booster, {exists(paths::kEtcBoosterYaml), paths::kEtcBoosterYaml}},
      {Initramfs::dracut,
       {exists_any({paths::kEtcDracutConf, paths::kEtcDracutConfD}), paths::kEtcDracutConfD}},
      {Initramfs::initramfs_tools, {exists(paths::kEtcInitramfsTools), paths::kEtcInitramfsTools}},
  };
  auto [v, ev] = decide(fs, table, Initramfs::unknown);
  evidence = ev;
  return v;
}

SecureBoot probe_secure_boot(const Fs& fs, std::vector<ProbeNote>& notes) {
  if (!fs.is_dir(paths::kEfiDir)) return SecureBoot::not_efi;
  auto raw = fs.read_file(paths::kEfiVarSecureBoot);
  if (!raw) return SecureBoot::unknown;
  auto sb = parse_secure_boot_var(*raw);
  if (sb == SecureBoot::unknown)
    notes.push_back({fs.display(paths::kEfiVarSecureBoot),
                     "not 4 attribute bytes and a 0/1 value; Secure Boot unknown"});
  return sb;
}

}  // namespace

Cpu parse_cpuinfo(std::string_view text) {
  Cpu cpu;
  bool have_flags = false;
  for (auto line : split_lines(text)) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      if (trim(line).empty() && have_flags && cpu.model) break;  // first processor is enough
      continue;
    }
    auto key = trim(line.substr(0, colon));
    auto val = trim(line.substr(colon + 1));
    if (key == "vendor_id") {
      if (val == "GenuineIntel")
        cpu.vendor = CpuVendor::intel;
      else if (val == "AuthenticAMD" || val == "HygonGenuine")
        cpu.vendor = CpuVendor::amd;
    } else if (key == "model name" && !cpu.model) {
      cpu.model = std::string(val);
    } else if (key == "flags" && !have_flags) {
      have_flags = true;
      for (auto f : split_ws(val)) {
        if (f == "vmx")
          cpu.virtualization = Virtualization::vmx;
        else if (f == "svm")
          cpu.virtualization = Virtualization::svm;
        else if (f == "hypervisor")
          cpu.hypervisor = true;
      }
    }
  }
  return cpu;
}

std::vector<std::string> iommu_cmdline_tokens(std::string_view cmdline) {
  static const std::string_view prefixes[] = {"intel_iommu=", "amd_iommu=", "iommu=", "iommu.",
                                              "pcie_acs_override="};
  std::vector<std::string> out;
  for (auto tok : split_ws(cmdline))
    for (auto p : prefixes)
      if (tok.starts_with(p)) {
        out.emplace_back(tok);
        break;
      }
  return out;
}

SecureBoot parse_secure_boot_var(std::string_view bytes) {
  if (bytes.size() < 5) return SecureBoot::unknown;
  switch (static_cast<unsigned char>(bytes[4])) {
    case 1:
      return SecureBoot::enabled;
    case 0:
      return SecureBoot::disabled;
    default:
      return SecureBoot::unknown;
  }
}

System probe_system(const Fs& fs, std::vector<ProbeNote>& notes) {
  System s;
  s.kernel = read_trimmed(fs, paths::kProcOsRelease);
  if (s.kernel && s.kernel->empty()) s.kernel.reset();
  s.distro = probe_distro(fs, notes);
  if (auto cpuinfo = fs.read_file(paths::kProcCpuinfo)) {
    s.cpu = parse_cpuinfo(*cpuinfo);
    if (s.cpu.vendor == CpuVendor::unknown && !s.cpu.model)
      notes.push_back(
          {fs.display(paths::kProcCpuinfo), "no vendor_id or model name line; CPU unknown"});
  } else
    notes.push_back({fs.display(paths::kProcCpuinfo), "cannot read; CPU unknown"});
  s.bootloader = probe_bootloader(fs, s.bootloader_evidence);
  s.init = probe_init(fs);
  s.initramfs = probe_initramfs(fs, s.initramfs_evidence);
  s.secure_boot = probe_secure_boot(fs, notes);
  if (auto cmd = read_trimmed(fs, paths::kProcCmdline)) {
    s.cmdline = *cmd;
    s.iommu.cmdline = iommu_cmdline_tokens(*cmd);
  }
  if (auto groups = fs.list_dir(paths::kIommuGroups)) {
    for (const auto& g : *groups)
      if (parse_long(g)) ++s.iommu.group_count;
    s.iommu.active = s.iommu.group_count > 0;
  }
  return s;
}

}  // namespace exliar
