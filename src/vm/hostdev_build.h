// Internal to src/vm: the pieces fragment mode and domain patching build the same way.
#pragma once

#include <pugixml.hpp>
#include <string>
#include <utility>
#include <vector>

#include "vm/vm_xml.h"

namespace exliar::vm {

using Attrs = std::vector<std::pair<std::string, std::string>>;

bool is_multifunction(const Passthrough& p);
/// A comment naming the function, then its <hostdev>, appended to parent (no whitespace).
void build_hostdev(pugi::xml_node parent, const Passthrough& p, const PassFunction& f,
                   GuestSlot slot);
/// Attributes of <rom> for function f (empty: no <rom> element).
Attrs rom_node_for(const Passthrough& p, const PassFunction& f);
/// Attributes of the guest <address type='pci'> for function f.
Attrs guest_address_attrs(const Passthrough& p, const PassFunction& f, GuestSlot slot);
/// The vendor snippets as children of <features>; q35 decides whether <ioapic> is allowed.
void build_features(pugi::xml_node features, const VmSnippets& s, bool q35);
bool wants_features(const VmSnippets& s);

}  // namespace exliar::vm
