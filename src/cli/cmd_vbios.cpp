// exliar vbios dump|check|patch. FILE arguments and -o are files on the host running
// exliar; ADDR is looked up (and its ROM read) through the rooted Fs. For dump and patch
// -o names the ROM written; for check it takes the report, like every other verb.
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>

#include "cli/commands.h"
#include "cli/output.h"
#include "gpu/vbios.h"
#include "host/paths.h"
#include "host/text.h"
#include "probe/pci.h"

namespace exliar::cli {

namespace {

using Json = nlohmann::ordered_json;

std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string host_path(const std::string& p) {
  if (!p.empty() && p.front() == '/') return path_normalize(p);
  char buf[4096];
  std::string cwd = ::getcwd(buf, sizeof buf) ? buf : ".";
  return path_normalize(cwd + "/" + p);
}

Result<std::string> read_host(const std::string& file) {
  auto host = RealFs::open("/");
  if (!host) return tl::unexpected(host.error());
  return host->read_file(host_path(file));
}

Status write_host(const std::string& file, std::span<const std::uint8_t> bytes) {
  auto host = RealFs::open("/");
  if (!host) return tl::unexpected(host.error());
  return host->write_atomic(host_path(file),
                            {reinterpret_cast<const char*>(bytes.data()), bytes.size()}, 0644);
}

void out(const Context& ctx, std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), ctx.output.out);
  std::fflush(ctx.output.out);
}

void out_json(const Context& ctx, const Json& j) { out(ctx, j.dump(2) + "\n"); }

/// The device at ADDR, under the root. Sets code to the exit code on failure.
std::optional<PciDevice> find_device(const Context& ctx, const std::string& addr, int& code) {
  auto a = parse_pci_address(addr);
  if (!a) {
    error(ctx, "not a PCI address: \"" + addr + "\" (expected e.g. 0000:01:00.0)");
    code = kUsage;
    return std::nullopt;
  }
  std::vector<ProbeNote> notes;
  for (auto& d : scan_pci(ctx.fs, notes))
    if (d.address == *a) return d;
  error(ctx, "no PCI device " + a->str() + " under " + ctx.fs.display(paths::kPciDevices));
  code = kEnvironment;
  return std::nullopt;
}

Json image_json(const RomImage& img, std::size_t index, const PciDevice* gpu) {
  Json j;
  j["index"] = index;
  j["offset"] = img.offset;
  j["length"] = img.length;
  j["code_type"] = to_string(img.code_type);
  j["code_type_raw"] = img.code_type_raw;
  j["vendor_id"] = hex4(img.vendor_id);
  j["device_id"] = hex4(img.device_id);
  Json list = Json::array();
  for (auto id : img.device_list) list.push_back(hex4(id));
  j["device_list"] = list;
  j["class"] = hex6(img.class_code);
  j["pcir_revision"] = img.pcir_revision;
  j["last"] = img.last;
  j["npde"] = img.npde;
  j["checksum_ok"] = img.checksum_ok ? Json(*img.checksum_ok) : Json(nullptr);
  if (img.efi) {
    j["efi"] = {{"signature_ok", img.efi->signature == 0x0EF1},
                {"subsystem", efi_subsystem_name(img.efi->subsystem)},
                {"machine", efi_machine_name(img.efi->machine)},
                {"compressed", img.efi->compression != 0},
                {"pe_found", img.efi->pe_found}};
  } else {
    j["efi"] = nullptr;
  }
  j["matches_gpu"] = gpu ? Json(img.matches(gpu->vendor_id, gpu->device_id)) : Json(nullptr);
  return j;
}

Json rom_json(const RomInfo& info, const PciDevice* gpu) {
  Json j;
  j["size"] = info.file_size;
  j["header_size"] = info.header_size;
  j["usable"] = info.usable();
  j["has_legacy"] = info.has_legacy();
  j["has_efi"] = info.has_efi();
  Json imgs = Json::array();
  for (std::size_t i = 0; i < info.images.size(); ++i)
    imgs.push_back(image_json(info.images[i], i + 1, gpu));
  j["images"] = imgs;
  j["problems"] = info.problems;
  j["notes"] = info.notes;
  return j;
}

