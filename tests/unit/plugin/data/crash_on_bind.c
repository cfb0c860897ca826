/* Crashes in on_pre_vfio_bind: the journal written before the hook lets the next run
 * detect the interrupted transaction and roll it back. */
#include <signal.h>
#include "exliar/plugin.h"
static int crash(const struct exliar_bind_view *b, char *err, size_t n) {
  (void)b; (void)err; (void)n;
  raise(SIGSEGV);
  return 0;
}
static const struct exliar_plugin_v1 p = {.abi_version = EXLIAR_PLUGIN_ABI_VERSION,
                                          .struct_size = sizeof p, .name = "crasher",
                                          .version = "0", .on_pre_vfio_bind = crash};
const struct exliar_plugin_v1 *exliar_plugin_v1(void) { return &p; }
