// See vfio_measure.h. Every descriptor is owned by a Fd and closed on every path; the
// sequence is the one of Documentation/driver-api/vfio.rst: container → API version →
// type1 extension → group viable → group into container → IOMMU model → device fd.
#include "probe/vfio_measure.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include "host/paths.h"
#include "host/text.h"

namespace exliar {

const char* to_string(ResetKind k) {
  switch (k) {
    case ResetKind::none:
      return "none";
    case ResetKind::function:
      return "function";
    case ResetKind::hot:
      return "bus-hot-reset";
  }
  return "none";
}

namespace {

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

tl::unexpected<Error> vfio_error(std::string_view what, std::string_view path) {
  return fail(std::string(what), std::string(path), errno);
}

std::string now_utc() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<std::string> attr(const Fs& fs, const PciAddress& a, std::string_view name) {
  auto t = fs.read_file(path_join(path_join(paths::kPciDevices, a.str()), name));
  if (!t) return std::nullopt;
  return std::string(trim(*t));
}

// Reads a whole region; a short read keeps what arrived (the config region of a
// conventional PCI device is 256 bytes, of PCIe 4096).
std::vector<std::uint8_t> read_region(int dev, const vfio_region_info& r) {
  std::vector<std::uint8_t> buf(r.size);
  std::size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = ::pread(dev, buf.data() + got, buf.size() - got, off_t(r.offset + got));
    if (n <= 0) break;
    got += std::size_t(n);
  }
  buf.resize(got);
  return buf;
}

// Bus hot reset needs every affected group in our hands (the kernel checks that each
// affected device's group is in the list of group fds we pass).
std::vector<int> hot_reset_groups(int dev) {
  vfio_pci_hot_reset_info probe{};
  probe.argsz = sizeof probe;
  if (::ioctl(dev, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &probe) != 0 && errno != ENOSPC) return {};
  if (probe.count == 0) return {};
  std::vector<std::uint8_t> buf(sizeof(vfio_pci_hot_reset_info) +
                                probe.count * sizeof(vfio_pci_dependent_device));
  auto* info = reinterpret_cast<vfio_pci_hot_reset_info*>(buf.data());
  info->argsz = std::uint32_t(buf.size());
  if (::ioctl(dev, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info) != 0) return {};
  std::vector<int> groups;
  for (std::uint32_t i = 0; i < info->count; ++i) groups.push_back(int(info->devices[i].group_id));
  return groups;
}

ResetAttempt reset_once(int dev, int group_fd, ResetKind kind, const vfio_region_info& cfg) {
  ResetAttempt a;
  auto t0 = std::chrono::steady_clock::now();
  int rc;
  if (kind == ResetKind::function) {
    rc = ::ioctl(dev, VFIO_DEVICE_RESET);
  } else {
    std::vector<std::uint8_t> buf(sizeof(vfio_pci_hot_reset) + sizeof(std::int32_t));
    auto* hr = reinterpret_cast<vfio_pci_hot_reset*>(buf.data());
    hr->argsz = std::uint32_t(buf.size());
    hr->count = 1;
    hr->group_fds[0] = group_fd;
    rc = ::ioctl(dev, VFIO_DEVICE_PCI_HOT_RESET, hr);
  }
  int err = errno;
  a.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  a.ok = rc == 0;
  if (!a.ok) a.error = std::strerror(err);
  a.config = read_region(dev, cfg);
  return a;
}

// The ROM through VFIO; sysfs `rom` when VFIO exposes none (enabled with "1" and always
// disabled with "0" after, as dump_rom() does).
void read_rom(Fs& fs, int dev, const vfio_region_info& rom, VfioMeasurement& m) {
  if (rom.size > 0) {
    m.rom = read_region(dev, rom);
    if (!m.rom.empty()) {
      m.rom_source = "vfio";
      return;
    }
  }
  std::string p = path_join(path_join(paths::kPciDevices, m.address.str()), "rom");
  if (!fs.exists(p)) {
    m.rom_note = "the device has no ROM BAR (VFIO ROM region empty, no sysfs rom)";
    return;
  }
  if (fs.write_in_place(p, "1")) {
    if (auto bytes = fs.read_file(p); bytes && !bytes->empty()) {
      m.rom.assign(bytes->begin(), bytes->end());
      m.rom_source = "sysfs";
    }
    (void)fs.write_in_place(p, "0");
  }
  if (m.rom.empty()) m.rom_note = "reading the ROM gave no bytes (VFIO ROM region and sysfs rom)";
}

}  // namespace

