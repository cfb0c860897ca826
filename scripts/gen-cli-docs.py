#!/usr/bin/python3
"""Generates exliar.1 and the bash, zsh and fish completions from the CLI11 definitions.

usage: gen-cli-docs.py EXLIAR OUTDIR DATE
EXLIAR is the built binary; `EXLIAR __cli-tree` prints every command and option as JSON
(src/cli/cmd_cli_tree.cpp). Nothing here names an option: a new option in src/cli/main.cpp
appears in the man page and in the completions at the next build. The hand-written parts
(exit status, files, examples, safety) are prose about the program, not about its options.
"""
import json
import os
import re
import subprocess
import sys

# --- the CLI tree ---------------------------------------------------------------------------


def load(exe):
    out = subprocess.run([exe, "__cli-tree"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def choices(opt):
    m = re.search(r"\{([^}]*)\}", opt.get("type", ""))
    return m.group(1).split(",") if m else []


def value_name(opt):
    t = opt.get("type", "")
    if choices(opt):
        return "|".join(choices(opt))
    return t.split(":")[0] or "VALUE"


def names(opt):
    return ["-" + s for s in opt["short"]] + ["--" + l for l in opt["long"]]


def named(app):
    return [o for o in app["options"] if not o["positional"]]


def positionals(app):
    return [o for o in app["options"] if o["positional"]]


def walk(app, path=()):
    """Yields (path, app) for every command below the root, depth first."""
    for c in app["commands"]:
        p = path + (c["name"],)
        yield p, c
        yield from walk(c, p)


def own_options(app, globals_):
    """The options of a command that are not the global ones CLI11 repeats on every verb."""
    g = {tuple(names(o)) for o in globals_}
    return [o for o in named(app) if tuple(names(o)) not in g]


# --- man page -------------------------------------------------------------------------------


def roff(text):
    text = text.replace("\\", "\\e")
    lines = []
    for line in text.split("\n"):
        if line.startswith(".") or line.startswith("'"):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines).replace("-", "\\-")


def man_option(o):
    parts = []
    for n in names(o):
        s = "\\fB" + roff(n) + "\\fR"
        if not o["flag"]:
            s += " \\fI" + roff(value_name(o)) + "\\fR"
        parts.append(s)
    desc = o["description"]
    if o.get("repeatable") and "repeat" not in desc.lower():
        desc += " (repeatable)"
    return ".TP\n" + ", ".join(parts) + "\n" + roff(desc) + "\n"


def synopsis_args(app):
    s = ""
    for p in positionals(app):
        n = p["name"].upper() + ("..." if p.get("repeatable") else "")
        s += " " + (n if p["required"] else "[" + n + "]")
    return s


def man_page(tree, date):
    globals_ = named(tree)
    v = tree["version"]
    out = [
        '.TH EXLIAR 1 %s "exliar %s" "User Commands"' % (date, v),
        ".SH NAME",
        "exliar \\- prepare a Linux host for GPU passthrough (VFIO), safely and reversibly",
        ".SH SYNOPSIS",
        ".B exliar",
        "[\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGS\\fR]",
        ".br",
        ".B exliar",
        "(on a terminal, without a command: the terminal UI)",
        ".SH DESCRIPTION",
        roff(tree["description"]),
        ".PP",
        "Start with \\fBexliar check\\fR: it says which GPU can be passed through and which "
        "command comes next. \\fBexliar help \\fICOMMAND\\fR prints the same text as "
        "\\fBexliar \\fICOMMAND\\fB \\-\\-help\\fR.",
        ".SH GLOBAL OPTIONS",
        "Accepted before and after the command.",
    ]
    for o in globals_:
        out.append(man_option(o).rstrip("\n"))
    out.append(".SH COMMANDS")
    for path, c in walk(tree):
        if c["commands"]:
            out.append(".SS exliar %s \\fISUBCOMMAND\\fR" % roff(" ".join(path)))
            out.append(roff(c["description"]))
            continue
        out.append(".SS exliar %s%s" % (roff(" ".join(path)), roff(synopsis_args(c))))
        out.append(roff(c["description"]))
        for p in positionals(c):
            out.append(".TP\n\\fI%s\\fR\n%s" % (roff(p["name"].upper()), roff(p["description"])))
        for o in own_options(c, globals_):
            out.append(man_option(o).rstrip("\n"))
    out += [
        ".SH EXIT STATUS",
        ".TP\n0\nSuccess; for \\fBcheck\\fR: a GPU is ready for passthrough.",
        ".TP\n1\n\\fBcheck\\fR found blockers; \\fBstatus\\fR found drift; a confirmation was declined.",
        ".TP\n2\nUsage error (unknown command or option, bad value, confirmation needed "
        "without a terminal).",
        ".TP\n3\nEnvironment: not root, unsupported system, lock held, unreadable root.",
        ".TP\n4\n\\fBapply\\fR failed and was rolled back, or a plugin vetoed it.",
        ".SH FILES",
        "Read (below \\fB\\-\\-root\\fR \\fIDIR\\fR when given):",
        ".TP\n\\fI/sys/bus/pci/devices\\fR, \\fI/sys/kernel/iommu_groups\\fR\n"
        "PCI devices, their drivers, links and IOMMU groups.",
        ".TP\n\\fI/proc/cmdline\\fR, \\fI/proc/cpuinfo\\fR, \\fI/proc/modules\\fR, "
        "\\fI/etc/os\\-release\\fR\nRunning kernel, CPU virtualisation flags, loaded modules, "
        "distribution.",
        ".TP\n\\fI/etc/default/grub\\fR, \\fI/boot/loader/entries\\fR, \\fI/etc/kernel/cmdline\\fR\n"
        "Boot loader configuration and kernel command lines.",
        ".TP\n\\fI/etc/modprobe.d\\fR, initramfs configuration (initramfs\\-tools, dracut, "
        "mkinitcpio, booster)\nModule options and early loading.",
        ".TP\n\\fI/usr/share/hwdata/pci.ids\\fR, \\fI/usr/share/misc/pci.ids\\fR\nDevice names.",
        ".TP\n\\fI/usr/share/exliar/gpu\\-db/\\fR\nA copy of the built\\-in GPU database, "
        "to start a \\fB\\-\\-gpu\\-db\\fR override from.",
        ".TP\n\\fI/usr/lib/exliar/plugins\\fR\nPlugins (see \\fI/usr/include/exliar/plugin.h\\fR) "
        "and hook scripts (examples in \\fI/usr/share/doc/exliar/examples\\fR).",
        ".PP\nWritten:",
        ".TP\n\\fI/var/lib/exliar/transactions\\fR\nThe journal of every applied transaction, "
        "with the original bytes of each changed file (what \\fBrollback\\fR restores).",
        ".TP\n\\fI/var/lib/exliar/cleanup.sh\\fR\nA POSIX sh script that undoes everything "
        "without exliar (\\fBcleanup\\-script\\fR).",
        ".TP\n\\fI/var/lib/exliar/lock\\fR\nHeld while a transaction runs.",
        ".SH EXAMPLES",
        ".nf",
        "exliar check                      # can a GPU be passed through?",
        "exliar plan \\-\\-gpu auto            # every step apply would take",
        "exliar apply \\-\\-gpu auto           # as root: one transaction, then reboot",
        "exliar status                     # applied, and active after the reboot?",
        "exliar rollback                   # undo the last transaction, byte for byte",
        "exliar \\-\\-root DIR detect \\-\\-json   # inspect a copied or snapshotted system",
        ".fi",
        ".SH SAFETY",
        "Commands that only read (\\fBdetect\\fR, \\fBcheck\\fR, \\fBgroups\\fR, \\fBplan\\fR, "
        "\\fBstatus\\fR) change nothing. Commands that change the system ask for confirmation "
        "on a terminal (\\fB\\-y\\fR skips it; without a terminal they exit 2 unless \\fB\\-y\\fR "
        "is given), take the lock, journal the original of every file before writing it, and "
        "are undone by \\fBexliar rollback\\fR; if one step fails, the steps before it are "
        "rolled back. \\fBbind\\fR takes devices from their drivers at once: binding the GPU "
        "that shows your console blanks the screen. Keep \\fBexliar cleanup\\-script\\fR's "
        "output where a rescue system can run it.",
        ".SH SEE ALSO",
        "\\fBlspci\\fR(8), \\fBvirsh\\fR(1), \\fBmodprobe.d\\fR(5)",
        "",
    ]
    return wrap("\n".join(out))


def wrap(text):
    """Text lines of at most 80 bytes (mandoc's style check); requests stay as they are."""
    import textwrap
    out = []
    for line in text.split("\n"):
        if line.startswith(".") or len(line) <= 80:
            out.append(line)
            continue
        for part in textwrap.wrap(line, 79, break_long_words=False, break_on_hyphens=False):
            out.append("\\&" + part if part[0] in ".'" else part)
    return "\n".join(out)


# --- completions ----------------------------------------------------------------------------

# Values completed by running exliar itself: GPU addresses (detect --json) and transaction ids
# (status --json). The JSON is pretty-printed with two spaces per level (emit_json).
DYNAMIC = {"--gpu": "gpus", "address": "gpus", "id": "transactions"}


def dynamic_kind(opt):
    if opt["positional"]:
        return DYNAMIC.get(opt["name"])
    for n in names(opt):
        if n in DYNAMIC:
            return DYNAMIC[n]
    return None


def is_file(opt):
    t = value_name(opt)
    return t in ("FILE", "DIR")


def commands_table(tree):
    """path string ("" root, "boot", "boot add") -> info for completion scripts."""
    rows = {"": tree}
    for path, c in walk(tree):
        rows[" ".join(path)] = c
    return rows


def bash(tree):
    rows = commands_table(tree)
    L = [
        "# bash completion for exliar, generated from its CLI definitions "
        "(scripts/gen-cli-docs.py). Do not edit.",
        "",
        "# Dynamic values come from exliar itself, honouring a --root DIR typed on the line.",
        "_exliar_dynamic() {",
        "    local kind=$1 root=() i",
        "    for ((i = 1; i < ${#COMP_WORDS[@]}; i++)); do",
        '        [[ ${COMP_WORDS[i]} == --root ]] && root=(--root "${COMP_WORDS[i+1]}")',
        "    done",
        "    case $kind in",
        "    gpus)",
        '        "${COMP_WORDS[0]}" "${root[@]}" detect --json 2>/dev/null |',
        "            awk '/^  \"gpus\": \\[/ {g=1; next} g && /^  []\\}]/ {g=0}",
        "                 g && /^      \"address\": \"/ {gsub(/[\",]/, \"\", $2); print $2}' ;;",
        "    transactions)",
        '        "${COMP_WORDS[0]}" "${root[@]}" status --json 2>/dev/null |',
        "            awk '/^  \"transactions\": \\[/ {t=1; next} t && /^  []\\}]/ {t=0}",
        "                 t && /^      \"id\": \"/ {gsub(/[\",]/, \"\", $2); print $2}' ;;",
        "    esac",
        "}",
        "",
        "_exliar() {",
        "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}",
        "    local path='' i w npos=0",
        "    # The command path: words that name a subcommand of the path so far.",
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        "        w=${COMP_WORDS[i]}",
        '        case "$path|$w" in',
    ]
    for p, c in rows.items():
        for s in c["commands"]:
            np = (p + " " + s["name"]).strip()
            L.append('        "%s|%s") path="%s"; continue ;;' % (p, s["name"], np))
    L += [
        "        esac",
        "        case $w in",
        "        -*) ;;",
        "        *) case ${COMP_WORDS[i-1]} in",
    ]
    valued = set()
    for c in rows.values():
        for o in named(c):
            if not o["flag"]:
                valued.update(names(o))
    if valued:
        L.append("            %s) ;;" % "|".join(sorted(valued)))
    L += [
        "            *) ((npos++)) ;;",
        "            esac ;;",
        "        esac",
        "    done",
        "    local words=''",
        "    # Values of the option before the cursor.",
        '    case "$path|$prev" in',
    ]
    for p, c in rows.items():
        for o in named(c):
            if o["flag"]:
                continue
            pat = "|".join('"%s|%s"' % (p, n) for n in names(o))
            kind = dynamic_kind(o)
            if choices(o):
                L.append("    %s) words='%s' ;;" % (pat, " ".join(choices(o))))
            elif kind:
                L.append('    %s) words=$(_exliar_dynamic %s) ;;' % (pat, kind))
            elif is_file(o):
                L.append("    %s) COMPREPLY=($(compgen -%s -- \"$cur\")); return ;;"
                         % (pat, "d" if value_name(o) == "DIR" else "f"))
            else:
                L.append("    %s) COMPREPLY=(); return ;;" % pat)
    L += [
        "    *)",
        '        case "$path" in',
    ]
    for p, c in rows.items():
        opts = " ".join(n for o in named(c) for n in names(o))
        subs = " ".join(s["name"] for s in c["commands"])
        L.append('        "%s")' % p)
        L.append('            if [[ $cur == -* ]]; then words="%s"' % opts)
        pos = positionals(c)
        if subs:
            L.append('            else words="%s"' % subs)
        elif pos:
            kind = dynamic_kind(pos[0])
            if kind:
                L.append("            elif ((npos == 0)); then words=$(_exliar_dynamic %s)" % kind)
            if any(p_["name"] in ("file",) for p_ in pos):
                L.append('            else COMPREPLY=($(compgen -f -- "$cur")); return')
        L.append("            fi ;;")
    L += [
        "        esac ;;",
        "    esac",
        '    COMPREPLY=($(compgen -W "$words" -- "$cur"))',
        "}",
        "complete -F _exliar exliar",
        "",
    ]
    return "\n".join(L)


def sq(s):
    return s.replace("'", "'\\''")


def zsh(tree):
    rows = commands_table(tree)
    L = [
        "#compdef exliar",
        "# zsh completion for exliar, generated from its CLI definitions "
        "(scripts/gen-cli-docs.py). Do not edit.",
        "",
        "_exliar_gpus() {",
        "  local -a a",
        "  a=(${(f)\"$(exliar detect --json 2>/dev/null | awk '/^  \"gpus\": \\[/ {g=1; next} "
        "g && /^  []}]/ {g=0} g && /^      \"address\": \"/ {gsub(/[\",]/, \"\", $2); print $2}')\"})",
        "  compadd -a a",
        "}",
        "_exliar_transactions() {",
        "  local -a a",
        "  a=(${(f)\"$(exliar status --json 2>/dev/null | awk '/^  \"transactions\": \\[/ {t=1; next} "
        "t && /^  []}]/ {t=0} t && /^      \"id\": \"/ {gsub(/[\",]/, \"\", $2); print $2}')\"})",
        "  compadd -a a",
        "}",
        "",
    ]

    def fn(p):
        return "_exliar" + ("_" + re.sub(r"[^a-z0-9]", "_", p) if p else "")

    def spec(o):
        desc = sq(o["description"].replace("[", "(").replace("]", ")").replace(":", " "))
        if o["flag"]:
            action = ""
        elif choices(o):
            action = ":value:(%s)" % " ".join(choices(o))
        elif dynamic_kind(o):
            action = ":value:_exliar_%s" % dynamic_kind(o)
        elif is_file(o):
            action = ":file:_files" + (" -/" if value_name(o) == "DIR" else "")
        else:
            action = ":value: "
        ns = names(o)
        rep = "*" if o.get("repeatable") or o["flag"] and "verbose" in o["long"] else ""
        if len(ns) > 1:
            return "'%s(%s)'{%s}'[%s]%s'" % (rep, " ".join(ns), ",".join(ns), desc, action)
        return "'%s%s[%s]%s'" % (rep, ns[0], desc, action)

    for p, c in rows.items():
        L.append("%s() {" % fn(p))
        args = [spec(o) for o in named(c)]
        if c["commands"]:
            L.append("  local -a cmds")
            L.append("  cmds=(")
            for s in c["commands"]:
                L.append("    '%s:%s'" % (s["name"], sq(s["description"].replace(":", " "))))
            L.append("  )")
            args += ["'1: :->cmd'", "'*:: :->args'"]
            L.append("  _arguments -C \\\n    " + " \\\n    ".join(args))
            L.append("  case $state in")
            L.append("  cmd) _describe command cmds ;;")
            L.append("  args)")
            L.append("    case $words[1] in")
            for s in c["commands"]:
                L.append("    %s) %s ;;" % (s["name"], fn((p + " " + s["name"]).strip())))
            L.append("    esac ;;")
            L.append("  esac")
        else:
            for i, po in enumerate(positionals(c)):
                kind = dynamic_kind(po)
                act = "_exliar_" + kind if kind else ("_files" if po["name"] == "file" else " ")
                star = "*" if po.get("repeatable") else str(i + 1)
                args.append("'%s:%s:%s'" % (star, po["name"], act))
            L.append("  _arguments \\\n    " + " \\\n    ".join(args) if args else "  :")
        L.append("}")
        L.append("")
    L.append('_exliar "$@"')
    L.append("")
    return "\n".join(L)


def fish(tree):
    rows = commands_table(tree)
    L = [
        "# fish completion for exliar, generated from its CLI definitions "
        "(scripts/gen-cli-docs.py). Do not edit.",
        "",
        "function __exliar_gpus",
        "    exliar detect --json 2>/dev/null | awk '/^  \"gpus\": \\[/ {g=1; next} "
        "g && /^  []}]/ {g=0} g && /^      \"address\": \"/ {gsub(/[\",]/, \"\", $2); print $2}'",
        "end",
        "function __exliar_transactions",
        "    exliar status --json 2>/dev/null | awk '/^  \"transactions\": \\[/ {t=1; next} "
        "t && /^  []}]/ {t=0} t && /^      \"id\": \"/ {gsub(/[\",]/, \"\", $2); print $2}'",
        "end",
        "# The command path typed so far is exactly PATH (words that name commands).",
        "function __exliar_path",
        "    set -l want $argv",
        "    set -l words (commandline -opc)",
        "    set -e words[1]",
        "    set -l cmds",
        "    for w in $words",
        "        switch $w",
        "            case '-*'",
        "            case '*'",
        "                if contains -- $w $__exliar_subs[(math (count $cmds) + 1)]",
        "                    set -a cmds $w",
        "                end",
        "        end",
        "    end",
        '    test "$cmds" = "$want"',
        "end",
        "complete -c exliar -f",
    ]
    # Per depth, the command names (enough to tell command words from arguments here).
    depth = {}
    for p in rows:
        d = len(p.split()) if p else 0
        depth.setdefault(d, set()).update(s["name"] for s in rows[p]["commands"])
    L.append("set -g __exliar_subs " + " ".join(
        "'%s'" % " ".join(sorted(depth[d])) for d in sorted(depth)))
    for p, c in rows.items():
        cond = "__exliar_path %s" % p if p else "__exliar_path"
        for s in c["commands"]:
            L.append("complete -c exliar -n '%s' -a %s -d '%s'" % (
                cond, s["name"], sq(s["description"])))
        for o in named(c):
            a = ["complete -c exliar -n '%s'" % cond]
            a += ["-s " + s for s in o["short"]] + ["-l " + l for l in o["long"]]
            if not o["flag"]:
                a.append("-r")
                if choices(o):
                    a.append("-a '%s'" % " ".join(choices(o)))
                elif dynamic_kind(o):
                    a.append("-a '(__exliar_%s)'" % dynamic_kind(o))
                elif is_file(o):
                    a.append("-F")
            a.append("-d '%s'" % sq(o["description"]))
            L.append(" ".join(a))
        for po in positionals(c):
            kind = dynamic_kind(po)
            if kind:
                L.append("complete -c exliar -n '%s' -a '(__exliar_%s)'" % (cond, kind))
            elif po["name"] == "file":
                L.append("complete -c exliar -n '%s' -F" % cond)
    L.append("")
    return "\n".join(L)


def main():
    exe, outdir, date = sys.argv[1], sys.argv[2], sys.argv[3]
    tree = load(exe)
    os.makedirs(outdir, exist_ok=True)
    for name, text in (("exliar.1", man_page(tree, date)), ("exliar.bash", bash(tree)),
                       ("_exliar", zsh(tree)), ("exliar.fish", fish(tree))):
        tmp = os.path.join(outdir, name + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, os.path.join(outdir, name))


if __name__ == "__main__":
    main()
