// Every host path exliar reads or writes, in one place. Paths are absolute as seen
// from inside the host root; Fs maps them under --root. No other file may spell them.
#pragma once

#include <string_view>

namespace exliar::paths {

// sysfs
inline constexpr std::string_view kPciDevices = "/sys/bus/pci/devices";
inline constexpr std::string_view kPciDrivers = "/sys/bus/pci/drivers";
inline constexpr std::string_view kPciDriversProbe = "/sys/bus/pci/drivers_probe";
inline constexpr std::string_view kIommuGroups = "/sys/kernel/iommu_groups";
inline constexpr std::string_view kSysDevices = "/sys/devices";
inline constexpr std::string_view kEfiVars = "/sys/firmware/efi/efivars";
inline constexpr std::string_view kEfiDir = "/sys/firmware/efi";
inline constexpr std::string_view kAcpiVfct = "/sys/firmware/acpi/tables/VFCT";
inline constexpr std::string_view kSysModule = "/sys/module";
inline constexpr std::string_view kSysClassDrm = "/sys/class/drm";
inline constexpr std::string_view kSysClassVtconsole = "/sys/class/vtconsole";
inline constexpr std::string_view kSysClassNet = "/sys/class/net";
inline constexpr std::string_view kSysBlock = "/sys/block";
/// Firmware framebuffers (efi-framebuffer.0, simple-framebuffer.0, vesa-framebuffer.0) are
/// platform devices bound to a driver of the same name (drivers/firmware/sysfb.c).
inline constexpr std::string_view kPlatformDrivers = "/sys/bus/platform/drivers";
inline constexpr std::string_view kPlatformDevices = "/sys/bus/platform/devices";

// procfs
inline constexpr std::string_view kProcCmdline = "/proc/cmdline";
inline constexpr std::string_view kProcCpuinfo = "/proc/cpuinfo";
inline constexpr std::string_view kProcOsRelease = "/proc/sys/kernel/osrelease";
inline constexpr std::string_view kProcMounts = "/proc/mounts";
inline constexpr std::string_view kProcNetRoute = "/proc/net/route";
inline constexpr std::string_view kProcModules = "/proc/modules";
inline constexpr std::string_view kProc1Comm = "/proc/1/comm";
inline constexpr std::string_view kProc = "/proc";  ///< /proc/<pid>/fd: who holds a GPU's nodes
/// The running binary (read with readlink(2) on the real host, never under --root).
inline constexpr std::string_view kProcSelfExe = "/proc/self/exe";
/// Where packages install exliar: the hook dispatcher's fallback when /proc/self/exe
/// cannot be read.
inline constexpr std::string_view kInstalledExe = "/usr/bin/exliar";
inline constexpr std::string_view kDev = "/dev";
inline constexpr std::string_view kDevDri = "/dev/dri";

// distribution and init
inline constexpr std::string_view kEtcOsRelease = "/etc/os-release";
inline constexpr std::string_view kUsrLibOsRelease = "/usr/lib/os-release";
inline constexpr std::string_view kRunSystemdSystem = "/run/systemd/system";
inline constexpr std::string_view kSbinInit = "/sbin/init";
inline constexpr std::string_view kLibSystemdSystemd = "/lib/systemd/systemd";
inline constexpr std::string_view kUsrLibSystemdSystemd = "/usr/lib/systemd/systemd";
inline constexpr std::string_view kSbinOpenrc = "/sbin/openrc";
inline constexpr std::string_view kUsrSbinOpenrc = "/usr/sbin/openrc";
inline constexpr std::string_view kRunOpenrc = "/run/openrc";
inline constexpr std::string_view kEtcRunit = "/etc/runit";
inline constexpr std::string_view kRunRunit = "/run/runit";
inline constexpr std::string_view kEtcInittab = "/etc/inittab";

// bootloaders
inline constexpr std::string_view kEtcDefaultGrub = "/etc/default/grub";
inline constexpr std::string_view kEtcDefaultGrubD = "/etc/default/grub.d";
inline constexpr std::string_view kEtcSysconfigGrub = "/etc/sysconfig/grub";
inline constexpr std::string_view kBootGrubCfg = "/boot/grub/grub.cfg";
inline constexpr std::string_view kBootGrub2Cfg = "/boot/grub2/grub.cfg";
inline constexpr std::string_view kBootEfiDir = "/boot/efi/EFI";
inline constexpr std::string_view kBootLoaderEntries = "/boot/loader/entries";
inline constexpr std::string_view kBootEfiLoaderEntries = "/boot/efi/loader/entries";
inline constexpr std::string_view kEfiLoaderEntries = "/efi/loader/entries";
inline constexpr std::string_view kEtcKernelCmdline = "/etc/kernel/cmdline";
inline constexpr std::string_view kEtcKernelstubConfig = "/etc/kernelstub/configuration";
inline constexpr std::string_view kProxmoxBootUuids = "/etc/kernel/proxmox-boot-uuids";

// kernels, modules, initramfs
inline constexpr std::string_view kLibModules = "/lib/modules";
inline constexpr std::string_view kUsrLibModules = "/usr/lib/modules";
inline constexpr std::string_view kEtcModprobeD = "/etc/modprobe.d";
inline constexpr std::string_view kEtcModulesLoadD = "/etc/modules-load.d";
inline constexpr std::string_view kEtcModules =
    "/etc/modules";  ///< Debian: modules for the real root
inline constexpr std::string_view kEtcMkinitcpioConf = "/etc/mkinitcpio.conf";
inline constexpr std::string_view kEtcMkinitcpioConfD = "/etc/mkinitcpio.conf.d";
inline constexpr std::string_view kEtcDracutConfD = "/etc/dracut.conf.d";
inline constexpr std::string_view kEtcDracutConf = "/etc/dracut.conf";
inline constexpr std::string_view kEtcInitramfsTools = "/etc/initramfs-tools";
inline constexpr std::string_view kEtcInitramfsToolsModules = "/etc/initramfs-tools/modules";
inline constexpr std::string_view kEtcInitramfsToolsHooks = "/etc/initramfs-tools/hooks";
inline constexpr std::string_view kEtcInitramfsToolsScripts = "/etc/initramfs-tools/scripts";
inline constexpr std::string_view kEtcBoosterYaml = "/etc/booster.yaml";
inline constexpr std::string_view kInitramfsToolsHookFunctions =
    "/usr/share/initramfs-tools/hook-functions";
inline constexpr std::string_view kBoosterRegenerate = "/usr/lib/booster/regenerate_images";
inline constexpr std::string_view kBootDir = "/boot";
inline constexpr std::string_view kBinSh = "/bin/sh";
inline constexpr std::string_view kDevKmsg = "/dev/kmsg";
/// PATH set by generated boot-time scripts (initramfs layouts differ: usr-merged or not).
inline constexpr std::string_view kScriptSearchPath = "/usr/sbin:/usr/bin:/sbin:/bin";
// exliar's own module configuration (modprobe.d / modules-load.d / dracut.conf.d / hooks)
inline constexpr std::string_view kExliarModprobeConf = "/etc/modprobe.d/exliar-vfio.conf";
inline constexpr std::string_view kExliarModulesLoadConf = "/etc/modules-load.d/exliar-vfio.conf";
inline constexpr std::string_view kExliarDracutConf = "/etc/dracut.conf.d/exliar-vfio.conf";
inline constexpr std::string_view kExliarMkinitcpioConf = "/etc/mkinitcpio.conf.d/exliar-vfio.conf";
inline constexpr std::string_view kExliarInitramfsToolsHook =
    "/etc/initramfs-tools/hooks/exliar-vfio";
// early-boot binding by address: the script and its data (the addresses), both copied
// into the initramfs
inline constexpr std::string_view kExliarEarlyBindScript = "/usr/lib/exliar/vfio-early-bind";
inline constexpr std::string_view kExliarEarlyBindAddresses = "/etc/exliar/vfio-addresses";

// tools whose presence identifies a system (checked under the root, never run there)
inline constexpr std::string_view kUsrBin = "/usr/bin";
inline constexpr std::string_view kUsrSbin = "/usr/sbin";
inline constexpr std::string_view kSbin = "/sbin";
inline constexpr std::string_view kBin = "/bin";
inline constexpr std::string_view kMkinitcpioBin = "/usr/bin/mkinitcpio";
inline constexpr std::string_view kBoosterBin = "/usr/bin/booster";
inline constexpr std::string_view kDracutBins[] = {"/usr/bin/dracut", "/usr/sbin/dracut",
                                                   "/sbin/dracut"};
inline constexpr std::string_view kUpdateInitramfsBins[] = {"/usr/sbin/update-initramfs",
                                                            "/sbin/update-initramfs"};
inline constexpr std::string_view kEfiVarLoaderInfo =
    "/sys/firmware/efi/efivars/LoaderInfo-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f";
inline constexpr std::string_view kEfiVarSecureBoot =
    "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c";

// pci.ids locations, in search order (hwdata is Fedora/Arch; Debian symlinks it)
inline constexpr std::string_view kPciIdsCandidates[] = {
    "/usr/share/hwdata/pci.ids",
    "/usr/share/misc/pci.ids",
    "/usr/share/pci.ids",
    "/usr/share/pciids/pci.ids",
};

// exliar's own state and extension points
inline constexpr std::string_view kStateDir = "/var/lib/exliar";
inline constexpr std::string_view kTransactionsDir = "/var/lib/exliar/transactions";
inline constexpr std::string_view kLockFile = "/var/lib/exliar/lock";
inline constexpr std::string_view kVbiosDir = "/var/lib/exliar/vbios";
/// Rewritten after every apply and rollback: undoes everything without exliar (rescue).
inline constexpr std::string_view kCleanupScript = "/var/lib/exliar/cleanup.sh";
/// Drivers saved by `exliar bind`, one file per IOMMU group, read back by `unbind`.
inline constexpr std::string_view kBindStateDir = "/var/lib/exliar/bind";
/// Results of `exliar test ADDR`, one JSON file per device, read back by `check`.
inline constexpr std::string_view kTestResultsDir = "/var/lib/exliar/tests";
inline constexpr std::string_view kEtcExliar = "/etc/exliar";
inline constexpr std::string_view kHooksDir = "/etc/exliar/hooks.d";
inline constexpr std::string_view kPluginDirs[] = {"/usr/lib/exliar/plugins",
                                                   "/etc/exliar/plugins"};
inline constexpr std::string_view kExliarLibDir = "/usr/lib/exliar";

// dynamic passthrough (`exliar vm enable`, `exliar vm-hook`)
/// Per-VM configuration: /etc/exliar/vms/<name>.json.
inline constexpr std::string_view kExliarVmsDir = "/etc/exliar/vms";
/// What a running VM's prepare did, for release: /run/exliar/vm-<name>.json (tmpfs, so a
/// host reboot forgets it together with the state it describes).
inline constexpr std::string_view kRunExliar = "/run/exliar";
inline constexpr std::string_view kLibvirtHooksDir = "/etc/libvirt/hooks";
inline constexpr std::string_view kLibvirtQemuHook = "/etc/libvirt/hooks/qemu";
/// libvirt >= 6.5 runs every executable in <hooks>/qemu.d/ (https://libvirt.org/hooks.html).
inline constexpr std::string_view kLibvirtQemuHookD = "/etc/libvirt/hooks/qemu.d";
inline constexpr std::string_view kLibvirtDispatcher = "/etc/libvirt/hooks/qemu.d/exliar";
/// Proxmox VE's "local" storage keeps snippets (hookscripts) here (pve-docs qm.adoc, Hookscripts).
inline constexpr std::string_view kProxmoxSnippetsDir = "/var/lib/vz/snippets";
inline constexpr std::string_view kProxmoxDispatcher = "/var/lib/vz/snippets/exliar-hook";
inline constexpr std::string_view kEtcPve = "/etc/pve";
/// systemd's alias for the configured display manager (gdm, sddm, lightdm, ... all install it).
inline constexpr std::string_view kSystemdDisplayManager =
    "/etc/systemd/system/display-manager.service";
/// OpenRC's display-manager service (Gentoo, Alpine: /etc/conf.d/display-manager picks it).
inline constexpr std::string_view kOpenrcDisplayManager = "/etc/init.d/display-manager";

}  // namespace exliar::paths