Result<VfioMeasurement> measure_vfio(Fs& fs, const PciDevice& dev, int resets) {
  VfioMeasurement m;
  m.address = dev.address;
  m.vendor_id = dev.vendor_id;
  m.device_id = dev.device_id;
  m.measured_at = now_utc();
  if (!dev.iommu_group) return fail("the device has no IOMMU group", m.address.str());
  m.group = *dev.iommu_group;
  m.reset_methods = attr(fs, dev.address, "reset_method");
  m.link_speed = attr(fs, dev.address, "current_link_speed");
  m.link_width = attr(fs, dev.address, "current_link_width");
  m.max_link_speed = attr(fs, dev.address, "max_link_speed");
  m.max_link_width = attr(fs, dev.address, "max_link_width");

  const std::string cpath = "/dev/vfio/vfio";
  Fd container(::open(cpath.c_str(), O_RDWR | O_CLOEXEC));
  if (container.get() < 0) return vfio_error("cannot open the VFIO container", cpath);
  if (::ioctl(container.get(), VFIO_GET_API_VERSION) != VFIO_API_VERSION)
    return fail("unknown VFIO API version", cpath);
  int model = ::ioctl(container.get(), VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0
                  ? VFIO_TYPE1v2_IOMMU
                  : VFIO_TYPE1_IOMMU;
  std::string gpath = fmt::format("/dev/vfio/{}", m.group);
  Fd group(::open(gpath.c_str(), O_RDWR | O_CLOEXEC));
  if (group.get() < 0) return vfio_error("cannot open the IOMMU group", gpath);
  vfio_group_status st{};
  st.argsz = sizeof st;
  if (::ioctl(group.get(), VFIO_GROUP_GET_STATUS, &st) != 0)
    return vfio_error("VFIO_GROUP_GET_STATUS failed", gpath);
  if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE))
    return fail(
        "the IOMMU group is not viable: a member is bound to a driver other than vfio-pci "
        "(exliar bind moves the whole group)",
        gpath);
  int cfd = container.get();
  if (::ioctl(group.get(), VFIO_GROUP_SET_CONTAINER, &cfd) != 0)
    return vfio_error("VFIO_GROUP_SET_CONTAINER failed", gpath);
  if (::ioctl(container.get(), VFIO_SET_IOMMU, model) != 0)
    return vfio_error("VFIO_SET_IOMMU failed", cpath);
  std::string name = dev.address.str();
  Fd device(::ioctl(group.get(), VFIO_GROUP_GET_DEVICE_FD, name.c_str()));
  if (device.get() < 0) return vfio_error("VFIO_GROUP_GET_DEVICE_FD " + name + " failed", gpath);

  vfio_device_info info{};
  info.argsz = sizeof info;
  if (::ioctl(device.get(), VFIO_DEVICE_GET_INFO, &info) != 0)
    return vfio_error("VFIO_DEVICE_GET_INFO failed", gpath);
  m.device_flags = info.flags;
  m.num_regions = info.num_regions;
  vfio_region_info cfg{}, rom{};
  for (std::uint32_t i = 0; i < info.num_regions && i <= VFIO_PCI_CONFIG_REGION_INDEX; ++i) {
    vfio_region_info r{};
    r.argsz = sizeof r;
    r.index = i;
    if (::ioctl(device.get(), VFIO_DEVICE_GET_REGION_INFO, &r) != 0) continue;
    m.regions.push_back({i, r.flags, r.size});
    if (i == VFIO_PCI_CONFIG_REGION_INDEX) cfg = r;
    if (i == VFIO_PCI_ROM_REGION_INDEX) rom = r;
  }
  if (cfg.size == 0) return fail("VFIO exposes no config space region", gpath);
  m.config_before = read_region(device.get(), cfg);

  m.hot_reset_groups = hot_reset_groups(device.get());
  bool hot_ok = !m.hot_reset_groups.empty();
  for (int g : m.hot_reset_groups) hot_ok = hot_ok && g == m.group;
  if (info.flags & VFIO_DEVICE_FLAGS_RESET)
    m.reset_kind = ResetKind::function;
  else if (hot_ok)
    m.reset_kind = ResetKind::hot;
  if (m.reset_kind != ResetKind::none)
    for (int i = 0; i < resets; ++i) {
      m.resets.push_back(reset_once(device.get(), group.get(), m.reset_kind, cfg));
      if (!m.resets.back().ok) break;  // a failed reset is the answer; do not hammer it
    }

  read_rom(fs, device.get(), rom, m);
  return m;
}

}  // namespace exliar
