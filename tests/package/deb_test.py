#!/usr/bin/python3
"""The Debian package end to end (issue 19, item 5).

usage: deb_test.py SOURCE_DIR BINARY_DIR
1. copies the source tree (git's files) to BINARY_DIR/package/exliar-VERSION and runs
   `dpkg-buildpackage -us -uc -b` there (its output lands in BINARY_DIR/package, not next to
   the checkout);
2. lintian on the .deb: any E: line fails, W:/I: lines are printed;
3. a pristine Debian 12 (debootstrap --variant=minbase, plus man-db and bash-completion to
   run `man` and the completion in it) from the host's apt mirror, cached as a tarball in
   BINARY_DIR/package keyed by its inputs, unpacked fresh for every run;
4. `apt-get install ./exliar_*.deb` in it (apt fetches the runtime libraries the package
   Depends on), then `exliar --version`, `exliar check` (read-only; the host's /sys and
   /proc are bind-mounted), `man exliar`, the bash completion via bash-completion's loader;
5. `apt-get purge --autoremove` and a listing of the tree equal to the one before install
   (apt's and dpkg's own bookkeeping aside), no path naming exliar left.
Prints the time of each phase.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "realos"))
import mirror  # noqa: E402  (the host's mirror from its apt sources)

SUITE = "bookworm"
EXTRA = ["man-db", "bash-completion"]
# Bookkeeping that install + purge legitimately changes.
VOLATILE = ("var/lib/dpkg", "var/lib/apt", "var/log", "var/cache", "var/lib/man-db", "tmp",
            "root", "proc", "sys", "dev", "run", "etc/ld.so.cache", "var/lib/ucf",
            "var/lib/systemd")

t_start = time.monotonic()
times = {}


def phase(name, t0):
    times[name] = round(time.monotonic() - t0, 1)
    print("[%6.1fs] %s done in %.1fs" % (time.monotonic() - t_start, name, times[name]),
          flush=True)


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def run(cmd, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run(cmd, **kw)


def must(cmd, what, **kw):
    r = run(cmd, **kw)
    if r.returncode != 0:
        fail("%s (exit %d):\n%s\n%s" % (what, r.returncode, (r.stdout or "")[-3000:],
                                        (r.stderr or "")[-3000:]))
    return r


def version(src):
    cm = open(os.path.join(src, "CMakeLists.txt")).read()
    v = re.search(r"project\(exliar VERSION ([0-9.]+)", cm).group(1)
    ch = open(os.path.join(src, "debian", "changelog")).readline()
    dv = re.match(r"exliar \(([^)]+)\)", ch).group(1)
    if dv != v:
        fail("debian/changelog says %s, CMakeLists.txt project() says %s" % (dv, v))
    return v


def build_deb(src, work, v):
    t0 = time.monotonic()
    tree = os.path.join(work, "exliar-" + v)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(tree)
    files = must(["git", "-C", src, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                 "git ls-files").stdout.split("\0")
    for f in files:
        if not f or not os.path.lexists(os.path.join(src, f)):
            continue
        d = os.path.join(tree, os.path.dirname(f))
        os.makedirs(d, exist_ok=True)
        shutil.copy2(os.path.join(src, f), os.path.join(tree, f), follow_symlinks=False)
    env = dict(os.environ)
    # dh gives the build its own HOME; point ccache at the shared cache and its config.
    cfg = run(["ccache", "-k", "cache_dir"])
    if cfg.returncode == 0:
        env["CCACHE_DIR"] = cfg.stdout.strip()
        conf = os.path.expanduser("~/.config/ccache/ccache.conf")
        if os.path.exists(conf):
            env["CCACHE_CONFIGPATH"] = conf
    env["DEB_BUILD_OPTIONS"] = "parallel=%d" % os.cpu_count()
    r = run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=tree, env=env)
    open(os.path.join(work, "dpkg-buildpackage.log"), "w").write(r.stdout + r.stderr)
    if r.returncode:
        fail("dpkg-buildpackage -us -uc -b (exit %d), log %s:\n%s" % (
            r.returncode, os.path.join(work, "dpkg-buildpackage.log"), (r.stdout + r.stderr)[-4000:]))
    deb = os.path.join(work, "exliar_%s_amd64.deb" % v)
    if not os.path.exists(deb):
        fail("no %s after dpkg-buildpackage (%s)" % (deb, os.listdir(work)))
    phase("dpkg-buildpackage", t0)
    print("%s: %d bytes" % (os.path.basename(deb), os.path.getsize(deb)))
    print(must(["dpkg-deb", "-f", deb, "Depends", "Installed-Size"], "dpkg-deb -f").stdout)
    print(must(["dpkg-deb", "-c", deb], "dpkg-deb -c").stdout)
    return deb


def lint(deb):
    t0 = time.monotonic()
    r = run(["lintian", "--no-tag-display-limit", deb])
    out = (r.stdout + r.stderr).strip()
    print("lintian:\n" + (out or "(nothing)"))
    errors = [l for l in out.splitlines() if l.startswith("E:")]
    phase("lintian", t0)
    if errors:
        fail("lintian errors:\n" + "\n".join(errors))


def chroot_tarball(work_cache):
    uri = mirror.find(SUITE)
    if not uri:
        fail("no `deb` source for %s main in /etc/apt (sources.list(5))" % SUITE)
    key = hashlib.sha256(json.dumps([SUITE, uri, "minbase", EXTRA]).encode()).hexdigest()[:16]
    tar = os.path.join(work_cache, "chroot-%s-%s.tar" % (SUITE, key))
    if os.path.exists(tar):
        print("chroot: cached %s" % tar)
        return tar
    t0 = time.monotonic()
    os.makedirs(work_cache, exist_ok=True)
    for old in os.listdir(work_cache):
        if old.startswith("chroot-"):
            os.unlink(os.path.join(work_cache, old))
    tmp = os.path.join(work_cache, "debootstrap.tmp")
    subprocess.run(["rm", "-rf", "--one-file-system", tmp])
    must(["debootstrap", "--variant=minbase", "--include=" + ",".join(EXTRA), SUITE, tmp, uri],
         "debootstrap %s from %s" % (SUITE, uri))
    shutil.rmtree(os.path.join(tmp, "var", "cache", "apt", "archives"))
    os.makedirs(os.path.join(tmp, "var", "cache", "apt", "archives", "partial"))
    must(["tar", "-C", tmp, "-cf", tar + ".part", "."], "tar")
    os.rename(tar + ".part", tar)
    subprocess.run(["rm", "-rf", "--one-file-system", tmp])
    phase("debootstrap (cold cache)", t0)
    return tar


def listing(root):
    out = set()
    for d, dirs, files in os.walk(root):
        rel = os.path.relpath(d, root)
        rel = "" if rel == "." else rel
        if any(rel == v or rel.startswith(v + "/") for v in VOLATILE):
            dirs[:] = []
            continue
        for n in dirs + files:
            p = os.path.join(rel, n)
            if p not in VOLATILE:
                out.add(p)
    return out


class Chroot:
    def __init__(self, root):
        self.root, self.mounts = root, []

    def __enter__(self):
        for src, dst, opts in (("/proc", "proc", ["--bind"]), ("/sys", "sys", ["--rbind"]),
                               ("/dev", "dev", ["--bind"])):
            d = os.path.join(self.root, dst)
            must(["mount"] + opts + [src, d], "mount " + d)
            self.mounts.append(d)
            if dst == "sys":
                run(["mount", "--make-rslave", d])
        # apt needs name service; debootstrap left the host's copy, restored on exit.
        rc = os.path.join(self.root, "etc", "resolv.conf")
        self.resolv = open(rc, "rb").read() if os.path.lexists(rc) else None
        if os.path.lexists(rc):
            os.unlink(rc)
        shutil.copy("/etc/resolv.conf", rc)
        return self

    def __exit__(self, *a):
        for d in reversed(self.mounts):
            run(["umount", "-R", "-l", d])
        rc = os.path.join(self.root, "etc", "resolv.conf")
        os.unlink(rc)
        if self.resolv is not None:
            open(rc, "wb").write(self.resolv)

    def sh(self, script, what, ok=(0,)):
        r = run(["chroot", self.root, "/bin/sh", "-c", script],
                env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8",
                     "DEBIAN_FRONTEND": "noninteractive", "TERM": "dumb"})
        if r.returncode not in ok:
            fail("%s: `%s` exit %d:\n%s\n%s" % (what, script, r.returncode, r.stdout[-3000:],
                                               r.stderr[-3000:]))
        return r


def in_chroot(tar, deb, work):
    t0 = time.monotonic()
    root = os.path.join(work, "chroot")
    subprocess.run(["rm", "-rf", "--one-file-system", root])
    os.makedirs(root)
    must(["tar", "-C", root, "-xf", tar], "untar chroot")
    before = listing(root)
    shutil.copy(deb, os.path.join(root, "tmp", os.path.basename(deb)))
    phase("chroot unpacked", t0)
    with Chroot(root) as c:
        t0 = time.monotonic()
        c.sh("apt-get update -q && apt-get install -y -q --no-install-recommends /tmp/%s"
             % os.path.basename(deb), "install the .deb")
        phase("apt-get install ./exliar.deb (runtime libraries from the mirror)", t0)
        t0 = time.monotonic()
        v = c.sh("exliar --version", "exliar --version").stdout
        print("exliar --version:\n" + v)
        r = c.sh("exliar check", "exliar check", ok=(0, 1))
        print("exliar check (exit %d):\n%s%s" % (r.returncode, r.stdout[-1500:], r.stderr[-800:]))
        if not re.search(r"ready|block|no GPU|GPU", r.stdout + r.stderr):
            fail("exliar check gave no verdict")
        m = c.sh("man -P cat exliar", "man exliar").stdout
        if "EXIT STATUS" not in m or "rollback" not in m:
            fail("man exliar: unexpected text:\n" + m[:2000])
        print("man exliar: %d lines" % len(m.splitlines()))
        c.sh("exec bash -c '. /usr/share/bash-completion/bash_completion; "
             "_completion_loader exliar; COMP_WORDS=(exliar ro); COMP_CWORD=1; _exliar; "
             "test \"${COMPREPLY[*]}\" = rollback'", "bash completion of `exliar ro`")
        print("bash completion via bash-completion's loader: `exliar ro` -> rollback")
        phase("exliar --version, check, man, completion in the chroot", t0)
        t0 = time.monotonic()
        c.sh("apt-get purge -y -q --autoremove exliar", "purge exliar")
        c.sh("! dpkg -s exliar 2>/dev/null | grep -q '^Status: install'", "dpkg -s after purge")
        phase("apt-get purge --autoremove", t0)
    os.unlink(os.path.join(root, "tmp", os.path.basename(deb)))
    after = listing(root)
    added, removed = sorted(after - before), sorted(before - after)
    left = [p for p in after if "exliar" in p]
    if added or removed or left:
        fail("tree after purge differs: added %s, removed %s, naming exliar %s"
             % (added[:50], removed[:50], left[:50]))
    print("after purge: %d paths, identical to before install (outside %s)"
          % (len(after), ", ".join(VOLATILE)))
    subprocess.run(["rm", "-rf", "--one-file-system", root])


def main():
    src, bld = sys.argv[1:3]
    work = os.path.join(bld, "package")
    v = version(src)
    deb = build_deb(src, os.path.join(work, "build"), v)
    lint(deb)
    tar = chroot_tarball(os.path.join(work, "cache"))
    in_chroot(tar, deb, work)
    print("times (s): " + json.dumps(times))


if __name__ == "__main__":
    main()
