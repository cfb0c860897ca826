"""The host's Debian mirror, read from its apt sources (never a host name in a file).

Both formats apt reads (sources.list(5)): one-line `deb URI SUITE COMPONENT...` in
/etc/apt/sources.list and /etc/apt/sources.list.d/*.list, and deb822 stanzas
(`Types:`, `URIs:`, `Suites:`, `Components:`) in /etc/apt/sources.list.d/*.sources.
The first `deb` source carrying SUITE with component `main` wins; security and
update suites are separate suites, so they never match "bookworm" itself.
"""

import glob
import os


def _one_line(text):
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) < 4 or words[0] != "deb":
            continue
        i = 1
        if words[1].startswith("["):  # options: [arch=amd64 signed-by=...]
            while i < len(words) and not words[i].endswith("]"):
                i += 1
            i += 1
        if i + 2 <= len(words):
            yield words[i], [words[i + 1]], words[i + 2:]


def _deb822(text):
    for stanza in text.split("\n\n"):
        fields, key = {}, None
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0] in " \t" and key:  # a continuation line
                fields[key] += " " + line.strip()
                continue
            key, _, value = line.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split():
            continue
        if fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            yield uri, fields.get("suites", "").split(), fields.get("components", "").split()


def find(suite, etc="/etc/apt"):
    """URI of the first enabled `deb` source with SUITE and `main`, or None."""
    files = [os.path.join(etc, "sources.list")] + sorted(
        glob.glob(os.path.join(etc, "sources.list.d", "*.list")) +
        glob.glob(os.path.join(etc, "sources.list.d", "*.sources")))
    for path in files:
        try:
            text = open(path).read()
        except OSError:
            continue
        entries = _deb822(text) if path.endswith(".sources") else _one_line(text)
        for uri, suites, components in entries:
            if suite in suites and "main" in components:
                return uri.rstrip("/")
    return None
