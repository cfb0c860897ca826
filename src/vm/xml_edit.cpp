#include "vm/xml_edit.h"

#include <fmt/format.h>

#include <algorithm>

#include "host/text.h"

namespace exliar::vm {

std::optional<std::uint32_t> parse_xml_number(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) return parse_hex(s.substr(2));
  auto v = parse_long(s);
  if (!v || *v < 0 || *v > 0xffffffffL) return std::nullopt;
  return static_cast<std::uint32_t>(*v);
}

std::optional<XmlPciAddress> read_pci_address(pugi::xml_node a) {
  if (!a) return std::nullopt;
  auto num = [&](const char* name, bool required) -> std::optional<std::uint32_t> {
    auto attr = a.attribute(name);
    if (!attr) return required ? std::nullopt : std::optional<std::uint32_t>(0);
    return parse_xml_number(attr.value());
  };
  auto d = num("domain", false), b = num("bus", true), s = num("slot", true),
       f = num("function", false);
  if (!d || !b || !s || !f) return std::nullopt;
  XmlPciAddress out{*d, *b, *s, *f, std::string_view(a.attribute("multifunction").value()) == "on"};
  return out;
}

std::optional<PciAddress> hostdev_source(pugi::xml_node h) {
  if (std::string_view(h.name()) != "hostdev" ||
      std::string_view(h.attribute("type").value()) != "pci")
    return std::nullopt;
  std::string_view mode = h.attribute("mode").value();
  if (!mode.empty() && mode != "subsystem") return std::nullopt;
  auto a = read_pci_address(h.child("source").child("address"));
  if (!a || a->bus > 0xff || a->slot > 0x1f || a->function > 7) return std::nullopt;
  PciAddress p;
  p.domain = a->domain;
  p.bus = static_cast<std::uint8_t>(a->bus);
  p.dev = static_cast<std::uint8_t>(a->slot);
  p.fn = static_cast<std::uint8_t>(a->function);
  return p;
}

pugi::xml_node guest_address_node(pugi::xml_node device) {
  for (auto a : device.children("address"))
    if (std::string_view(a.attribute("type").value()) == "pci") return a;
  return {};
}

bool set_attr(pugi::xml_node n, const char* name, const std::string& value) {
  auto a = n.attribute(name);
  if (a && value == a.value()) return false;
  if (!a) a = n.append_attribute(name);
  a.set_value(value.c_str());
  return true;
}

std::string hex_attr(std::uint32_t v, int digits) { return fmt::format("0x{:0{}x}", v, digits); }

