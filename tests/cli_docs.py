#!/usr/bin/python3
"""Man page, completions and `cmake --install` against the CLI definitions (issue 19).

usage: cli_docs.py EXLIAR SOURCE_DIR BINARY_DIR CASE    (--list names the cases)
The truth is `exliar __cli-tree` (what CLI11 parses); the generated files in BINARY_DIR/gen
must mention every option of it, lint clean and work in the real shells.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

CASES = {}


def case(f):
    CASES[f.__name__] = f
    return f


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def tree(exe):
    return json.loads(run([exe, "__cli-tree"], check=True).stdout)


def walk(app, path=()):
    yield path, app
    for c in app["commands"]:
        yield from walk(c, path + (c["name"],))


def option_names(app):
    return [n for o in app["options"] if not o["positional"]
            for n in ["-" + s for s in o["short"]] + ["--" + l for l in o["long"]]]


@case
def version(exe, src, bld):
    out = run([exe, "--version"]).stdout
    cm = open(os.path.join(src, "CMakeLists.txt")).read()
    v = re.search(r"project\(exliar VERSION ([0-9.]+)", cm).group(1)
    db = open(os.path.join(src, "data/gpu-db/VERSION")).read().split()[0]
    if "exliar " + v not in out or db not in out:
        fail("--version says %r; want exliar %s and GPU database %s" % (out, v, db))
    print(out)


@case
def man_options(exe, src, bld):
    """Every command and every option CLI11 knows appears in the rendered man page."""
    man = os.path.join(bld, "gen", "exliar.1")
    env = dict(os.environ, MANWIDTH="200", MAN_KEEP_FORMATTING="0")
    text = run(["man", "-l", "-P", "cat", man], env=env, check=True).stdout
    text = re.sub(".\b", "", text)
    missing = []
    for path, app in walk(tree(exe)):
        if path and "exliar " + " ".join(path) not in text:
            missing.append("command exliar " + " ".join(path))
        for n in option_names(app):
            if not re.search(r"(^|[\s,])%s([\s,=]|$)" % re.escape(n), text, re.M):
                missing.append("option %s of exliar %s" % (n, " ".join(path)))
    for section in ("SYNOPSIS", "EXIT STATUS", "FILES", "EXAMPLES", "SAFETY"):
        if section not in text:
            missing.append("section " + section)
    if missing:
        fail("missing from exliar(1): " + "; ".join(missing))
    print("exliar(1): %d lines rendered, every command and option present" % len(text.splitlines()))


@case
def man_lint(exe, src, bld):
    man = os.path.join(bld, "gen", "exliar.1")
    if shutil.which("mandoc"):
        r = run(["mandoc", "-T", "lint", man])
        tool = "mandoc -T lint"
    else:
        r = run(["groff", "-ww", "-man", "-z", man])
        tool = "groff -ww -man -z"
    out = (r.stdout + r.stderr).strip()
    if out:
        fail("%s:\n%s" % (tool, out))
    print(tool + ": clean")


def bash_complete(bld, words, cword, env_path):
    script = os.path.join(bld, "gen", "exliar.bash")
    arr = " ".join("'%s'" % w for w in words)
    prog = ('source %s; COMP_WORDS=(%s); COMP_CWORD=%d; _exliar; printf "%%s\\n" "${COMPREPLY[@]}"'
            % (script, arr, cword))
    r = run(["bash", "--norc", "-c", prog], env=dict(os.environ, PATH=env_path))
    if r.returncode != 0:
        fail("bash completion failed: " + r.stderr)
    return [l for l in r.stdout.splitlines() if l]


@case
def bash_completion(exe, src, bld):
    t = tree(exe)
    tmp = tempfile.mkdtemp()
    try:
        # `exliar` on PATH is the built one; a fixture machine gives known GPUs.
        os.symlink(exe, os.path.join(tmp, "exliar"))
        path = tmp + ":" + os.environ.get("PATH", "/usr/bin:/bin")
        machine = os.path.join(bld, "machines", "z370-ubuntu")
        gpus = [g["address"] for g in json.loads(
            run([exe, "--root", machine, "detect", "--json"], check=True).stdout)["gpus"]]
        verbs = sorted(c["name"] for c in t["commands"])
        checks = [
            (["exliar", ""], 1, verbs),
            (["exliar", "ch"], 1, ["check"]),
            (["exliar", "boot", ""], 2, ["add", "remove", "show"]),
            (["exliar", "vm", "en"], 2, ["enable"]),
            (["exliar", "--color", ""], 2, ["always", "auto", "never"]),
            (["exliar", "vm-xml", "--format", ""], 3, ["proxmox", "qemu", "xml"]),
            (["exliar", "--root", machine, "check", "--gpu", ""], 5, gpus),
            (["exliar", "--root", machine, "plan", "--gpu", ""], 5, gpus),
            (["exliar", "--root", machine, "gpu", ""], 4, gpus),
        ]
        # Every option of every command completes after "-".
        for p, app in walk(t):
            if app["commands"] and p:
                continue
            checks.append((["exliar"] + list(p) + ["-"], len(p) + 1, sorted(set(option_names(app)))))
        for words, cword, want in checks:
            got = sorted(bash_complete(bld, words, cword, path))
            if got != sorted(want):
                fail("%s (COMP_CWORD=%d): got %s, want %s" % (words, cword, got, sorted(want)))
        # rollback IDs: a transaction applied on a copy of a fixture machine.
        root = os.path.join(tmp, "root")
        shutil.copytree(machine, root, symlinks=True)
        r = run([exe, "--root", root, "-y", "--no-plugins", "apply", "--gpu", "auto", "--json"])
        st = run([exe, "--root", root, "status", "--json"], check=True)
        ids = [x["id"] for x in json.loads(st.stdout)["transactions"]]
        if not ids:
            fail("no transaction to complete after apply: " + r.stdout[-400:] + r.stderr[-400:])
        got = bash_complete(bld, ["exliar", "--root", root, "rollback", ""], 4, path)
        if sorted(got) != sorted(ids):
            fail("rollback ids: got %s, want %s" % (got, ids))
        print("bash: %d completion checks passed (GPUs %s, transactions %s)"
              % (len(checks) + 1, gpus, ids))
    finally:
        shutil.rmtree(tmp)


@case
def zsh_fish_parse(exe, src, bld):
    done = []
    if shutil.which("zsh"):
        r = run(["zsh", "-n", os.path.join(bld, "gen", "_exliar")])
        if r.returncode:
            fail("zsh -n: " + r.stderr)
        done.append("zsh -n")
    if shutil.which("fish"):
        r = run(["fish", "--no-execute", os.path.join(bld, "gen", "exliar.fish")])
        if r.returncode:
            fail("fish --no-execute: " + r.stderr)
        # fish also loads it and lists the verbs for `exliar `.
        r = run(["fish", "-c", "source %s; complete -C 'exliar '" % os.path.join(bld, "gen", "exliar.fish")])
        verbs = {c["name"] for c in tree(exe)["commands"]}
        got = {l.split("\t")[0] for l in r.stdout.splitlines()}
        if not verbs <= got:
            fail("fish completes %s, missing %s" % (sorted(got), sorted(verbs - got)))
        done.append("fish --no-execute + complete -C")
    if not done:
        fail("neither zsh nor fish installed (scripts/install-deps.sh installs both)")
    print(", ".join(done) + ": ok")


EXPECTED_INSTALL = """
usr/bin/exliar
usr/include/exliar/plugin.h
usr/share/bash-completion/completions/exliar
usr/share/doc/exliar/examples/hooks/log-event
usr/share/doc/exliar/examples/plugins/annotate_veto.c
usr/share/exliar/gpu-db/VERSION
usr/share/fish/vendor_completions.d/exliar.fish
usr/share/man/man1/exliar.1
usr/share/zsh/vendor-completions/_exliar
""".split()


@case
def install_tree(exe, src, bld):
    dest = os.path.join(bld, "install-test")
    shutil.rmtree(dest, ignore_errors=True)
    r = run(["cmake", "--install", bld, "--prefix", "/usr"], env=dict(os.environ, DESTDIR=dest))
    if r.returncode:
        fail("cmake --install: " + r.stdout + r.stderr)
    got = sorted(os.path.relpath(os.path.join(d, f), dest)
                 for d, _, fs in os.walk(dest) for f in fs)
    dbs = sorted("usr/share/exliar/gpu-db/" + f
                 for f in os.listdir(os.path.join(src, "data/gpu-db")) if f.endswith(".json"))
    want = sorted(EXPECTED_INSTALL + dbs)
    print("\n".join(got))
    if got != want:
        fail("installed tree differs: extra %s, missing %s"
             % (sorted(set(got) - set(want)), sorted(set(want) - set(got))))
    if not os.access(os.path.join(dest, "usr/bin/exliar"), os.X_OK):
        fail("usr/bin/exliar not executable")
    v = run([os.path.join(dest, "usr/bin/exliar"), "--version"])
    if v.returncode:
        fail("installed exliar --version: " + v.stderr)
    shutil.rmtree(dest)


def main():
    if sys.argv[1:] == ["--list"]:
        print(";".join(CASES))
        return
    exe, src, bld, name = [os.path.abspath(a) for a in sys.argv[1:4]] + [sys.argv[4]]
    CASES[name](exe, src, bld)


if __name__ == "__main__":
    main()
