/*
 * Example exliar plugin: annotates every GPU with its role and vetoes binding of one
 * address named in <root>/etc/exliar/veto-address (one address per line).
 *
 * Build: cc -shared -fPIC -I include -o annotate_veto.so examples/plugins/annotate_veto.c
 * Install: root-owned, mode 0755, in /usr/lib/exliar/plugins/ or /etc/exliar/plugins/.
 */
#include <stdio.h>
#include <string.h>

#include "exliar/plugin.h"

static char veto_list[1024];

static int on_init(const char *root, char *err, size_t err_size) {
  char path[4096];
  snprintf(path, sizeof path, "%s%setc/exliar/veto-address", root,
           root[strlen(root) - 1] == '/' ? "" : "/");
  veto_list[0] = 0;
  FILE *f = fopen(path, "r");
  if (!f) return 0; /* nothing to veto */
  size_t n = fread(veto_list, 1, sizeof veto_list - 1, f);
  veto_list[n] = 0;
  fclose(f);
  (void)err;
  (void)err_size;
  return 0;
}

static int on_device_detect(const struct exliar_device_view *d, const struct exliar_annotator *a,
                            char *err, size_t err_size) {
  (void)err;
  (void)err_size;
  if (!d->is_gpu) return 0;
  return a->annotate(a->opaque, "role", d->boot_vga ? "host-display" : "passthrough-candidate");
}

static int vetoed(const char *address) {
  const char *p = veto_list;
  size_t len = strlen(address);
  while ((p = strstr(p, address)) != NULL) {
    if ((p == veto_list || p[-1] == '\n') && (p[len] == 0 || p[len] == '\n')) return 1;
    p += len;
  }
  return 0;
}

static int on_pre_vfio_bind(const struct exliar_bind_view *b, char *err, size_t err_size) {
  for (size_t i = 0; i < b->device_count; ++i) {
    if (vetoed(b->devices[i].address)) {
      snprintf(err, err_size, "%s is reserved for the host (etc/exliar/veto-address)",
               b->devices[i].address);
      return 1;
    }
  }
  return 0;
}

static const struct exliar_plugin_v1 plugin = {
    .abi_version = EXLIAR_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(struct exliar_plugin_v1),
    .name = "annotate-veto",
    .version = "1.0",
    .on_init = on_init,
    .on_device_detect = on_device_detect,
    .on_pre_vfio_bind = on_pre_vfio_bind,
};

const struct exliar_plugin_v1 *exliar_plugin_v1(void) { return &plugin; }