namespace {

bool is_ws_text(pugi::xml_node n) {
  if (n.type() != pugi::node_pcdata) return false;
  std::string_view v = n.value();
  return std::all_of(v.begin(), v.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

/// The indentation of n: what follows the last newline of the whitespace text before it.
std::string indent_of(pugi::xml_node n) {
  auto prev = n.previous_sibling();
  if (!prev || !is_ws_text(prev)) return "";
  std::string_view v = prev.value();
  auto nl = v.rfind('\n');
  return nl == std::string_view::npos ? "" : std::string(v.substr(nl + 1));
}

std::string child_indent(pugi::xml_node parent) {
  for (auto c : parent.children())
    if (c.type() == pugi::node_element && is_ws_text(c.previous_sibling())) return indent_of(c);
  return indent_of(parent) + "  ";
}

pugi::xml_node last_element_or_comment(pugi::xml_node parent) {
  for (auto c = parent.last_child(); c; c = c.previous_sibling())
    if (c.type() == pugi::node_element || c.type() == pugi::node_comment) return c;
  return {};
}

}  // namespace

pugi::xml_node insert_indented(pugi::xml_node parent, pugi::xml_node src, pugi::xml_node before) {
  std::string ind = "\n" + child_indent(parent);
  pugi::xml_node made;
  if (before) {
    // ws before `before` stays where it is; the copy and a fresh ws go in front of `before`.
    made = parent.insert_child_before(src.type(), before);
    parent.insert_child_before(pugi::node_pcdata, before).set_value(ind.c_str());
  } else if (auto last = last_element_or_comment(parent)) {
    auto ws = parent.insert_child_after(pugi::node_pcdata, last);
    ws.set_value(ind.c_str());
    made = parent.insert_child_after(src.type(), ws);
  } else {
    // Empty parent (<features/>): open and close it on their own lines. Text-only parents
    // are not expected for the elements exliar adds children to.
    for (auto c = parent.first_child(); c;) {
      auto next = c.next_sibling();
      if (is_ws_text(c)) parent.remove_child(c);
      c = next;
    }
    parent.append_child(pugi::node_pcdata).set_value(ind.c_str());
    made = parent.append_child(src.type());
    parent.append_child(pugi::node_pcdata).set_value(("\n" + indent_of(parent)).c_str());
  }
  if (src.type() == pugi::node_comment) {
    made.set_value(src.value());
    return made;
  }
  made.set_name(src.name());
  for (auto a : src.attributes()) made.append_attribute(a.name()).set_value(a.value());
  for (auto c : src.children())
    if (c.type() == pugi::node_element || c.type() == pugi::node_comment) insert_indented(made, c);
  return made;
}

namespace {

void escape_into(std::string& out, std::string_view v, char quote) {
  for (char c : v) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += quote == '"' ? "&quot;" : "\"";
        break;
      case '\'':
        out += quote == '\'' ? "&apos;" : "'";
        break;
      default:
        out += c;
    }
  }
}

/// Quote characters of the attributes of the start tag at `off` (the element name) in text.
std::vector<char> original_quotes(std::string_view text, std::ptrdiff_t off) {
  std::vector<char> q;
  if (off < 0 || static_cast<std::size_t>(off) >= text.size()) return q;
  for (std::size_t i = static_cast<std::size_t>(off); i < text.size(); ++i) {
    char c = text[i];
    if (c == '>') break;
    if (c == '=') {
      std::size_t j = i + 1;
      while (j < text.size() &&
             (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r'))
        ++j;
      if (j >= text.size() || (text[j] != '"' && text[j] != '\'')) break;
      q.push_back(text[j]);
      auto end = text.find(text[j], j + 1);
      if (end == std::string_view::npos) break;
      i = end;
    }
  }
  return q;
}

void serialize(std::string& out, pugi::xml_node n, std::string_view text, char new_quote) {
  switch (n.type()) {
    case pugi::node_pcdata:
      escape_into(out, n.value(), 0);
      return;
    case pugi::node_cdata:
      out += "<![CDATA[";
      out += n.value();
      out += "]]>";
      return;
    case pugi::node_comment:
      out += "<!--";
      out += n.value();
      out += "-->";
      return;
    case pugi::node_pi:
      out += "<?";
      out += n.name();
      if (*n.value()) {
        out += ' ';
        out += n.value();
      }
      out += "?>";
      return;
    case pugi::node_element:
      break;
    default:
      return;
  }
  // offset_debug() is -1 for nodes created after parsing.
  auto quotes = original_quotes(text, n.offset_debug());
  out += '<';
  out += n.name();
  std::size_t i = 0;
  for (auto a : n.attributes()) {
    char q = i < quotes.size() ? quotes[i] : new_quote;
    ++i;
    out += ' ';
    out += a.name();
    out += '=';
    out += q;
    escape_into(out, a.value(), q);
    out += q;
  }
  if (!n.first_child()) {
    out += "/>";
    return;
  }
  out += '>';
  for (auto c : n.children()) serialize(out, c, text, new_quote);
  out += "</";
  out += n.name();
  out += '>';
}

}  // namespace

std::string serialize_preserving(pugi::xml_node node, std::string_view original, char new_quote) {
  std::string out;
  serialize(out, node, original, new_quote);
  return out;
}

Result<void> parse_document(pugi::xml_document& doc, std::string_view text,
                            std::string_view source_name) {
  unsigned opts = pugi::parse_full | pugi::parse_ws_pcdata;
  auto r = doc.load_buffer(text.data(), text.size(), opts, pugi::encoding_utf8);
  if (!r) {
    auto off = static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, r.offset));
    int line = 1 + static_cast<int>(
                       std::count(text.begin(), text.begin() + std::min(off, text.size()), '\n'));
    return fail(std::string("not well-formed XML: ") + r.description(), std::string(source_name), 0,
                line);
  }
  return {};
}

Result<pugi::xml_node> parse_domain(pugi::xml_document& doc, std::string_view text,
                                    std::string_view source_name) {
  if (auto r = parse_document(doc, text, source_name); !r) return tl::unexpected(r.error());
  auto root = doc.document_element();
  if (std::string_view(root.name()) != "domain")
    return fail(
        fmt::format("not a libvirt domain: the root element is <{}>, not <domain>", root.name()),
        std::string(source_name));
  return root;
}

}  // namespace exliar::vm
