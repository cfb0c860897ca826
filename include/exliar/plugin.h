/*
 * exliar plugin ABI, version 1 — the only public header of exliar.
 *
 * A plugin is a shared object that exports one function:
 *
 *     const struct exliar_plugin_v1 *exliar_plugin_v1(void);
 *
 * exliar calls it once after dlopen(), checks `abi_version` before touching anything
 * else, and then calls the callbacks that are not NULL. Plain C (C99), usable from C,
 * C++, Rust, Zig: no C++ types, no ownership transfer, no global state in exliar.
 *
 * ABI rules
 *  - Within v1, exliar may only APPEND fields at the end of the structs below, and only
 *    ones whose zero value means "absent". Plugins check `struct_size` before reading
 *    an appended field of a view, and set `struct_size` = sizeof(struct exliar_plugin_v1)
 *    so exliar knows which callbacks the plugin knows about.
 *  - Changing the meaning, type or order of an existing field, removing one, or changing
 *    a callback signature needs version 2: a new struct and a new exported function
 *    `exliar_plugin_v2`; exliar keeps loading v1 plugins as long as it can.
 *  - All pointers passed to callbacks are valid only during the call; views are
 *    read-only. Strings are NUL-terminated UTF-8.
 *  - Callbacks return 0 for success, or a non-zero error code and write a message of at
 *    most `err_size` bytes (NUL included) into `err`. A non-zero return from
 *    on_pre_vfio_bind vetoes the bind: the transaction rolls back and the user sees the
 *    message. Errors of other callbacks are reported and never stop exliar.
 *  - Plugins are loaded only from root-owned files in root-owned directories that are
 *    not group- or world-writable: <root>/usr/lib/exliar/plugins and
 *    <root>/etc/exliar/plugins. With a root other than "/" (--root DIR) they are not
 *    loaded at all unless the user passes --run-root-plugins.
 *  - Plugins run in a child process of exliar (one per run, serving every callback), not
 *    inside exliar: a plugin keeps its own state between callbacks, but shares no memory
 *    with exliar, and its stdout goes to exliar's stderr. A callback that crashes or takes
 *    longer than 30 s kills that process; exliar reports it, a crash in on_pre_vfio_bind
 *    is a veto, and the plugin is not called again in that run.
 *  - exliar reads at most err_size - 1 bytes of err, whether or not the plugin wrote a
 *    terminator, and at most 128 bytes of name and version.
 */
#ifndef EXLIAR_PLUGIN_H
#define EXLIAR_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EXLIAR_PLUGIN_ABI_VERSION 1u

/* One PCI function as exliar sees it. */
struct exliar_device_view {
  size_t struct_size;      /* sizeof(struct exliar_device_view) in exliar */
  const char *address;     /* "0000:01:00.0" */
  uint16_t vendor_id, device_id;
  uint16_t subsystem_vendor_id, subsystem_device_id; /* 0 when unknown */
  uint32_t class_code;     /* 24-bit class, e.g. 0x030000 */
  const char *driver;      /* bound driver or NULL */
  int iommu_group;         /* -1 when none */
  int is_gpu;              /* 1 for the display function of a GPU */
  int boot_vga;            /* 1 for the firmware's boot display */
  const char *vendor_name; /* from pci.ids or NULL */
  const char *device_name; /* from pci.ids or NULL */
};

/* A bind: every device that moves to (or back from) vfio-pci in one transaction. */
struct exliar_bind_view {
  size_t struct_size;
  const char *transaction_id;                 /* journal id, "" for a dry run */
  const char *kind;                           /* "runtime" (bind/unbind now) or "boot" (apply) */
  size_t device_count;
  const struct exliar_device_view *devices;   /* device_count entries */
};

/* Lets on_device_detect attach key/value annotations shown in `detect --json`. */
struct exliar_annotator {
  void *opaque;
  /* Returns 0, or -1 when key/value are invalid (empty key, over 256 bytes). */
  int (*annotate)(void *opaque, const char *key, const char *value);
};

struct exliar_plugin_v1 {
  uint32_t abi_version; /* must be EXLIAR_PLUGIN_ABI_VERSION */
  size_t struct_size;   /* sizeof(struct exliar_plugin_v1) as the plugin was built */
  const char *name;     /* short identifier, [a-z0-9_-]+ */
  const char *version;  /* the plugin's own version string */

  /* Once after loading; root is the host root exliar operates on ("/" or --root). */
  int (*on_init)(const char *root, char *err, size_t err_size);
  /* For every PCI function found by the probe. */
  int (*on_device_detect)(const struct exliar_device_view *device,
                          const struct exliar_annotator *annotator, char *err, size_t err_size);
  /* Before any device is moved to vfio-pci (runtime bind, or apply of a persistent
   * binding). Non-zero vetoes. */
  int (*on_pre_vfio_bind)(const struct exliar_bind_view *bind, char *err, size_t err_size);
  /* After the bind succeeded (or the persistent binding was committed). */
  int (*on_post_vfio_bind)(const struct exliar_bind_view *bind, char *err, size_t err_size);
  /* When exliar undoes its changes (unbind, rollback). */
  int (*on_cleanup)(const struct exliar_bind_view *bind, char *err, size_t err_size);
};

/* The single symbol a plugin exports. */
typedef const struct exliar_plugin_v1 *(*exliar_plugin_v1_fn)(void);
#define EXLIAR_PLUGIN_V1_SYMBOL "exliar_plugin_v1"

#ifdef __cplusplus
}
#endif

#endif /* EXLIAR_PLUGIN_H */