std::string rom_text(const RomInfo& info, const PciDevice* gpu) {
  std::string s;
  s += info.header_size
           ? fmt::format("Header:  {} bytes before the first image (vendor tool dump)\n",
                         info.header_size)
           : "Header:  none (the file starts with the first image)\n";
  s += fmt::format("Images:  {}\n", info.images.size());
  for (std::size_t i = 0; i < info.images.size(); ++i) {
    const RomImage& img = info.images[i];
    std::string detail;
    if (img.checksum_ok) detail = *img.checksum_ok ? "checksum ok" : "CHECKSUM BAD";
    if (img.efi)
      detail = img.efi->signature != 0x0EF1
                   ? "EFI SIGNATURE BAD"
                   : fmt::format("{} {}{}", efi_machine_name(img.efi->machine),
                                 efi_subsystem_name(img.efi->subsystem),
                                 img.efi->compression ? ", compressed" : "");
    std::string match;
    if (gpu)
      match = img.matches(gpu->vendor_id, gpu->device_id) ? ", matches GPU" : ", OTHER DEVICE";
    s += fmt::format(
        "  {}. offset 0x{:x}, {} bytes, {} (type 0x{:02x}), {:04x}:{:04x}, class {}{}{}{}{}\n",
        i + 1, img.offset, img.length, to_string(img.code_type), img.code_type_raw, img.vendor_id,
        img.device_id, hex6(img.class_code), img.last ? ", last" : "", img.npde ? ", NPDE" : "",
        detail.empty() ? "" : ", " + detail, match);
  }
  for (const auto& p : info.problems) s += "Problem: " + p + "\n";
  for (const auto& n : info.notes) s += "Note:    " + n + "\n";
  s += info.usable() ? "Verdict: usable\n" : "Verdict: NOT usable\n";
  return s;
}

int do_check(Context& ctx, const VbiosOptions& o) {
  std::optional<PciDevice> gpu;
  if (!o.gpu.empty()) {
    int code = 0;
    gpu = find_device(ctx, o.gpu, code);
    if (!gpu) return code;
  }
  auto data = read_host(o.target);
  if (!data) {
    error(ctx, "cannot read the ROM file: " + data.error().describe());
    return kFindings;
  }
  auto info = parse_rom(as_bytes(*data));
  if (!info) {
    if (ctx.output.json)
      emit_json(ctx, {{"schema_version", 1},
                      {"file", o.target},
                      {"usable", false},
                      {"error", info.error().message}});
    error(ctx, o.target + ": " + info.error().message);
    return kFindings;
  }
  if (gpu)
    for (auto& p : rom_id_problems(*info, gpu->vendor_id, gpu->device_id))
      info->problems.push_back(p);
  const PciDevice* g = gpu ? &*gpu : nullptr;
  if (ctx.output.json) {
    Json j;
    j["schema_version"] = 1;
    j["file"] = o.target;
    j.update(rom_json(*info, g));
    j["gpu"] = g ? Json{{"address", g->address.str()},
                        {"vendor_id", hex4(g->vendor_id)},
                        {"device_id", hex4(g->device_id)},
                        {"matches", rom_id_problems(*info, g->vendor_id, g->device_id).empty()}}
                 : Json(nullptr);
    if (int rc = emit_json(ctx, j); rc != kOk) return rc;
  } else {
    std::string head = fmt::format("ROM:     {} ({} bytes)\n", o.target, data->size());
    if (g)
      head += fmt::format("GPU:     {} ({:04x}:{:04x})\n", g->address.str(), g->vendor_id,
                          g->device_id);
    if (int rc = emit(ctx, head + rom_text(*info, g)); rc != kOk) return rc;
  }
  return info->usable() ? kOk : kFindings;
}

