// Plugins and hook scripts around every binding a transaction makes: on_pre_vfio_bind
// (may veto) and on_post_vfio_bind for apply and bind, on_cleanup for unbind.
#pragma once

#include "host/context.h"
#include "plan/plan.h"
#include "plugin/host.h"
#include "state/transaction.h"

namespace exliar {

/// The devices a plan binds (or releases): the GPU's functions for apply, the devices
/// whose driver_override a bind/unbind writes. Empty for plans that bind nothing.
BindEvent bind_event_for(const Fs& fs, const Plan& plan);

/// Sets opts.before_binding / opts.after_commit to call host's hooks for plan. Warnings
/// of non-vetoing hooks are printed on ctx's stderr.
void attach_plugin_hooks(Context& ctx, const Plan& plan, PluginHost& host, TxOptions& opts);

}  // namespace exliar
