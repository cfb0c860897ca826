/* A plugin built for a future ABI: exliar must refuse it without calling anything. */
#include "exliar/plugin.h"
static int boom(const char *root, char *err, size_t n) { (void)root; (void)err; (void)n; return *(volatile int *)0; }
static const struct exliar_plugin_v1 p = {.abi_version = 99, .name = "future", .on_init = boom};
const struct exliar_plugin_v1 *exliar_plugin_v1(void) { return &p; }
