// exliar vm-xml: libvirt <hostdev> fragment, patched domain (--domain), QEMU arguments
// (--format qemu) or a lint of a domain (--check). --domain, --check and --rom name files on
// the machine running exliar (like -o); the GPU inventory comes from the rooted Fs.
#include <fmt/format.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "gpu/db.h"
#include "gpu/vbios.h"
#include "host/text.h"
#include "probe/probe.h"
#include "vm/vm_xml.h"

namespace exliar::cli {

namespace {

std::string host_path(const std::string& p) {
  if (p.empty() || p.front() == '/') return p;
  char buf[4096];
  if (!getcwd(buf, sizeof buf)) return p;
  return std::string(buf) + "/" + p;
}

const Gpu* find_gpu(const Inventory& inv, const PciAddress& a) {
  for (const auto& g : inv.gpus) {
    if (g.address == a) return &g;
    for (const auto& f : g.functions)
      if (f == a) return &g;
  }
  return nullptr;
}

std::string gpu_list(const Inventory& inv) {
  std::vector<std::string> v;
  for (const auto& g : inv.gpus) v.push_back(g.address.str());
  return v.empty() ? "none found" : join(v, ", ");
}

int run_lint(Context& ctx, const Inventory& inv, const Fs& host, const std::string& file) {
  auto text = host.read_file(file);
  if (!text) {
    error(ctx, text.error().describe());
    return kEnvironment;
  }
  auto findings = vm::lint_domain(*text, inv, host, file);
  if (!findings) {
    error(ctx, findings.error().describe());
    return kUsage;
  }
  bool errors = false;
  for (const auto& f : *findings) errors |= f.severity == vm::LintSeverity::error;
  int rc = errors ? kFindings : kOk;
  if (ctx.output.json) {
    nlohmann::ordered_json j;
    j["schema_version"] = 1;
    j["domain"] = file;
    j["findings"] = nlohmann::ordered_json::array();
    for (const auto& f : *findings)
      j["findings"].push_back({{"id", f.id},
                               {"severity", vm::to_string(f.severity)},
                               {"device", f.device},
                               {"message", f.message}});
    int e = emit_json(ctx, j);
    return e ? e : rc;
  }
  std::string out;
  for (const auto& f : *findings)
    out += fmt::format("{}: {} [{}]: {}\n", vm::to_string(f.severity), f.device, f.id, f.message);
  if (findings->empty()) out = file + ": no passthrough problems found\n";
  int e = emit(ctx, out);
  return e ? e : rc;
}

/// The vendor handler's snippets for this GPU (hidden KVM, vendor_id, ROM), as the GPU
/// database says (--gpu-db overrides the embedded one).
Result<VmSnippets> snippets_for(const Context& ctx, const Inventory& inv, const Gpu& gpu,
                                bool legacy_nvidia_driver) {
  auto db = gpu::load_gpu_db(ctx.gpu_db_dir);
  if (!db) return tl::unexpected(db.error());
  VmSnippetOptions o;
  o.legacy_nvidia_driver = legacy_nvidia_driver;
  VmSnippets s = vm::vendor_snippets(inv, gpu, *db, o);
  if (legacy_nvidia_driver && !s.hide_kvm)
    say(ctx, "--legacy-nvidia-driver: not needed for " + gpu.address.str() +
                 " (no GeForce Code 43 check applies: see `exliar check`); KVM stays visible");
  return s;
}

}  // namespace

int run_vm_xml(Context& ctx, const VmXmlOptions& o) {
  auto host = RealFs::open("/");
  if (!host) {
    error(ctx, host.error().describe());
    return kEnvironment;
  }
  Inventory inv = probe(ctx.fs);
  print_notes(ctx, inv);
  if (!o.check.empty()) return run_lint(ctx, inv, *host, host_path(o.check));

  if (o.gpu.empty()) {
    error(ctx, "--gpu ADDR is required (GPUs on this host: " + gpu_list(inv) + ")");
    return kUsage;
  }
  auto addr = parse_pci_address(o.gpu);
  if (!addr) {
    error(ctx, "--gpu: \"" + o.gpu + "\" is not a PCI address like 0000:01:00.0");
    return kUsage;
  }
  const Gpu* gpu = find_gpu(inv, *addr);
  if (!gpu) {
    error(ctx, "no GPU at " + addr->str() + " (GPUs on this host: " + gpu_list(inv) + ")");
    return kUsage;
  }
  std::optional<std::string> rom;
  if (!o.rom.empty()) {
    rom = host_path(o.rom);
    if (!host->is_file(*rom)) {
      error(ctx, "--rom: " + *rom + " is not a readable file");
      return kEnvironment;
    }
    // The guest gets this ROM instead of the card's: it must be a valid image for this GPU.
    if (const PciDevice* dev = inv.find(gpu->address)) {
      auto valid = validate_rom_for(*rom, *dev);
      if (!valid) {
        error(ctx, "--rom: " + valid.error().describe());
        return kEnvironment;
      }
      for (const auto& w : valid->warnings) say(ctx, "warning: --rom: " + w);
    }
  }
  auto snippets = snippets_for(ctx, inv, *gpu, o.legacy_nvidia_driver);
  if (!snippets) {
    error(ctx, snippets.error().describe());
    return kEnvironment;
  }
  auto p = vm::make_passthrough(*gpu, inv.devices, *snippets, rom);
  if (!p) {
    error(ctx, p.error().describe());
    return kUsage;
  }

  if (o.format == "proxmox") {
    std::string line = vm::proxmox_hostpci(*p);
    if (rom)
      say(ctx, "copy the ROM to /usr/share/kvm/" + std::string(path_basename(*rom)) +
                   " on the Proxmox host: romfile= names a file there");
    if (ctx.output.json) {
      nlohmann::ordered_json j;
      j["schema_version"] = 1;
      j["gpu"] = gpu->address.str();
      j["hostpci"] = std::string(trim(line));
      return emit_json(ctx, j);
    }
    return emit(ctx, line);
  }
  if (o.format == "qemu") {
    if (ctx.output.json) {
      nlohmann::ordered_json j;
      j["schema_version"] = 1;
      j["gpu"] = gpu->address.str();
      j["args"] = vm::qemu_args(*p);
      return emit_json(ctx, j);
    }
    return emit(ctx, vm::qemu_args_text(*p));
  }
  std::string xml;
  if (!o.domain.empty()) {
    std::string file = host_path(o.domain);
    auto text = host->read_file(file);
    if (!text) {
      error(ctx, text.error().describe());
      return kEnvironment;
    }
    auto patched = vm::patch_domain(*text, *p, file);
    if (!patched) {
      error(ctx, patched.error().describe());
      return kUsage;
    }
    for (const auto& a : patched->actions) say(ctx, a);
    if (!patched->changed)
      say(ctx, file + ": already set up for " + gpu->address.str() + "; nothing to add");
    xml = std::move(patched->xml);
  } else {
    xml = vm::fragment_xml(*p);
  }
  if (ctx.output.json) {
    nlohmann::ordered_json j;
    j["schema_version"] = 1;
    j["gpu"] = gpu->address.str();
    j["xml"] = xml;
    return emit_json(ctx, j);
  }
  return emit(ctx, xml);
}

}  // namespace exliar::cli
