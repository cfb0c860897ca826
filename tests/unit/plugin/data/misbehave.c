/* A plugin that misbehaves on request, to test that exliar survives it:
 *  on_pre_vfio_bind fills err to the last byte with no terminator and vetoes;
 *  on_post_vfio_bind hangs when <root>/etc/exliar/hang exists;
 *  on_device_detect annotates with an unterminated 300-byte key (refused by exliar). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "exliar/plugin.h"

static char hang_path[4096];

static int on_init(const char *root, char *err, size_t n) {
  (void)err; (void)n;
  snprintf(hang_path, sizeof hang_path, "%s/etc/exliar/hang", root);
  return 0;
}

static int detect(const struct exliar_device_view *d, const struct exliar_annotator *a, char *err,
                  size_t n) {
  static char key[300];
  (void)d; (void)err; (void)n;
  memset(key, 'k', sizeof key); /* no NUL inside the array */
  if (a->annotate(a->opaque, key, "v") == 0) return 5; /* exliar must refuse it */
  return a->annotate(a->opaque, "ok", "yes");
}

static int fill_err(const struct exliar_bind_view *b, char *err, size_t n) {
  (void)b;
  memset(err, 'A', n); /* the whole buffer, terminator overwritten */
  return 1;
}

static int hang(const struct exliar_bind_view *b, char *err, size_t n) {
  (void)b; (void)err; (void)n;
  if (access(hang_path, F_OK) == 0) pause();
  return 0;
}

static const struct exliar_plugin_v1 p = {.abi_version = EXLIAR_PLUGIN_ABI_VERSION,
                                          .struct_size = sizeof p, .name = "misbehave",
                                          .version = "0", .on_init = on_init,
                                          .on_device_detect = detect,
                                          .on_pre_vfio_bind = fill_err,
                                          .on_post_vfio_bind = hang};
const struct exliar_plugin_v1 *exliar_plugin_v1(void) { return &p; }
