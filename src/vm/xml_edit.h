// pugixml helpers shared by the generators: libvirt PCI address attributes and insertion of
// new elements into an existing document with the document's own indentation.
#pragma once

#include <cstdint>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>

#include "host/error.h"
#include "probe/inventory.h"

namespace exliar::vm {

/// libvirt writes numbers as "0x1f" but also accepts decimal ("31").
std::optional<std::uint32_t> parse_xml_number(std::string_view s);

/// A libvirt <address type='pci' .../> (or a hostdev <source><address/>, which has no type).
struct XmlPciAddress {
  std::uint32_t domain = 0, bus = 0, slot = 0, function = 0;
  bool multifunction = false;
};
std::optional<XmlPciAddress> read_pci_address(pugi::xml_node address);

/// The host address of a <hostdev mode='subsystem' type='pci'>, or nullopt for other hostdevs.
std::optional<PciAddress> hostdev_source(pugi::xml_node hostdev);
/// The guest <address type='pci'> element that is a direct child of a device element.
pugi::xml_node guest_address_node(pugi::xml_node device);

/// Sets an attribute, returning true when this changed the document.
bool set_attr(pugi::xml_node n, const char* name, const std::string& value);

std::string hex_attr(std::uint32_t v, int digits);  ///< "0x01" style, as libvirt writes

/// Copies src (an element tree without whitespace nodes) into parent, indented like its
/// siblings: before `before` when given, else after the last element child. Returns the copy.
pugi::xml_node insert_indented(pugi::xml_node parent, pugi::xml_node src,
                               pugi::xml_node before = {});

/// Serialises node (parsed from `original` by parse_document, then edited) without
/// pugixml's single quote style: each original element keeps the quote character of each of
/// its attributes as written in `original`; elements exliar added use `new_quote`.
std::string serialize_preserving(pugi::xml_node node, std::string_view original, char new_quote);

/// Parses text keeping comments, processing instructions, the declaration, the doctype and
/// whitespace-only text; errors name the file and line.
Result<void> parse_document(pugi::xml_document& doc, std::string_view text,
                            std::string_view source_name);
/// parse_document, then checks that the root element is <domain>; returns it.
Result<pugi::xml_node> parse_domain(pugi::xml_document& doc, std::string_view text,
                                    std::string_view source_name);

}  // namespace exliar::vm
