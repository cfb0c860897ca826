/* Crashes while being loaded (a constructor runs inside dlopen): exliar must record it as
 * failed and still load the other plugins. */
#include <signal.h>
#include "exliar/plugin.h"
__attribute__((constructor)) static void boom(void) { raise(SIGSEGV); }
static const struct exliar_plugin_v1 p = {.abi_version = EXLIAR_PLUGIN_ABI_VERSION,
                                          .struct_size = sizeof p, .name = "crash-on-load",
                                          .version = "0"};
const struct exliar_plugin_v1 *exliar_plugin_v1(void) { return &p; }
