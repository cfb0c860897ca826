#include <unistd.h>

#include "gpu/db.h"

namespace exliar::gpu {

Result<GpuDb> load_gpu_db(const std::string& override_dir) {
  if (override_dir.empty()) return load_embedded_gpu_db();
  // Like -o FILE, --gpu-db names a directory of the user's machine, not of --root.
  auto host = RealFs::open("/");
  if (!host) return tl::unexpected(host.error());
  std::string dir = override_dir;
  if (dir.front() != '/') {
    char buf[4096];
    if (getcwd(buf, sizeof buf)) dir = std::string(buf) + "/" + dir;
  }
  return load_gpu_db_dir(*host, dir);
}

}  // namespace exliar::gpu