int do_dump(Context& ctx, const VbiosOptions& o) {
  int code = 0;
  auto dev = find_device(ctx, o.target, code);
  if (!dev) return code;
  auto rom = dump_rom(ctx.fs, *dev);
  if (!rom) {
    error(ctx, "cannot dump the ROM of " + dev->address.str() + ": " + rom.error().describe());
    return kFindings;
  }
  std::string dest;
  if (!ctx.output_file.empty()) {
    dest = host_path(ctx.output_file);
    if (auto w = write_host(ctx.output_file, rom->bytes); !w) {
      error(ctx, w.error().describe());
      return kEnvironment;
    }
  } else {
    std::string p = default_rom_path(*dev);
    auto dirs = ctx.fs.make_dirs(path_dirname(p), 0755);
    Status w =
        dirs ? ctx.fs.write_atomic(
                   p, {reinterpret_cast<const char*>(rom->bytes.data()), rom->bytes.size()}, 0644)
             : Status(tl::unexpected(dirs.error()));
    if (!w) {
      error(ctx, w.error().describe());
      return kEnvironment;
    }
    dest = ctx.fs.display(p);
  }
  for (const auto& n : rom->notes) say(ctx, "note: " + n);
  if (ctx.output.json) {
    Json j;
    j["schema_version"] = 1;
    j["address"] = dev->address.str();
    j["source"] = rom->source;
    j["source_path"] = rom->source_path;
    j["output"] = dest;
    j.update(rom_json(rom->info, &*dev));
    out_json(ctx, j);
  } else {
    out(ctx, fmt::format("Saved the ROM of {} ({} bytes, from {}) to {}\n", dev->address.str(),
                         rom->bytes.size(), rom->source_path, dest) +
                 rom_text(rom->info, &*dev));
  }
  return kOk;
}

int do_patch(Context& ctx, const VbiosOptions& o) {
  if (ctx.output_file.empty()) {
    error(ctx, "`vbios patch` needs -o OUT: it never changes the input file");
    return kUsage;
  }
  if (host_path(ctx.output_file) == host_path(o.target)) {
    error(ctx,
          "-o names the input file; `vbios patch` never changes its input, choose another file");
    return kUsage;
  }
  auto data = read_host(o.target);
  if (!data) {
    error(ctx, "cannot read the ROM file: " + data.error().describe());
    return kFindings;
  }
  auto info = parse_rom(as_bytes(*data));
  auto stripped = strip_rom_header(as_bytes(*data));
  if (!info || !stripped) {
    error(ctx, o.target + ": " + (info ? stripped.error().message : info.error().message) +
                   "; nothing written");
    return kFindings;
  }
  if (auto w = write_host(ctx.output_file, *stripped); !w) {
    error(ctx, w.error().describe());
    return kEnvironment;
  }
  std::string msg = info->header_size
                        ? fmt::format("Removed a {}-byte header; wrote {} bytes to {}\n",
                                      info->header_size, stripped->size(), ctx.output_file)
                        : fmt::format(
                              "No header before the first image; wrote an identical validated copy "
                              "({} bytes) to {}\n",
                              stripped->size(), ctx.output_file);
  if (ctx.output.json) {
    auto again = parse_rom(*stripped);
    Json j;
    j["schema_version"] = 1;
    j["input"] = o.target;
    j["output"] = ctx.output_file;
    j["removed_header_bytes"] = info->header_size;
    if (again) j.update(rom_json(*again, nullptr));
    out_json(ctx, j);
  } else {
    out(ctx, msg);
  }
  return kOk;
}

}  // namespace

int run_vbios(Context& ctx, const VbiosOptions& o) {
  if (o.action == "dump") return do_dump(ctx, o);
  if (o.action == "check") return do_check(ctx, o);
  if (o.action == "patch") return do_patch(ctx, o);
  error(ctx, "unknown vbios action \"" + o.action + "\" (dump, check or patch)");
  return kUsage;
}

}  // namespace exliar::cli
