// initramfs-tools (Debian, Ubuntu, Proxmox, Pop!_OS): pure text functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace exliar {

/// /etc/initramfs-tools/modules: one module per line ("name [options]"), '#' comments.
/// Puts a line for each of `ours` missing (or misplaced after a native driver) just before
/// the first native-driver line, or at the end; drops lines naming a `forbidden` module.
/// Lines that give our module options stay where they are.
std::string initramfs_tools_edit_modules(std::string_view text,
                                         const std::vector<std::string>& ours,
                                         const std::vector<std::string>& forbidden,
                                         const std::vector<std::string>& natives);
/// The hook script that copies `files` into the image (hook-functions copy_file).
std::string initramfs_tools_hook(const std::vector<std::string>& files);

}  // namespace exliar
