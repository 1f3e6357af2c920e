#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""daxrs: build, boot and test the FS DAX refcount series on emulated pmem.

  daxrs demo  [--variant V] [--pmem KIND]   build, boot on pmem, show DAX working
  daxrs test  [--with-base] [--record-baseline] [--pmem KIND]
                                            build, boot, run every test suite
  daxrs build [base|series]                 only build a variant
  daxrs setup                               only install what the host needs
  daxrs series materialise|export|emit|lint|bisect
                                            work on the series (see README.md)

Everything it builds or records lives under $DAXRS_CACHE (default
~/.cache/daxrs); the repository itself is only written to by
`test --record-baseline` (project/baseline/).
"""

import argparse
import datetime
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT = os.path.join(REPO, "project")
CACHE = os.path.abspath(os.path.expanduser(
    os.environ.get("DAXRS_CACHE", "~/.cache/daxrs")))
JOBS = int(os.environ.get("DAXRS_JOBS", str(os.cpu_count() or 2)))
CONFIG_FRAGMENT = os.path.join(PROJECT, "config", "test-kernel.config")
# Options of code the series adds (its test modules): merged only into trees
# whose Kconfig defines them, so the base and early patches configure as before.
SERIES_FRAGMENT = os.path.join(PROJECT, "config", "test-kernel.series.config")
VARIANTS = ("base", "series")

# The toolchain.  clang/lld 14 are Debian 12's default LLVM: the 6.12 tree
# has been built and booted with them here, and bindgen uses the same
# libclang, so C and Rust see the headers through one compiler.  rustc is
# Debian's rustc-web (1.96) because it ships the matching core sources
# (rust-web-src) that the kernel's Rust build needs; the rustup toolchain
# has no rust-src.
LLVM_SUFFIX = "-14"
RUSTC = "/usr/bin/rustc"
RUSTDOC = "/usr/bin/rustdoc"
# Debian's, matching RUSTC (a rustup clippy-driver earlier in PATH is not)
CLIPPY_DRIVER = "/usr/bin/clippy-driver"
RUSTFMT = "/usr/bin/rustfmt"
BINDGEN_VERSION = "0.73.2"
VNG_VERSION = "1.42"

# (command or path, Debian package) that the host needs.
HOST_NEEDS = [
    ("clang" + LLVM_SUFFIX, "clang-14"),
    ("ld.lld" + LLVM_SUFFIX, "lld-14"),
    ("llvm-ar" + LLVM_SUFFIX, "llvm-14"),
    ("/usr/lib/llvm-14/lib/libclang.so", "libclang-14-dev"),
    (RUSTC, "rustc-web"),
    (CLIPPY_DRIVER, "rust-web-clippy"),
    (RUSTFMT, "rustfmt-web"),
    ("perl", "perl"),
    # checkpatch's SPDX check runs scripts/spdxcheck.py with Debian's python3
    ("/usr/lib/python3/dist-packages/ply/__init__.py", "python3-ply"),
    ("/usr/lib/python3/dist-packages/git/__init__.py", "python3-git"),
    ("/usr/lib/rustlib/src/rust/library/core/src/lib.rs", "rust-web-src"),
    ("ccache", "ccache"),
    ("flex", "flex"),
    ("bison", "bison"),
    ("bc", "bc"),
    ("/usr/include/libelf.h", "libelf-dev"),
    ("/usr/include/openssl/ssl.h", "libssl-dev"),
    ("make", "make"),
    ("cpio", "cpio"),
    ("depmod", "kmod"),
    ("xz", "xz-utils"),
    ("gcc", "gcc"),
    ("ld.bfd", "binutils"),  # links cxl_test (see MOCK_MODULES)
    ("git", "git"),
    ("rsync", "rsync"),  # kselftest install
    ("qemu-system-x86_64", "qemu-system-x86"),
    # vng's guest script channel needs udevd on the host root it exports
    ("/lib/systemd/systemd-udevd", "udev"),
    # guest tools (the guest runs on the host's root file system)
    ("ndctl", "ndctl"),
    ("daxctl", "daxctl"),
    ("mkfs.xfs", "xfsprogs"),
    ("xfs_io", "xfsprogs"),
    ("mkfs.ext4", "e2fsprogs"),
    ("jq", "jq"),
    ("trace-cmd", "trace-cmd"),
    ("fio", "fio"),
    ("dmsetup", "dmsetup"),
    ("/usr/share/doc/python3-venv", "python3-venv"),
    # runs the ndctl stand-in (and a user's ndctl build) in the guest
    ("meson", "meson"),
    ("cxl", "ndctl"),
    # what ndctl's tests run besides ndctl (security tests, partitions)
    ("keyctl", "keyutils"),
    ("parted", "parted"),
    ("xxd", "xxd"),
    # what fstests runs (its README's Debian list): the guest runs the host's
    ("setfacl", "acl"),
    ("attr", "attr"),
    ("quota", "quota"),
    ("dbench", "dbench"),
    ("/usr/sbin/dump", "dump"),
    ("gawk", "gawk"),
    ("indent", "indent"),
    ("fuser", "psmisc"),
    ("sqlite3", "sqlite3"),
    ("uuidgen", "uuid-runtime"),
    ("xfsdump", "xfsdump"),
    ("lvm", "lvm2"),
]


class Fail(Exception):
    """An error the user can act on: printed without a traceback."""


def now():
    return time.monotonic()


def fmt_secs(s):
    s = int(s)
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def say(msg):
    print(f"[daxrs] {msg}", flush=True)


def run(cmd, **kw):
    """Run a command, failing with its output on a non-zero exit."""
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.STDOUT)
    kw.setdefault("text", True)
    p = subprocess.run(cmd, **kw)
    if p.returncode != 0:
        out = ((p.stdout or "") + (p.stderr or "")).strip().splitlines()[-25:]
        raise Fail(f"command failed ({p.returncode}): {shlex.join(cmd)}\n"
                   + "\n".join("    " + line for line in out))
    return p.stdout or ""


def read_text(path):
    with open(path, errors="replace") as f:
        return f.read()


def tail(path, n=30):
    try:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return "    (no output recorded)"
    return "\n".join("    " + line for line in lines[-n:])


# --------------------------------------------------------------------------
# Host setup

def tool_paths():
    return {
        "bindgen": os.path.join(CACHE, "tools", "bin", "bindgen"),
        "vng": os.path.join(CACHE, "venv", "bin", "vng"),
    }


def have(thing):
    if thing.startswith("/"):
        return os.path.exists(thing)
    return shutil.which(thing) is not None


def ensure_host():
    missing = sorted({pkg for thing, pkg in HOST_NEEDS if not have(thing)})
    pin = read_pin()
    if not os.path.exists(pin["tarball"]):
        missing.append(f"{pin['package']}={pin['version']}")
    if missing:
        # --reinstall: a package can be installed and still miss a file
        cmd = ["apt-get", "install", "-y", "--no-install-recommends", "--reinstall"] + missing
        if os.environ.get("DAXRS_NO_INSTALL") or os.geteuid() != 0:
            raise Fail("missing host packages: " + " ".join(missing) +
                       "\n    install them with: sudo " + shlex.join(cmd))
        say("installing host packages: " + " ".join(missing))
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:
            run(["apt-get", "update"], env=env)
            p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:
            raise Fail("could not install " + " ".join(missing) + ":\n" +
                       "\n".join("    " + x for x in p.stdout.splitlines()[-10:]) +
                       "\n    install them by hand: sudo " + shlex.join(cmd))
        still = sorted({pkg for thing, pkg in HOST_NEEDS if not have(thing)})
        if still:
            raise Fail("still missing after apt-get: " + " ".join(still))
    tools = tool_paths()
    bg = tools["bindgen"]
    if not (os.path.exists(bg) and BINDGEN_VERSION in
            subprocess.run([bg, "--version"], capture_output=True,
                           text=True).stdout):
        if not have("cargo"):
            raise Fail("bindgen is needed and cargo is missing: install Rust "
                       "(cargo) or put bindgen " + BINDGEN_VERSION + " at " + bg)
        if os.environ.get("DAXRS_NO_INSTALL"):
            raise Fail(f"bindgen {BINDGEN_VERSION} missing: cargo install "
                       f"bindgen-cli --version {BINDGEN_VERSION} --locked "
                       f"--root {os.path.join(CACHE, 'tools')}")
        say(f"installing bindgen {BINDGEN_VERSION} with cargo (a few minutes)")
        run(["cargo", "install", "bindgen-cli", "--version", BINDGEN_VERSION,
             "--locked", "--root", os.path.join(CACHE, "tools")])
    vng = tools["vng"]
    if not (os.path.exists(vng) and VNG_VERSION in subprocess.run(
            [vng, "--version"], capture_output=True, text=True).stdout):
        if os.environ.get("DAXRS_NO_INSTALL"):
            raise Fail(f"virtme-ng {VNG_VERSION} missing: python3 -m venv "
                       f"{CACHE}/venv && {CACHE}/venv/bin/pip install "
                       f"virtme-ng=={VNG_VERSION}")
        say(f"installing virtme-ng {VNG_VERSION} from PyPI into {CACHE}/venv")
        venv = os.path.join(CACHE, "venv")
        run(["/usr/bin/python3", "-m", "venv", venv])
        run([os.path.join(venv, "bin", "pip"), "install", "-q",
             f"virtme-ng=={VNG_VERSION}"])
    return tools


# --------------------------------------------------------------------------
# The pinned base and the series

def read_pin():
    pin = {}
    with open(os.path.join(PROJECT, "base.pin")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                k, v = line.split("=", 1)
                pin[k] = v
    return pin


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def git(repo, *args, env=None, **kw):
    e = dict(os.environ, GIT_AUTHOR_NAME="daxrs", GIT_AUTHOR_EMAIL="daxrs@localhost",
             GIT_COMMITTER_NAME="daxrs", GIT_COMMITTER_EMAIL="daxrs@localhost",
             GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null")
    if env:
        e.update(env)
    kw.setdefault("stderr", subprocess.PIPE)
    return run(["git", "-C", repo] + list(args), env=e, **kw)


def ensure_base():
    """The pinned base as a git repository at $CACHE/src/base (tag 'base')."""
    pin = read_pin()
    tarball = os.environ.get("DAXRS_BASE_TARBALL", pin["tarball"])
    unpinned = os.environ.get("DAXRS_ALLOW_UNPINNED_BASE") == "1"
    base = os.path.join(CACHE, "src", "base")
    stamp = os.path.join(base, ".git", "daxrs-base")
    if not os.path.exists(tarball):
        raise Fail(f"base tarball {tarball} not found: apt-get install "
                   f"{pin['package']}={pin['version']}")
    if tarball == pin["tarball"]:
        ver = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pin["package"]],
                             capture_output=True, text=True).stdout.strip()
        if ver != pin["version"] and not unpinned:
            raise Fail(f"{pin['package']} is {ver or 'not installed'}, the series "
                       f"is pinned to {pin['version']} (project/base.pin).\n"
                       f"    install it: apt-get install {pin['package']}={pin['version']}"
                       f"\n    or re-pin after checking the series on the new base;"
                       f" DAXRS_ALLOW_UNPINNED_BASE=1 overrides at your own risk")
    # The hash is checked once per tarball (by size and mtime) and cached.
    st = os.stat(tarball)
    key = f"{tarball} {st.st_size} {int(st.st_mtime)}"
    hashfile = os.path.join(CACHE, "src", "tarball.sha256")
    digest = None
    if os.path.exists(hashfile):
        with open(hashfile) as f:
            k, _, d = f.read().strip().rpartition(" ")
            if k == key:
                digest = d
    if digest is None:
        say(f"checking sha256 of {tarball}")
        digest = sha256(tarball)
        os.makedirs(os.path.dirname(hashfile), exist_ok=True)
        with open(hashfile, "w") as f:
            f.write(f"{key} {digest}\n")
    if digest != pin["sha256"] and not unpinned:
        raise Fail(f"{tarball} has sha256 {digest},\n    the pin "
                   f"(project/base.pin) says {pin['sha256']}: this is not the base"
                   f" the series is written for.\n    Reinstall {pin['package']}="
                   f"{pin['version']}, or set DAXRS_ALLOW_UNPINNED_BASE=1 to try anyway.")
    if os.path.exists(stamp):
        with open(stamp) as f:
            have_stamp = f.read().split()
        if have_stamp[:1] == [digest]:
            if have_stamp[1:] != [BASE_LAYOUT]:
                # An older cache: give the same tree the deterministic commit.
                commit_base(base, pin)
                with open(stamp, "w") as f:
                    f.write(f"{digest} {BASE_LAYOUT}\n")
            return base
    say(f"extracting the base tree from {tarball} into {base}")
    t0 = now()
    if os.path.exists(base):
        shutil.rmtree(base)
    os.makedirs(base)
    extract_base(tarball, base)
    commit_base(base, pin)
    with open(stamp, "w") as f:
        f.write(f"{digest} {BASE_LAYOUT}\n")
    say(f"base tree ready ({fmt_secs(now() - t0)})")
    return base


# The base commit is made with fixed names and dates, so the base (and with
# it every series commit) has the same commit ID on every machine: the
# "base-commit:" of an emitted series means the same thing everywhere.
BASE_LAYOUT = "layout2"
BASE_DATE = "2025-01-01T00:00:00+0000"


def extract_base(tarball, dest):
    run(["tar", "-xJf", tarball, "-C", dest, "--strip-components=1"])
    git(dest, "init", "-q", "-b", "pristine")
    # Debian's .gitignore ignores the whole top level: add everything.
    git(dest, "add", "-A", "-f")


def commit_base(repo, pin):
    """Commit what is in the index (or re-commit HEAD's tree) as tag 'base'."""
    has_head = subprocess.run(["git", "-C", repo, "rev-parse", "-q", "--verify", "HEAD"],
                              capture_output=True).returncode == 0
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip() if has_head else \
        git(repo, "write-tree").strip()
    env = {"GIT_AUTHOR_DATE": BASE_DATE, "GIT_COMMITTER_DATE": BASE_DATE}
    commit = git(repo, "commit-tree", tree, "-m",
                 f"Linux {pin['kernelversion']} ({pin['package']} {pin['version']})\n\n"
                 f"The pinned base of the series: {os.path.basename(pin['tarball'])}\n"
                 f"sha256 {pin['sha256']}\n", env=env).strip()
    git(repo, "update-ref", "refs/heads/pristine", commit)
    git(repo, "tag", "-f", "base", commit)
    return commit


# --------------------------------------------------------------------------
# The series definition (project/series/) and its git form
#
# project/series/series lists the patches in order.  Each entry is a patch
# file in this directory (mail format: subject, message with Signed-off-by,
# and the diff of the files it changes that exist before it), followed by
# indented lines that name the files it adds ("+ path") and, for the reader,
# the files its diff changes ("~ path", rewritten by export).  Added files
# live whole at their kernel-tree paths in the repository; a later patch
# that changes such a file carries a diff against it.

SERIES_DIR = os.path.join(PROJECT, "series")
SERIES_FILE = os.path.join(SERIES_DIR, "series")
# Repository paths that belong to the tooling, never to the kernel tree.
TOOLING = ("README.md", "daxrs", "project/", ".ci/", ".git/", ".gitignore")
SERIES_HEADER = """\
# The FS DAX refcount series, in order; `./daxrs series` materialises,
# exports, emits and lints it (see README.md, "Working on the series").
#
#   NNNN-subject.patch      the patch: mail headers, message, the diff of the
#                           files it changes (git am format)
#       + path              a file the patch adds; it lives whole at that
#                           kernel-tree path in this repository
#       ~ path              a file the patch's diff changes (informational)
"""


def read_series():
    """[(patch file name, [added paths])] from project/series/series."""
    entries = []
    with open(SERIES_FILE) as f:
        for n, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].rstrip()
            if not line.strip():
                continue
            where = f"project/series/series:{n}"
            if not line[0].isspace():
                name = line.strip()
                if not os.path.exists(os.path.join(SERIES_DIR, name)):
                    raise Fail(f"{where} lists {name}, which is not in project/series/")
                entries.append((name, []))
                continue
            kind, _, path = line.strip().partition(" ")
            path = path.strip()
            if kind not in "+~" or not path or not entries:
                raise Fail(f"{where}: expected '+ path' or '~ path' under a patch, "
                           f"got {line.strip()!r}")
            if kind == "+":
                if path.startswith(TOOLING) or path.startswith("/") or ".." in path.split("/"):
                    raise Fail(f"{where}: {path} is not a kernel-tree path of its own "
                               f"(it is the tooling's, or leaves the tree)")
                if not os.path.isfile(os.path.join(REPO, path)):
                    raise Fail(f"{where}: {entries[-1][0]} adds {path}, but the "
                               f"repository has no file at {path}")
                entries[-1][1].append(path)
    return entries


def series_patches():
    return [os.path.join(SERIES_DIR, name) for name, _ in read_series()]


def mailinfo(patch, tmp):
    """(headers, message, diff file) of a mail-format patch."""
    msgf, difff = os.path.join(tmp, "msg"), os.path.join(tmp, "diff")
    with open(patch) as stdin:
        info = subprocess.run(["git", "mailinfo", "-u", msgf, difff], stdin=stdin,
                              capture_output=True, text=True)
    if info.returncode != 0:
        raise Fail(f"{os.path.basename(patch)} is not a mail-format patch: "
                   f"{info.stderr.strip()}")
    hdr = dict(line.split(": ", 1) for line in info.stdout.splitlines() if ": " in line)
    with open(msgf) as f:
        body = f.read().strip()
    for key in ("Author", "Email", "Subject", "Date"):
        if not hdr.get(key):
            raise Fail(f"{os.path.basename(patch)} has no {key}: it needs From:, Date: "
                       f"and Subject: headers")
    return hdr, body, difff


def materialise_series(base):
    """Commit the series onto the base (branch 'series') and check it out at
    $CACHE/src/series.

    The commits are made in a private index (no work tree is touched) with
    the author's date as the committer date, so the same series gives the
    same commit IDs, and the checkout at the end rewrites only the files
    whose content changed: incremental builds stay incremental."""
    tip = git(base, "rev-parse", "refs/tags/base^{commit}").strip()
    entries = read_series()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
        git(base, "read-tree", tip, env=env)
        for name, adds in entries:
            hdr, body, difff = mailinfo(os.path.join(SERIES_DIR, name), tmp)
            if os.path.getsize(difff):
                p = subprocess.run(["git", "-C", base, "apply", "--cached",
                                    "--whitespace=nowarn", difff],
                                   env=dict(os.environ, **env), capture_output=True, text=True)
                if p.returncode != 0:
                    files = sorted(set(re.findall(r"error: (?:patch failed: )?([^:\s]+)",
                                                  p.stderr)))
                    raise Fail(
                        f"patch {name} does not apply to the pinned base + the patches "
                        f"before it\n    files: {', '.join(files) or '?'}\n" +
                        "\n".join("    " + x for x in p.stderr.strip().splitlines()[:10]) +
                        f"\n    rebase it: in {os.path.join(CACHE, 'src', 'series')}, "
                        f"`git am -3 {os.path.join(SERIES_DIR, name)}` on the commit of the"
                        f" patch before it, fix, then `./daxrs series export`")
            for path in adds:
                if git(base, "ls-files", "--", path, env=env).strip():
                    raise Fail(f"patch {name} adds {path}, which the base + the patches "
                               f"before it already have: list it as changed, not added")
                src = os.path.join(REPO, path)
                sha = git(base, "hash-object", "-w", "--path", path, src).strip()
                mode = "100755" if os.access(src, os.X_OK) else "100644"
                git(base, "update-index", "--add", "--cacheinfo", f"{mode},{sha},{path}",
                    env=env)
            tree = git(base, "write-tree", env=env).strip()
            ident = {"GIT_AUTHOR_NAME": hdr["Author"], "GIT_AUTHOR_EMAIL": hdr["Email"],
                     "GIT_AUTHOR_DATE": hdr["Date"], "GIT_COMMITTER_NAME": hdr["Author"],
                     "GIT_COMMITTER_EMAIL": hdr["Email"], "GIT_COMMITTER_DATE": hdr["Date"]}
            msg = hdr["Subject"] + ("\n\n" + body if body else "") + "\n"
            tip = git(base, "commit-tree", tree, "-p", tip, "-m", msg,
                      env=dict(env, **ident)).strip()
    prev = subprocess.run(["git", "-C", base, "rev-parse", "-q", "--verify",
                           "refs/heads/series"], capture_output=True, text=True).stdout.strip()
    git(base, "update-ref", "refs/heads/series", tip)
    wt = series_worktree(base)
    head = git(wt, "rev-parse", "HEAD").strip()
    if head != tip:
        # The work tree is where the series is edited with git: never throw
        # away commits or changes made there.
        if head != prev or git(wt, "status", "--porcelain", "--untracked-files=no").strip():
            keep = f"refs/daxrs/saved/{datetime.datetime.now():%Y%m%d-%H%M%S}"
            git(base, "update-ref", keep, head)
            git(wt, "stash", "-q")
            say(f"the series work tree had commits or changes that are not in "
                f"project/series (run `./daxrs series export` to keep them): HEAD saved "
                f"as {keep}, changes in `git stash`")
        git(wt, "checkout", "-q", "-f", "--detach", tip)
    n = len(entries)
    say(f"series: {n} patch{'es' if n != 1 else ''} on the base, tip {tip[:12]}")
    return wt


def series_worktree(base):
    wt = os.path.join(CACHE, "src", "series")
    if not os.path.exists(os.path.join(wt, ".git")):
        if os.path.exists(wt):
            shutil.rmtree(wt)
        git(base, "worktree", "prune")
        say("creating the series work tree")
        git(base, "worktree", "add", "-q", "--detach", wt, "refs/heads/series")
    return wt


def source_tree(variant):
    base = ensure_base()
    return base if variant == "base" else materialise_series(base)

# --------------------------------------------------------------------------
# Building

def make_cmd(src, out, tools, *targets):
    cc = f"ccache clang{LLVM_SUFFIX}"
    return ["make", "-C", src, f"O={out}", f"-j{JOBS}", f"LLVM={LLVM_SUFFIX}",
            f"CC={cc}", f"RUSTC={RUSTC}", f"RUSTDOC={RUSTDOC}",
            f"CLIPPY_DRIVER={CLIPPY_DRIVER}", f"RUSTFMT={RUSTFMT}",
            f"BINDGEN={tools['bindgen']}"] + list(targets)


def build_env():
    return dict(os.environ, CCACHE_DIR=os.path.join(CACHE, "ccache"),
                CCACHE_BASEDIR=CACHE, CCACHE_MAXSIZE="8G",
                LIBCLANG_PATH="/usr/lib/llvm-14/lib",
                KBUILD_BUILD_USER="daxrs", KBUILD_BUILD_HOST="daxrs",
                KBUILD_BUILD_TIMESTAMP="2025-01-01")


def parse_config(path):
    vals = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            m = re.match(r"(CONFIG_\w+)=(.*)", line)
            if m:
                vals[m.group(1)] = m.group(2)
            m = re.match(r"# (CONFIG_\w+) is not set", line)
            if m:
                vals[m.group(1)] = "n"
    return vals


def kconfig_defines(src, symbol):
    """Whether a Kconfig file of the tree at src defines CONFIG_<symbol>."""
    name = symbol[len("CONFIG_"):]
    r = subprocess.run(["grep", "-rqsE", "--include=Kconfig*", f"^(menu)?config {name}$", src])
    return r.returncode == 0


def configure(src, out, tools):
    """allnoconfig + the fragment, checked symbol by symbol.  The .config in
    the build dir is only replaced when it changes, to keep builds incremental."""
    kdir = out + ".kconfig"
    os.makedirs(kdir, exist_ok=True)
    env = build_env()
    run(make_cmd(src, kdir, tools, "allnoconfig"), env=env)
    fragments = [CONFIG_FRAGMENT]
    want = parse_config(CONFIG_FRAGMENT)
    if os.path.exists(SERIES_FRAGMENT):
        extra = {k: v for k, v in parse_config(SERIES_FRAGMENT).items()
                 if kconfig_defines(src, k)}
        if extra:
            frag = os.path.join(kdir, "series.config")
            with open(frag, "w") as f:
                f.writelines(f"{k}={v}\n" for k, v in extra.items())
            fragments.append(frag)
            want.update(extra)
    run([os.path.join(src, "scripts", "kconfig", "merge_config.sh"), "-m", "-O", kdir,
         os.path.join(kdir, ".config")] + fragments, env=env, cwd=src)
    run(make_cmd(src, kdir, tools, "olddefconfig"), env=env)
    have_ = parse_config(os.path.join(kdir, ".config"))
    bad = [f"{k}: asked {v}, got {have_.get(k, 'n')}" for k, v in want.items()
           if have_.get(k, "n") != v]
    if bad:
        raise Fail("the config fragment does not resolve as written "
                   "(a dependency is missing or a symbol is misspelt):\n" +
                   "\n".join("    " + b for b in bad))
    os.makedirs(out, exist_ok=True)
    new = os.path.join(kdir, ".config")
    cur = os.path.join(out, ".config")
    if not os.path.exists(cur) or open(cur).read() != open(new).read():
        shutil.copy(new, cur)


STEP_RE = re.compile(r"^\s+(CC|RUSTC|RUSTC L|CLIPPY|CLIPPY L|LD|AR|AS|BINDGEN|EXPORTS|HOSTCC|"
                     r"CC \[M\]|LD \[M\]|BTF|OBJCOPY|GEN|UPD|CALL)\s+(\S+)")


def build(variant, tools, lint=False):
    """Build a variant; the series is built with CLIPPY=1 (clippy-driver in
    place of rustc: the same objects, plus lints).  lint: recompile the
    series' own Rust files so that their clippy findings are in this log."""
    src = source_tree(variant)
    extra = ["CLIPPY=1"] if variant == "series" else []
    if lint and variant == "series":
        added, changed = series_files()
        for p in added + changed:
            if p.endswith(".rs"):
                os.utime(os.path.join(src, p))
    out = os.path.join(CACHE, "out", variant)
    log = os.path.join(out, "build.log")
    say(f"configuring {variant} (allnoconfig + project/config/test-kernel.config)")
    configure(src, out, tools)
    stepsfile = os.path.join(out, ".daxrs-steps")
    expected = 0
    if os.path.exists(stepsfile):
        expected = int(open(stepsfile).read().strip() or 0)
    say(f"building {variant} in {out} with {JOBS} jobs (log: {log})")
    t0 = now()
    env = build_env()
    state = {"steps": 0, "last": "starting"}
    done = threading.Event()

    def ticker():
        # Every 30 s, whether or not make prints: rustc works silently for
        # minutes on the kernel crate.
        while not done.wait(30):
            st = state["steps"]
            pct = f" ~{min(99, 100 * st // expected)}%" if expected else ""
            say(f"  {variant}: {st} steps{pct}, {fmt_secs(now() - t0)}, at {state['last']}")

    with open(log, "w") as logf:
        p = subprocess.Popen(make_cmd(src, out, tools, *extra), env=env,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, errors="replace")
        tick = threading.Thread(target=ticker, daemon=True)
        tick.start()
        for line in p.stdout:
            logf.write(line)
            m = STEP_RE.match(line)
            if m:
                state["steps"] += 1
                state["last"] = f"{m.group(1)} {m.group(2)}"
        rc = p.wait()
        done.set()
        tick.join()
    steps = state["steps"]
    if rc != 0:
        with open(log, errors="replace") as f:
            lines = f.read().splitlines()
        errs = [i for i, x in enumerate(lines)
                if re.search(r"error[:\[]|Error \d|\*\*\*", x) and "warning" not in x]
        shown = []
        for i in errs[:6]:
            for x in lines[max(0, i - 2):i + 3]:
                if x not in shown:
                    shown.append(x)
        raise Fail(f"the {variant} kernel does not build (make exit {rc}); first errors:\n" +
                   "\n".join("    " + x for x in (shown or lines[-25:])[:40]) +
                   f"\n    full log: {log}")
    with open(stepsfile, "w") as f:
        f.write(str(max(steps, expected)))  # the cold build sets the scale
    # Modules staged for the guest (it bind-mounts this over /lib/modules).
    modroot = os.path.join(out, "modroot")
    if os.path.exists(modroot):
        shutil.rmtree(modroot)
    run(make_cmd(src, out, tools, f"INSTALL_MOD_PATH={modroot}", "INSTALL_MOD_STRIP=1",
                 "modules_install"), env=env)
    release = run(make_cmd(src, out, tools, "-s", "kernelrelease"), env=env).strip()
    build_test_modules(src, out, tools, env, modroot, release)
    # The selftests come with the series; the base runs the series' build.
    kst = build_kselftests(src, out, tools, env) if variant == "series" else \
        (os.path.join(CACHE, "out", "series", "kselftest")
         if os.path.exists(os.path.join(CACHE, "out", "series", "kselftest",
                                        "run_kselftest.sh")) else None)
    say(f"{variant} built: {release} ({steps} steps, {fmt_secs(now() - t0)})")
    return {"variant": variant, "out": out, "src": src, "release": release,
            "bzimage": os.path.join(out, "arch", "x86", "boot", "bzImage"),
            "modroot": modroot, "kselftest": kst}


# The kernel's mocked test buses, built against each variant and staged in
# modroot's extra/, where depmod prefers them to the in-tree modules they
# relink (ndctl's contrib/nfit_test_depmod.conf, plus the search order).
# ndctl's test/core.c refuses modules not loaded from extra/ or updates/.
#   nfit_test: tools/testing/nvdimm, the nfit_test.0/1 buses (ndctl's
#     daxdev-errors.sh, multi-dax.sh, most of its ndctl suite)
#   cxl_test: tools/testing/cxl, a mocked CXL topology (ndctl's
#     daxctl-create.sh and cxl suite); built when the config has CXL
MOCK_MODULES = {
    "nfit_test": {
        "dir": "tools/testing/nvdimm",
        "sources": ("tools/testing/nvdimm", "drivers/nvdimm", "drivers/acpi/nfit", "drivers/dax"),
        "overrides": ("nfit", "device_dax", "dax_pmem", "dax_pmem_core", "dax_pmem_compat",
                      "libnvdimm", "nd_btt", "nd_e820", "nd_pmem", "dax"),
        "staged": ("nfit_test", "nfit", "libnvdimm", "nd_pmem", "device_dax", "dax_pmem"),
        "config": None,
    },
    "cxl_test": {
        "dir": "tools/testing/cxl",
        "sources": ("tools/testing/cxl", "drivers/cxl"),
        "overrides": ("cxl_acpi", "cxl_pmem", "cxl_port", "cxl_mem", "cxl_core"),
        "staged": ("cxl_test", "cxl_mock", "cxl_mock_mem", "cxl_acpi", "cxl_core", "cxl_mem"),
        "config": "CONFIG_CXL_BUS",
        # linked with GNU ld, as upstream tests it: ld.lld also applies
        # --wrap to the references in cxl_core's own .export_symbol
        # section, and modpost refuses the result ("cxl_core: .export_symbol
        # section references '__wrap_devm_cxl_setup_hdm'").  The objects
        # are clang's, as for every other module.
        "make": ["LD=ld.bfd"],
    },
}


def build_test_modules(src, out, tools, env, modroot=None, release=None):
    """The mocked test modules (MOCK_MODULES) built against this build and,
    with modroot, staged in its extra/ over the in-tree modules.

    6.12's kbuild writes the objects of an M= build next to its sources, and
    these Kbuilds reach the drivers as ../../../drivers: so each builds in a
    copy of those directories under the build dir (the source tree stays
    clean and shared by variants).  A failure fails the build: the series
    changes what nfit_test wraps (devm_memremap_pages, pgmap refs)."""
    cfg = parse_config(os.path.join(out, ".config"))
    built = []
    for name, m in MOCK_MODULES.items():
        if m["config"] and cfg.get(m["config"]) != "m":
            continue
        scratch = os.path.join(out, "mock-modules")
        for d in m["sources"]:
            dst = os.path.join(scratch, d)
            os.makedirs(dst, exist_ok=True)
            # sources only in, stale sources out; objects of the last build stay
            run(["rsync", "-a", "--delete", "--exclude=*.o", "--exclude=*.ko",
                 "--exclude=.*.cmd", "--exclude=*.mod*", "--exclude=modules.order",
                 "--exclude=Module.symvers", "--exclude=*.a", "--exclude=.tmp*",
                 os.path.join(src, d) + "/", dst + "/"])
        mdir = os.path.join(scratch, m["dir"])
        say(f"building {name} ({m['dir']}) against this build")
        logp = os.path.join(out, f"{name}.log")
        p = subprocess.run(make_cmd(src, out, tools, f"M={mdir}", *m.get("make", []),
                                    "modules"), env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           errors="replace")
        with open(logp, "w") as f:
            f.write(p.stdout)
        if p.returncode != 0:
            lines = p.stdout.splitlines()
            errs = [x for x in lines if re.search(r"error[:\[]|Error \d|undefined", x)]
            raise Fail(f"{m['dir']} ({name}) does not build against this tree "
                       f"(make exit {p.returncode}):\n" +
                       "\n".join("    " + x for x in (errs or lines[-20:])[:20]) +
                       f"\n    full log: {logp}")
        built.append((name, m, mdir))
    if modroot is None:
        return
    for name, m, mdir in built:
        run(make_cmd(src, out, tools, f"M={mdir}", *m.get("make", []),
                     f"INSTALL_MOD_PATH={modroot}",
                     "INSTALL_MOD_DIR=extra", "INSTALL_MOD_STRIP=1", "modules_install"),
            env=env)
    conf = os.path.join(out, "test-modules-depmod.conf")
    with open(conf, "w") as f:
        f.write("# written by daxrs: the mocked test builds of these modules win\n"
                "search extra updates built-in\n")
        f.writelines(f"override {x} * extra\n" for _, m, _ in built for x in m["overrides"])
    run(["depmod", "-b", modroot, "-C", conf, release])
    mods = os.path.join(modroot, "lib", "modules", release)
    dep = read_text(os.path.join(mods, "modules.dep"))
    for name, m, _ in built:
        for x in m["staged"]:
            if not re.search(rf"^extra/(test/)?{x}\.ko(\.\w+)?:", dep, re.M):
                raise Fail(f"{name} staging: modules.dep under {mods} does not resolve "
                           f"{x} to extra/ (depmod config {conf})")


def build_kselftests(src, out, tools, env):
    """tools/testing/selftests/dax of the series, installed kselftest-style
    (run_kselftest.sh) under the build dir; None while the suite does not exist."""
    if not os.path.exists(os.path.join(src, "tools", "testing", "selftests", "dax",
                                       "Makefile")):
        return None
    inst = os.path.join(out, "kselftest")
    if os.path.exists(inst):
        shutil.rmtree(inst)
    run(make_cmd(src, out, tools, "headers"), env=env)
    p = subprocess.run(["make", "-C", os.path.join(src, "tools", "testing", "selftests"),
                        "TARGETS=dax", f"O={out}/kselftest-build",
                        f"KHDR_INCLUDES=-isystem {out}/usr/include",
                        f"INSTALL_PATH={inst}", "install"],
                       env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise Fail("tools/testing/selftests/dax does not build:\n" +
                   "\n".join("    " + x for x in (p.stdout + p.stderr).splitlines()[-20:]))
    return inst


def build_helpers():
    """User-space helpers the guest runs, compiled on the host."""
    bindir = os.path.join(CACHE, "bin")
    os.makedirs(bindir, exist_ok=True)
    for name in ("daxprobe",):
        srcf = os.path.join(PROJECT, "guest", name + ".c")
        dst = os.path.join(bindir, name)
        if not os.path.exists(dst) or os.path.getmtime(dst) < os.path.getmtime(srcf):
            run(["gcc", "-O2", "-Wall", "-Werror", "-o", dst, srcf])
    return bindir


# --------------------------------------------------------------------------
# Booting

def kvm_works(kernel):
    """KVM is used only where it really runs a guest: probed once per machine."""
    stamp = os.path.join(CACHE, "kvm-probe")
    if os.path.exists(stamp):
        return open(stamp).read().strip() == "yes"
    ok = False
    if os.access("/dev/kvm", os.R_OK | os.W_OK):
        say("probing whether KVM can run a guest here (30 s at most)")
        try:
            p = subprocess.run(["qemu-system-x86_64", "-accel", "kvm", "-machine", "q35",
                                "-m", "512M", "-nographic", "-no-reboot", "-kernel", kernel,
                                "-append", "console=ttyS0 panic=-1 root=/dev/nonexistent"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=30, text=True, errors="replace")
            ok = "Linux version" in p.stdout
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) \
                else (e.stdout or "")
            ok = "Linux version" in out
    with open(stamp, "w") as f:
        f.write("yes\n" if ok else "no\n")
    say("KVM " + ("works: guests use it" if ok else "cannot run a guest here: using TCG"))
    return ok


PMEM_LAYOUTS = {
    # Three legacy e820 regions (gaps between them so they stay separate)
    # carved from guest RAM above 4 GiB: q35 puts 2 GiB of RAM below 4 GiB.
    "memmap": {"memory": "6G", "append": "memmap=768M!4G memmap=768M!5G memmap=768M!6G",
               "qemu": ""},
    # QEMU NVDIMMs with label space: an ACPI.NFIT bus, labelled namespaces.
    "nvdimm": {"memory": "3G", "append": "",
               "qemu": "-machine nvdimm=on -m 3G,slots=4,maxmem=16G "
                       "-object memory-backend-file,id=nvmem0,share=on,"
                       "mem-path={img0},size=2050M,align=2M "
                       "-device nvdimm,id=nv0,memdev=nvmem0,label-size=2M "
                       "-object memory-backend-file,id=nvmem1,share=on,"
                       "mem-path={img1},size=1026M,align=2M "
                       "-device nvdimm,id=nv1,memdev=nvmem1,label-size=2M"},
    # All three kinds at once, as ndctl's dax suite needs them (see README):
    # e820 regions (the first 3 GiB, 1 GiB aligned, for ndctl's dax-dev and
    # device-dax), two labelled QEMU NVDIMMs of 4 GiB (their fsdax namespaces
    # are fstests' TEST_DEV and SCRATCH_DEV; sparse host files, so host page
    # cache rather than pinned guest RAM), and the nfit_test bus (modules).
    # The e820 regions start at 8 GiB: nfit_test hands out its emulated
    # "physical" ranges from [4 GiB, 8 GiB) and its request_region wrapper
    # claims (and WARNs about) anything there.  RAM is 2 GiB below 4 GiB and
    # 4 to 13 GiB, so about 6 GiB remain RAM.
    "all": {"memory": "11G",
            "append": "memmap=3G!8G memmap=768M!11392M memmap=768M!12416M",
            "qemu": "-machine nvdimm=on -m 11G,slots=4,maxmem=32G "
                    "-object memory-backend-file,id=nvmem0,share=on,"
                    "mem-path={img0},size=4098M,align=2M "
                    "-device nvdimm,id=nv0,memdev=nvmem0,label-size=2M "
                    "-object memory-backend-file,id=nvmem1,share=on,"
                    "mem-path={img1},size=4098M,align=2M "
                    "-device nvdimm,id=nv1,memdev=nvmem1,label-size=2M"},
}
NVDIMM_SIZES = {"nvdimm": ("2050M", "1026M"), "all": ("4098M", "4098M")}


def boot(kern, mode, pmem, timeout, label, suites=None):
    """Boot the kernel under vng and run project/guest/guest.sh MODE in it.
    suites (mode "suites"): what the guest runs of the user's ndctl/fstests."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    res = os.path.join(CACHE, "results", f"{stamp}-{mode}-{kern['variant']}")
    os.makedirs(res)
    latest = os.path.join(CACHE, "results", f"latest-{mode}-{kern['variant']}")
    if os.path.islink(latest):
        os.unlink(latest)
    os.symlink(res, latest)
    npatch = len(series_patches()) if kern["variant"] == "series" else 0
    with open(os.path.join(res, "variant"), "w") as f:
        f.write(f"variant {kern['variant']}" + (f", {npatch} series patches"
                                                 if kern["variant"] == "series" else
                                                 ", the pinned base alone") + "\n")
    if kern.get("kselftest"):
        with open(os.path.join(res, "kselftest-dir"), "w") as f:
            f.write(kern["kselftest"] + "\n")
    layout = PMEM_LAYOUTS[pmem]
    qemu_opts = layout["qemu"]
    if pmem in NVDIMM_SIZES:
        imgs = []
        for i, size in enumerate(NVDIMM_SIZES[pmem]):
            img = os.path.join(CACHE, f"nvdimm{i}.img")
            if os.path.exists(img):
                os.unlink(img)  # fresh, label-less every boot
            run(["truncate", "-s", size, img])
            imgs.append(img)
        qemu_opts = qemu_opts.format(img0=imgs[0], img1=imgs[1])
    # Every layout also gets an NVMe controller with a 64 MiB controller
    # memory buffer, which nvme registers as PCI P2PDMA memory (p2pmem).
    nvme = os.path.join(CACHE, "nvme-cmb.img")
    if not os.path.exists(nvme):
        run(["truncate", "-s", "64M", nvme])
    qemu_opts = (f"{qemu_opts} -drive file={nvme},if=none,id=nvm,format=raw "
                 "-device nvme,serial=daxrs-p2pmem,drive=nvm,cmb_size_mb=64").strip()
    kvm = kvm_works(kern["bzimage"])
    bindir = build_helpers()
    # a copy: bash reads its script as it goes, and the repository's copy
    # may be edited while a guest runs
    guest = os.path.join(res, "guest.sh")
    shutil.copy(os.path.join(PROJECT, "guest", "guest.sh"), guest)
    script = shlex.join(["bash", guest, mode, res, kern["modroot"], REPO, bindir, pmem])
    cmd = [tool_paths()["vng"], "--run", kern["bzimage"], "--disable-microvm", "--force-9p",
           "--cpus", "2", "--memory", layout["memory"], "--verbose",
           # no vng module dir (.virtme_mods, the in-tree modules only): udev
           # would load the in-tree libnvdimm at boot, before the guest
           # script mounts the staged modules with nfit_test's in extra/
           "--skip-modules",
           # an oops (a task dead with its locks held) panics, and a panic ends
           # the guest at once: a run stops with the trace instead of hanging
           "--append", f"{layout['append']} log_buf_len=8M printk.devkmsg=on "
                       "oops=panic panic=-1".strip(),
           "--rwdir", res, "--exec", script]
    if suites:
        with open(os.path.join(res, "suites.env"), "w") as f:
            f.writelines(f"{k}={shlex.quote(v)}\n" for k, v in suites["env"].items())
        # writable in the guest (meson-logs, fstests' own files), untouched
        # on the host
        for d in suites["dirs"]:
            cmd += ["--overlay-rwdir", d]
    if not kvm:
        cmd.insert(3, "--disable-kvm")
        # Multi-threaded TCG runs a vCPU into a stale int3 while another one
        # patches kernel text (seen here: "Oops: int3" in sched_clock_cpu when
        # the sched_clock static key flips at boot, about one boot in eight).
        # One TCG thread for both vCPUs keeps SMP and loses the race.
        qemu_opts = f"{qemu_opts} -accel tcg,thread=single".strip()
    if qemu_opts:
        cmd.append(f"--qemu-opts={qemu_opts}")  # it starts with "-"
    console = os.path.join(res, "console.log")
    with open(os.path.join(res, "vng-command.txt"), "w") as f:
        f.write(shlex.join(cmd) + "\n")
    say(f"booting {kern['release']} ({kern['variant']}) under "
        f"{'KVM' if kvm else 'QEMU TCG'} with {pmem} pmem: {label}")
    t0 = now()
    progress = os.path.join(res, "progress")
    seen = ""
    with open(console, "w") as con:
        # vng runs its helpers (virtme-run, ...) from PATH: put its venv first
        venv_bin = os.path.dirname(tool_paths()["vng"])
        env = dict(os.environ, PATH=venv_bin + os.pathsep + os.environ.get("PATH", ""))
        p = subprocess.Popen(cmd, stdout=con, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             cwd=REPO, start_new_session=True, env=env)
        while p.poll() is None:
            time.sleep(2)
            if os.path.exists(progress):
                cur = open(progress).read().strip()
                if cur and cur != seen:
                    seen = cur
                    say(f"  guest [{fmt_secs(now() - t0)}]: {cur}")
            if now() - t0 > timeout:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
                raise Fail(f"the guest did not finish within {fmt_secs(timeout)} (hung?). "
                           f"Last console lines:\n{tail(console)}\n    full console: "
                           f"{console}\n    raise DAXRS_BOOT_TIMEOUT if the machine is "
                           f"just slow")
    rc_file = os.path.join(res, "exit-code")
    if not os.path.exists(rc_file):
        raise Fail(f"the guest stopped before its script finished (vng exit "
                   f"{p.returncode}, after {fmt_secs(now() - t0)}): killed, crashed or "
                   f"panicked. Last console lines:\n{tail(console)}\n    full console: "
                   f"{console}")
    rc = int(open(rc_file).read().strip() or 1)
    err = os.path.join(res, "error")
    if os.path.exists(err):
        raise Fail(open(err).read().strip() + f"\n    guest log: {res}/guest.log")
    say(f"guest finished in {fmt_secs(now() - t0)} (script exit {rc}); results in {res}")
    return res, rc


# --------------------------------------------------------------------------
# The user's own ndctl and fstests (test --ndctl / --fstests), or the
# stand-ins of project/tests/standin that check the same plumbing

STANDIN = os.path.join(PROJECT, "tests", "standin")


def ndctl_dirs(path):
    """(source, build) of an ndctl checkout or of its meson build dir."""
    path = os.path.abspath(os.path.expanduser(path))
    for b in (path, os.path.join(path, "build")):
        info = os.path.join(b, "meson-info", "meson-info.json")
        if os.path.exists(info):
            with open(info) as f:
                d = json.load(f).get("directories", {})
            return os.path.abspath(d.get("source", path)), os.path.abspath(b)
    raise Fail(f"--ndctl {path}: neither it nor {path}/build is a meson build directory.\n"
               "    build ndctl first: meson setup build -Dtest=enabled -Ddestructive=enabled"
               " && meson compile -C build")


def check_ndctl(path, args):
    """What the guest needs to run `meson test ARGS` in an ndctl build."""
    src, bdir = ndctl_dirs(path)
    with open(os.path.join(bdir, "meson-info", "intro-tests.json")) as f:
        tests = json.load(f)
    argv = shlex.split(args)
    suites = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--suite"]
    picked = [t for t in tests if not suites or any(
        s == x or s.endswith(":" + x) for s in t.get("suite", []) for x in suites)]
    if not picked:
        raise Fail(f"--ndctl {path}: no test in {' '.join(suites) or 'the build'} "
                   f"({len(tests)} tests registered): was ndctl configured with "
                   "-Dtest=enabled?")
    missing = [t["cmd"][0] for t in picked if t.get("cmd") and not os.path.exists(t["cmd"][0])]
    if missing:
        raise Fail(f"--ndctl {path}: not built ({missing[0]} is missing): "
                   f"meson compile -C {bdir}")
    opts = os.path.join(bdir, "meson-info", "intro-buildoptions.json")
    if os.path.exists(opts):
        with open(opts) as f:
            destr = [o.get("value") for o in json.load(f) if o.get("name") == "destructive"]
        if destr and destr[0] != "enabled":
            say(f"note: {bdir} was configured without -Ddestructive=enabled, so most of "
                "the dax suite is not built (meson configure -Ddestructive=enabled)")
    meson = shutil.which("meson")
    if not meson:
        raise Fail("--ndctl needs meson on this machine (the guest runs the host's): "
                   "apt-get install meson")
    return {"NDCTL_SRC": src, "NDCTL_BUILD": bdir, "NDCTL_ARGS": args}, \
        [src] + ([] if bdir.startswith(src + "/") else [bdir])


def check_fstests(path, args, fss):
    d = os.path.abspath(os.path.expanduser(path))
    if not os.access(os.path.join(d, "check"), os.X_OK):
        raise Fail(f"--fstests {d}: no executable ./check there: not an fstests checkout")
    if not os.path.exists(os.path.join(d, "ltp", "fsstress")):
        raise Fail(f"--fstests {d}: not built (no ltp/fsstress): run make in {d}")
    bad = [x for x in fss if x not in ("ext4", "xfs")]
    if bad or not fss:
        raise Fail(f"--fstests-fs: ext4 and/or xfs, not {','.join(bad or fss)!r}")
    return {"FSTESTS_DIR": d, "FSTESTS_ARGS": args, "FSTESTS_FS": " ".join(fss)}, [d]


def suites_plan(args, kvm):
    """The suites boot: the user's ndctl/fstests where given, the stand-ins
    for the rest (so the plumbing is tested on every run).  Returns
    (plan for boot(), {suite key: row suite name})."""
    env, dirs, names = {}, [], {}
    mult = "" if kvm else " --timeout-multiplier 4"  # TCG, see README
    if args.ndctl:
        e, d = check_ndctl(args.ndctl, args.ndctl_args or "--suite dax" + mult)
        names["ndctl"] = "ndctl"
    else:
        build = standin_ndctl_build()
        e, d = check_ndctl(build, "--suite dax")
        names["ndctl"] = "standin-ndctl"
    env.update(e)
    dirs += d
    fss = [x for x in args.fstests_fs.split(",") if x]
    if args.fstests:
        e, d = check_fstests(args.fstests, args.fstests_args, fss)
        names["fstests"] = "fstests"
    else:
        e, d = check_fstests(os.path.join(STANDIN, "fstests"), "-g dax", ["ext4", "xfs"])
        names["fstests"] = "standin-fstests"
    env.update(e)
    dirs += d
    env["MESON"] = shutil.which("meson") or "meson"
    return {"env": env, "dirs": dirs}, names


def standin_ndctl_build():
    """project/tests/standin/ndctl configured with meson under the cache."""
    bdir = os.path.join(CACHE, "standin-ndctl")
    src = os.path.join(STANDIN, "ndctl")
    # configured again when the repository moved or the meson.build changed
    stamp = os.path.join(bdir, ".daxrs-source")
    want = src + " " + sha256(os.path.join(src, "meson.build")) + "\n"
    if not os.path.exists(stamp) or read_text(stamp) != want:
        if os.path.exists(bdir):
            shutil.rmtree(bdir)
        run(["meson", "setup", bdir, src])
        with open(stamp, "w") as f:
            f.write(want)
    return bdir


def parse_ndctl_testlog(path, suite="ndctl"):
    """meson's testlog.json (one JSON object per line): a row per test."""
    rows = []
    with open(path, errors="replace") as f:
        for line in f:
            try:
                t = json.loads(line)
            except ValueError:
                continue
            if not isinstance(t, dict) or "name" not in t:
                continue
            res = str(t.get("result", ""))
            r = {"OK": "pass", "EXPECTEDFAIL": "pass", "SKIP": "skip"}.get(res, "fail")
            detail = ""
            if r != "pass":
                out = [x for x in str(t.get("stdout") or "").splitlines() if x.strip()]
                detail = f"{res}, exit {t.get('returncode')}" + \
                    (f": {out[-1].strip()[:160]}" if out else "")
            rows.append((suite, t["name"], r, detail))
    return rows


def parse_fstests(text, result_base, suite):
    """./check's summary (Ran:, Not run:, Failures:) as rows; notrun reasons
    from RESULT_BASE/<test>.notrun."""
    lists = {}
    for line in text.splitlines():
        for key in ("Ran:", "Not run:", "Failures:"):
            if line.startswith(key):
                lists[key] = line[len(key):].split()
    if "Ran:" not in lists and "Not run:" not in lists:
        tail_ = " | ".join(x for x in text.splitlines()[-3:] if x.strip())
        return [(suite, "./check completed", "fail", tail_[:200] or "no output")]
    failed = set(lists.get("Failures:", []))
    rows = []
    for t in lists.get("Ran:", []):
        rows.append((suite, t, "fail" if t in failed else "pass",
                     f"see {os.path.join(result_base, t)}.out.bad / .full" if t in failed
                     else ""))
    for t in lists.get("Not run:", []):
        why = ""
        nr = os.path.join(result_base, t + ".notrun")
        if os.path.exists(nr):
            why = (read_text(nr).strip().splitlines() or [""])[0][:160]
        rows.append((suite, t, "skip", why))
    return rows


def suite_rows(res, names, env):
    """Rows of a suites boot: the user's (or stand-in) suites, and the log scan."""
    rows = []
    if env.get("NDCTL_BUILD"):
        log = os.path.join(res, "ndctl-testlog.json")
        got = parse_ndctl_testlog(log, names["ndctl"]) if os.path.exists(log) else []
        if not got:
            rows.append((names["ndctl"], "meson test", "fail",
                         tail(os.path.join(res, "ndctl-meson.txt"), 3).replace("\n", " | ")))
        rows += got
    for fs in env.get("FSTESTS_FS", "").split():
        suite = f"{names['fstests']}-{fs}"
        out = os.path.join(res, f"fstests-{fs}.txt")
        if not os.path.exists(out):
            rows.append((suite, "./check completed", "fail", "the guest did not run it"))
            continue
        rows += parse_fstests(read_text(out), os.path.join(res, f"fstests-{fs}"), suite)
    log = os.path.join(res, "dmesg.txt")
    row, bad = kernel_log_row(read_text(log) if os.path.exists(log) else "",
                              "no oops/BUG/WARNING/... (suites boot)")
    rows.append(row)
    return rows, bad


# --------------------------------------------------------------------------
# Results

BAD_LOG = re.compile(
    r"(\bOops\b|\bBUG:|kernel BUG at|WARNING:|\bKASAN\b|\bUBSAN\b|"
    r"possible (recursive|circular) locking|inconsistent lock state|"
    r"DEBUG_LOCKS_WARN_ON|possible irq lock inversion|bad unlock balance|"
    r"lock held when returning|trying to register non-static key|"
    r"turning off the locking correctness validator|suspicious RCU usage|"
    r"rcu: INFO: .*stall|self-detected stall|"
    r"blocked for more than \d+ seconds|soft lockup|hard LOCKUP|"
    r"Kernel panic|general protection fault|Call Trace:)")


def parse_kunit(log):
    """KTAP from the kernel log: one row per test case, named 'suite.case'.

    A suite's header ('# Subtest: S') and its cases share one indentation;
    the suite's own result line sits one level out and closes it."""
    rows = []
    stack = []  # [indent, suite name]
    for raw in log.splitlines():
        line = re.sub(r"^\[\s*[\d.]+\]\s?", "", raw)
        m = re.match(r"^(\s*)# Subtest: (\S+)", line)
        if m:
            stack.append((len(m.group(1)), m.group(2)))
            continue
        m = re.match(r"^(\s*)(ok|not ok) \d+ (\S+)(.*)$", line)
        if not m:
            continue
        indent, name, directive = len(m.group(1)), m.group(3), m.group(4)
        closed = None
        while stack and stack[-1][0] > indent:
            closed = stack.pop()
        if closed and closed[1] == name:
            continue  # a nested suite's own result line
        if not stack or stack[-1][0] != indent:
            continue  # a top-level suite's own result line
        res = "pass" if m.group(2) == "ok" else "fail"
        if re.search(r"#\s*SKIP", directive, re.I):
            res = "skip"
        rows.append(("kunit", f"{stack[-1][1]}.{name}", res, directive.strip(" #")))
    return rows


def collect(res):
    """All result rows of one guest run, the log scan included."""
    rows = []
    tsv = os.path.join(res, "results.tsv")
    if os.path.exists(tsv):
        for line in open(tsv, errors="replace"):
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3:
                rows.append((parts[0], parts[1], parts[2], parts[3] if len(parts) > 3 else ""))
    dmesg = os.path.join(res, "dmesg.txt")
    logf = dmesg if os.path.exists(dmesg) else os.path.join(res, "console.log")
    log = read_text(logf) if os.path.exists(logf) else ""
    kunit = parse_kunit(log)
    if not kunit:
        kunit = [("kunit", "KTAP results in the kernel log", "fail",
                  "no KUnit output: CONFIG_KUNIT off, or the log was lost")]
    rows.extend(kunit)
    row, bad = kernel_log_row(log, "no oops/BUG/WARNING/lockdep/stall/hung task")
    rows.append(row)
    return rows, bad


def kernel_log_row(log, name):
    """The kernel-log row of one guest: every BAD_LOG line fails it."""
    bad = [x for x in log.splitlines() if BAD_LOG.search(x)]
    return ("kernel-log", name, "fail" if bad else "pass", " | ".join(bad[:5])), bad


def summarize(rows):
    n = {"pass": 0, "fail": 0, "skip": 0, "gap": 0}
    for r in rows:
        n[r[2] if r[2] in n else "fail"] += 1
    return n


def print_tables(rows):
    suites = []
    for r in rows:
        if r[0] not in suites:
            suites.append(r[0])
    for s in suites:
        sr = [r for r in rows if r[0] == s]
        n = summarize(sr)
        gaps = f", {n['gap']} known gaps" if n["gap"] else ""
        print(f"\n== {s}: {n['pass']} passed, {n['fail']} failed, {n['skip']} skipped{gaps}")
        if s == "kunit":
            # 100+ cases: one line per KUnit suite, failures named
            per = {}
            for r in sr:
                per.setdefault(r[1].split(".")[0], []).append(r)
            print(f"   {'suite':<44} {'pass':>5} {'fail':>5} {'skip':>5}")
            for k, v in per.items():
                c = summarize(v)
                print(f"   {k:<44} {c['pass']:>5} {c['fail']:>5} {c['skip']:>5}")
            sr = [r for r in sr if r[2] != "pass"]
        for r in sr:
            print(f"   {r[2].upper():<5} {r[1]}" + (f"  ({r[3][:150]})" if r[3] and
                                                      r[2] != "pass" else ""))


def write_tsv(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write("\t".join(x.replace("\t", " ").replace("\n", " ") for x in r) + "\n")


def compare_table(base_rows, series_rows):
    b = {(r[0], r[1]): r[2] for r in base_rows}
    s = {(r[0], r[1]): r[2] for r in series_rows}
    keys = list(dict.fromkeys([(r[0], r[1]) for r in base_rows + series_rows]))
    lines = ["| suite | test | base | series |", "|---|---|---|---|"]
    for k in keys:
        if k[0] == "kunit":
            continue
        lines.append(f"| {k[0]} | {k[1]} | {b.get(k, '-')} | {s.get(k, '-')} |")
    # KUnit as counts: the individual rows are in each run's rows.tsv.
    kb = summarize([r for r in base_rows if r[0] == "kunit"])
    ks = summarize([r for r in series_rows if r[0] == "kunit"])
    lines.append(f"| kunit | all cases (pass/fail/skip) | {kb['pass']}/{kb['fail']}/"
                 f"{kb['skip']} | {ks['pass']}/{ks['fail']}/{ks['skip']} |")
    new_fail = [f"{k[0]}: {k[1]}" for k in keys
                if s.get(k) == "fail" and b.get(k) != "fail"]
    return "\n".join(lines), new_fail


def summary_table(base_rows, series_rows):
    """The cover letter's table: counts per suite, then every test whose
    result is not a pass on both."""
    suites = list(dict.fromkeys(r[0] for r in base_rows + series_rows))
    out = ["| suite | base pass/fail/skip | series pass/fail/skip/gap |", "|---|---|---|"]
    for su in suites:
        b = summarize([r for r in base_rows if r[0] == su])
        sr = summarize([r for r in series_rows if r[0] == su])
        out.append(f"| {su} | {b['pass']}/{b['fail']}/{b['skip']} | "
                   f"{sr['pass']}/{sr['fail']}/{sr['skip']}/{sr['gap']} |")
    b = {(r[0], r[1]): r[2] for r in base_rows}
    sv = {(r[0], r[1]): r[2] for r in series_rows}
    odd = [k for k in dict.fromkeys([(r[0], r[1]) for r in base_rows + series_rows])
           if (b.get(k), sv.get(k)) != ("pass", "pass") and k[0] not in ("tooling", "lint")]
    if odd:
        out += ["", "Tests that do not pass on both (gap: fails on the base too, which the "
                "series has yet to deliver):", "", "| suite | test | base | series |",
                "|---|---|---|---|"]
        out += [f"| {k[0]} | {k[1]} | {b.get(k, '-')} | {sv.get(k, '-')} |" for k in odd]
    return "\n".join(out)


# --------------------------------------------------------------------------
# Working on the series: export, emit, lint

def slug(subject):
    """git format-patch's file name for a subject."""
    s = re.sub(r"[^A-Za-z0-9._]+", "-", subject).strip("-.")
    return re.sub(r"\.+", ".", s)[:52].rstrip("-.")


def series_commits(wt):
    """The commits of the series work tree, oldest first, checked to be a
    straight line on the base."""
    base = git(wt, "rev-parse", "refs/tags/base^{commit}").strip()
    if subprocess.run(["git", "-C", wt, "merge-base", "--is-ancestor", base, "HEAD"]
                      ).returncode != 0:
        raise Fail(f"HEAD of {wt} is not on the base (tag 'base'): rebase it onto 'base'")
    if git(wt, "rev-list", "--merges", f"{base}..HEAD").strip():
        raise Fail(f"the series in {wt} has merge commits: a patch series is a line")
    return [c for c in git(wt, "rev-list", "--reverse", f"{base}..HEAD").split() if c]


def commit_patch(wt, c, added, changed):
    """The mail-format patch of commit c: message and the diff of `changed`."""
    fmt = "%an%x00%ae%x00%aD%x00%s%x00%b"
    an, ae, ad, subject, body = git(wt, "log", "-1", f"--format={fmt}", c).split("\x00")
    out = ["From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001",
           f"From: {an} <{ae}>", f"Date: {ad}", f"Subject: [PATCH] {subject}",
           "MIME-Version: 1.0", "Content-Type: text/plain; charset=UTF-8",
           "Content-Transfer-Encoding: 8bit", "", body.strip(), "---"]
    if added:
        out.append("Adds (whole files, at their kernel-tree paths in the repository):")
        out += [f"  {p}" for p in added]
    if changed:
        out.append(git(wt, "diff", "--no-renames", "--stat=72", f"{c}^", c, "--",
                       *changed).rstrip())
        out.append("")
        out.append(git(wt, "diff", "--no-renames", "--binary", "--full-index", f"{c}^", c,
                       "--", *changed).rstrip("\n"))
    return "\n".join(out) + "\n"


def cmd_series_export(args):
    """Write the commits of the series work tree back into project/series and
    the added files, replacing what was there."""
    base = ensure_base()
    wt = series_worktree(base)
    if git(wt, "status", "--porcelain", "--untracked-files=no").strip():
        raise Fail(f"{wt} has uncommitted changes: commit them (git commit --fixup, "
                   f"--amend, ...) before exporting")
    commits = series_commits(wt)
    old = read_series()
    entries, files = [], {}
    for i, c in enumerate(commits, 1):
        subject = git(wt, "log", "-1", "--format=%s", c).strip()
        added, changed = [], []
        raw = git(wt, "diff-tree", "-r", "--no-renames", "--name-status", "-z",
                  f"{c}^", c).split("\x00")
        for st, path in zip(raw[0::2], raw[1::2]):
            if st == "A":
                if path.startswith(TOOLING):
                    raise Fail(f"commit {c[:12]} ({subject}) adds {path}, a path the "
                               f"repository keeps for its tooling: the series cannot add it")
                added.append(path)
            else:
                changed.append(path)
        name = f"{i:04d}-{slug(subject)}.patch"
        files[name] = commit_patch(wt, c, added, changed)
        entries.append((name, added, changed, c))
    # Files the old definition added and the new one does not: remove them.
    new_added = {p for e in entries for p in e[1]}
    for _, adds in old:
        for p in adds:
            if p not in new_added and os.path.exists(os.path.join(REPO, p)):
                os.unlink(os.path.join(REPO, p))
                d = os.path.dirname(os.path.join(REPO, p))
                while d != REPO and os.path.isdir(d) and not os.listdir(d):
                    os.rmdir(d)
                    d = os.path.dirname(d)
    for name, _ in old:
        if name not in files:
            os.unlink(os.path.join(SERIES_DIR, name))
    for name, added, changed, c in entries:
        with open(os.path.join(SERIES_DIR, name), "w") as f:
            f.write(files[name])
        for p in added:
            dst = os.path.join(REPO, p)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            mode = git(wt, "ls-tree", c, "--", p).split()[0]
            with open(dst, "wb") as f:
                f.write(subprocess.run(["git", "-C", wt, "cat-file", "blob", f"{c}:{p}"],
                                       capture_output=True, check=True).stdout)
            os.chmod(dst, 0o755 if mode == "100755" else 0o644)
    with open(SERIES_FILE, "w") as f:
        f.write(SERIES_HEADER)
        for name, added, changed, _ in entries:
            f.write("\n" + name + "\n")
            f.writelines(f"\t+ {p}\n" for p in added)
            f.writelines(f"\t~ {p}\n" for p in changed)
    git(base, "update-ref", "refs/heads/series", git(wt, "rev-parse", "HEAD").strip())
    say(f"exported {len(entries)} patch{'es' if len(entries) != 1 else ''} to "
        f"project/series ({len(new_added)} added files at their kernel-tree paths); "
        f"review with `git -C {REPO} diff --stat`")
    return 0


def cmd_series_materialise(args):
    base = ensure_base()
    wt = materialise_series(base)
    print(git(wt, "log", "--oneline", "refs/tags/base~0..HEAD").rstrip() or "(no patches)")
    say(f"series work tree: {wt} (branch 'series' of {base}; tag 'base' is the pinned "
        f"base). Edit with git there, then `./daxrs series export`.")
    return 0


COVER = os.path.join(SERIES_DIR, "cover-letter")


def read_cover():
    """(headers, blurb) of project/series/cover-letter."""
    with open(COVER) as f:
        head, _, blurb = f.read().partition("\n\n")
    hdr = dict(line.split(": ", 1) for line in head.splitlines() if ": " in line)
    for key in ("From", "Subject", "Version"):
        if key not in hdr:
            raise Fail(f"project/series/cover-letter has no '{key}:' header")
    return hdr, blurb.strip()


def latest_table():
    """The summary table of the latest test command run (see summary_table)."""
    path = os.path.join(CACHE, "results", "base-vs-series-summary.md")
    if os.path.exists(path):
        return read_text(path)
    return "(no test table yet: run `./daxrs test --with-base`)\n"


def emit(out, check=True):
    """git format-patch of the series with a cover letter into `out`, then
    (check) git am onto a fresh extraction of the pinned base."""
    base = ensure_base()
    wt = materialise_series(base)
    commits = series_commits(wt)
    if not commits:
        raise Fail("the series is empty: nothing to emit")
    hdr, blurb = read_cover()
    pin = read_pin()
    version = int(hdr["Version"])
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    cmd = ["format-patch", "-q", "-o", out, "--cover-letter", "--base=refs/tags/base",
           "--thread=shallow", "--no-renames", f"--subject-prefix={hdr.get('Prefix', 'PATCH')}"]
    if version > 1:
        cmd.append(f"-v{version}")
    # The cover letter is from the series' maintainer (cover-letter's From:)
    name, email = re.match(r"\s*(.*?)\s*<([^>]+)>", hdr["From"]).groups()
    git(wt, *cmd, "refs/tags/base..HEAD",
        env={"GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email,
             "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email})
    patches = sorted(glob_patches(out))
    cover = patches[0]
    text = open(cover).read()
    body = (blurb + "\n\n" + f"Base: Linux {pin['kernelversion']} as Debian ships it "
            f"({pin['package']} {pin['version']},\n{os.path.basename(pin['tarball'])} "
            f"sha256 {pin['sha256']}).\n\n" + latest_table())
    if "Change-Id" in hdr:
        text = re.sub(r"^(base-commit: \w+)$", f"\\1\nchange-id: {hdr['Change-Id']}", text,
                      flags=re.M)
    text = text.replace("*** SUBJECT HERE ***", hdr["Subject"]).replace("*** BLURB HERE ***",
                                                                        body.rstrip())
    with open(cover, "w") as f:
        f.write(text)
    say(f"emitted {len(patches) - 1} patches and a cover letter (v{version}) into {out}")
    if check:
        check_am(patches[1:], git(wt, "rev-parse", "HEAD^{tree}").strip())
    return patches


def glob_patches(out):
    return [os.path.join(out, x) for x in os.listdir(out) if x.endswith(".patch")]


def check_am(patches, want_tree):
    """git am the patches onto a fresh extraction of the pinned tarball; the
    result must be the series tree the test command built and booted."""
    pin = read_pin()
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        say(f"checking: git am onto a fresh extraction of {pin['tarball']}")
        extract_base(pin["tarball"], tmp)
        commit_base(tmp, pin)
        git(tmp, "reset", "-q")
        p = subprocess.run(["git", "-C", tmp, "am", "-q"] + patches, capture_output=True,
                           text=True, env=dict(os.environ, GIT_COMMITTER_NAME="daxrs",
                                               GIT_COMMITTER_EMAIL="daxrs@localhost"))
        if p.returncode != 0:
            raise Fail("the emitted series does not apply with git am onto a fresh base:\n" +
                       "\n".join("    " + x for x in (p.stdout + p.stderr).splitlines()[:15]))
        got = git(tmp, "rev-parse", "HEAD^{tree}").strip()
        if got != want_tree:
            raise Fail(f"git am gave tree {got}, the series tree is {want_tree}: the "
                       f"emitted mail loses something (binary files? modes?)")
    say(f"git am: {len(patches)} patches applied cleanly; the tree is the series tree "
        f"({want_tree[:12]})")


def cmd_series_emit(args):
    hdr, _ = read_cover()
    out = args.output or os.path.join(CACHE, "outgoing", f"v{hdr['Version']}")
    patches = emit(out, check=not args.no_check)
    for p in patches:
        print("  " + p)
    return 0


def series_files():
    """(added, changed): the kernel-tree paths the series adds and changes."""
    added, changed = [], []
    for name, adds in read_series():
        added += adds
    base = ensure_base()
    for path in git(base, "diff", "--no-renames", "--name-only", "refs/tags/base",
                    "refs/heads/series").split("\n"):
        if path and path not in added:
            changed.append(path)
    return added, changed


def checkpatch_rows(base):
    """checkpatch --strict, run from the base tree, on every emitted patch."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        patches = emit(tmp, check=False)[1:] if read_series() else []
        for p in patches:
            name = os.path.basename(p)
            # /usr/bin first: spdxcheck.py needs the python3 that has ply and git
            env = dict(os.environ, PATH="/usr/bin:" + os.environ.get("PATH", ""))
            r = subprocess.run(["perl", "scripts/checkpatch.pl", "--strict", "--no-color",
                                "--show-types", p], cwd=base, capture_output=True,
                               text=True, env=env)
            if "Traceback" in r.stderr:
                rows.append(("lint", f"checkpatch --strict {name}", "fail",
                             "checkpatch's helper crashed: " + r.stderr.strip()[-200:]))
                continue
            m = re.search(r"total: (\d+) errors, (\d+) warnings, (\d+) checks", r.stdout)
            if not m:
                rows.append(("lint", f"checkpatch --strict {name}", "fail",
                             "checkpatch did not run: " + (r.stderr or r.stdout)[-200:]))
                continue
            findings = [x for x in r.stdout.splitlines()
                        if re.match(r"(ERROR|WARNING|CHECK):", x)]
            ok = m.groups() == ("0", "0", "0")
            rows.append(("lint", f"checkpatch --strict {name}", "pass" if ok else "fail",
                         f"{m.group(1)} errors, {m.group(2)} warnings, {m.group(3)} checks: "
                         + " | ".join(findings[:4]) if not ok else ""))
    if not patches:
        rows.append(("lint", "checkpatch --strict (the series is empty)", "skip", ""))
    return rows


def rustfmt_rows(kern, tools):
    """make rustfmtcheck on the series tree; findings in files the series
    adds or changes fail, the base's own are only counted."""
    added, changed = series_files()
    mine = {p for p in added + changed if p.endswith(".rs")}
    r = subprocess.run(make_cmd(kern["src"], kern["out"], tools, "rustfmtcheck"),
                       env=build_env(), capture_output=True, text=True)
    diffs = set()
    for m in re.finditer(r"^Diff in (\S+?)(?::\d+|\s+at line \d+)", r.stdout + r.stderr, re.M):
        diffs.add(os.path.relpath(m.group(1), kern["src"]))
    bad = sorted(diffs & mine)
    other = len(diffs - mine)
    note = f" (the base itself has {other} file(s) rustfmt would change)" if other else ""
    if not mine:
        return [("lint", "make rustfmtcheck (Rust files of the series)", "skip",
                 "the series has no Rust files yet" + note)]
    return [("lint", "make rustfmtcheck (Rust files of the series)",
             "fail" if bad else "pass",
             ("not formatted: " + ", ".join(bad) if bad else
              f"{len(mine)} file(s) formatted") + note)]


CLIPPY_RE = re.compile(r"^(warning|error)(\[\w+\])?: (.*)\n(?:.*\n){0,3}?\s*--> ([^:\s]+):(\d+)",
                       re.M)


def clippy_rows(kern):
    """Clippy findings (the series builds with CLIPPY=1) in the series' Rust
    files, from the build log of a build that recompiled them."""
    added, changed = series_files()
    mine = {p for p in added + changed if p.endswith(".rs")}
    if not mine:
        return [("lint", "CLIPPY=1 (Rust files of the series)", "skip",
                 "the series has no Rust files yet")]
    log = open(os.path.join(kern["out"], "build.log"), errors="replace").read()
    found = []
    for m in CLIPPY_RE.finditer(log):
        path = os.path.relpath(os.path.normpath(os.path.join(kern["out"], m.group(4))),
                               kern["src"]) if not m.group(4).startswith("/") else \
            os.path.relpath(m.group(4), kern["src"])
        if path in mine:
            found.append(f"{path}:{m.group(5)}: {m.group(3)}")
    return [("lint", "CLIPPY=1 (Rust files of the series)", "fail" if found else "pass",
             " | ".join(sorted(set(found))[:5]) if found else f"{len(mine)} file(s) clean")]


def rustdoc_rows(kern, tools):
    """make rustdoc: warnings (broken intra-doc links, bad markup) in the
    series' Rust files fail; a failed rustdoc run fails."""
    added, changed = series_files()
    mine = {p for p in added + changed if p.endswith(".rs")}
    if not mine:
        return [("lint", "make rustdoc (Rust files of the series)", "skip",
                 "the series has no Rust files yet")]
    r = subprocess.run(make_cmd(kern["src"], kern["out"], tools, "rustdoc"),
                       env=build_env(), capture_output=True, text=True)
    found = []
    for m in CLIPPY_RE.finditer(r.stdout + r.stderr):
        path = os.path.relpath(m.group(4), kern["src"]) if m.group(4).startswith("/") \
            else m.group(4)
        if path in mine:
            found.append(f"{path}:{m.group(5)}: {m.group(3)}")
    if r.returncode != 0:
        found.append("make rustdoc failed: " + " ".join(tail_lines(r.stdout + r.stderr, 3)))
    return [("lint", "make rustdoc (Rust files of the series)", "fail" if found else "pass",
             " | ".join(sorted(set(found))[:5]) if found else f"{len(mine)} file(s) clean")]


def tail_lines(text, n):
    return [l for l in text.splitlines() if l.strip()][-n:]


def cmd_series_lint(args):
    tools = ensure_host()
    base = ensure_base()
    kern = build("series", tools, lint=True)
    rows = checkpatch_rows(base) + rustfmt_rows(kern, tools) + clippy_rows(kern) + \
        rustdoc_rows(kern, tools)
    print_tables(rows)
    n = summarize(rows)
    print(f"{n['pass']} passed, {n['fail']} failed, {n['skip']} skipped")
    return 1 if n["fail"] else 0


def cmd_series_bisect(args):
    """Build the test config and the mock test modules (nfit_test, cxl_test)
    after each patch: every patch must build on its own.  It walks the
    series work tree from the first patch to the last and builds each in the
    series build dir, so each step recompiles only what that patch changed;
    the work tree ends at the tip again."""
    tools = ensure_host()
    base = ensure_base()
    wt = materialise_series(base)
    tip = git(wt, "rev-parse", "HEAD").strip()
    commits = series_commits(wt)
    out = os.path.join(CACHE, "out", "series")
    failed = []
    try:
        for i, c in enumerate(commits, 1):
            subject = git(wt, "log", "-1", "--format=%s", c).strip()
            git(wt, "checkout", "-q", "--detach", c)
            say(f"bisect check {i}/{len(commits)}: {subject}")
            configure(wt, out, tools)
            log = os.path.join(out, f"bisect-{i:04d}.log")
            t0 = now()
            with open(log, "w") as logf:
                rc = subprocess.run(make_cmd(wt, out, tools, "CLIPPY=1"), env=build_env(),
                                    stdout=logf, stderr=subprocess.STDOUT).returncode
            if rc == 0:
                try:
                    build_test_modules(wt, out, tools, build_env())
                except Fail as e:
                    rc = 1
                    with open(log, "a") as logf:
                        logf.write(f"\n{e}\n")
            say(f"  {'builds' if rc == 0 else 'does NOT build'} ({fmt_secs(now() - t0)}, "
                f"log {log})")
            if rc != 0:
                failed.append(f"{i:04d} {subject} (log: {log})")
    finally:
        git(wt, "checkout", "-q", "--detach", tip)
    if failed:
        raise Fail("patches that do not build on their own:\n" +
                   "\n".join("    " + x for x in failed))
    say(f"all {len(commits)} patches build on their own")
    return 0


# --------------------------------------------------------------------------
# Commands

def cmd_setup(args):
    ensure_host()
    ensure_base()
    say("host ready")
    return 0


def cmd_build(args):
    tools = ensure_host()
    for v in VARIANTS if args.variant == "all" else [args.variant]:
        build(v, tools)
    return 0


def cmd_demo(args):
    tools = ensure_host()
    kern = build(args.variant, tools)
    res, rc = boot(kern, "demo", args.pmem,
                   int(os.environ.get("DAXRS_BOOT_TIMEOUT", "1200")), "DAX demo")
    report = os.path.join(res, "report.txt")
    if os.path.exists(report):
        print(open(report).read(), end="")
    _, bad = collect(res)
    if bad:
        print("\nThe kernel log has problems:\n" + "\n".join("    " + x for x in bad[:20]))
        return 1
    return rc


def tooling_rows():
    """The tooling's own tests (project/tests), one row each."""
    import unittest
    suite = unittest.defaultTestLoader.discover(os.path.join(PROJECT, "tests"),
                                                top_level_dir=os.path.join(PROJECT, "tests"))
    rows = []

    class Result(unittest.TestResult):
        def addSuccess(self, test):
            rows.append(("tooling", test.id().split(".", 1)[-1], "pass", ""))

        def addFailure(self, test, err):
            rows.append(("tooling", test.id().split(".", 1)[-1], "fail",
                         str(err[1]).splitlines()[0][:200]))

        def addError(self, test, err):
            self.addFailure(test, err)

        def addSkip(self, test, reason):
            rows.append(("tooling", test.id().split(".", 1)[-1], "skip", reason))

    suite.run(Result())
    return rows


def run_tests(variant, tools, pmem, args=None):
    kern = build(variant, tools, lint=True)
    res, _ = boot(kern, "test", pmem,
                  int(os.environ.get("DAXRS_BOOT_TIMEOUT", "2400")), "test suites")
    rows, bad = collect(res)
    if args is not None and pmem == "all":
        plan, names = suites_plan(args, kvm_works(kern["bzimage"]))
        what = " and ".join(("your ndctl" if args.ndctl else "the ndctl stand-in",
                             "your fstests" if args.fstests else "the fstests stand-in"))
        # the user's suites take hours under TCG
        timeout = int(os.environ.get("DAXRS_SUITES_TIMEOUT",
                                     "43200" if args.ndctl or args.fstests else "1800"))
        sres, _ = boot(kern, "suites", pmem, timeout, what, suites=plan)
        srows, sbad = suite_rows(sres, names, plan["env"])
        write_tsv(os.path.join(sres, "rows.tsv"), srows)
        rows += srows
        bad += sbad
    if variant == "series":
        say("linting the series: checkpatch --strict, rustfmtcheck, clippy, rustdoc")
        rows += checkpatch_rows(ensure_base()) + rustfmt_rows(kern, tools) + \
            clippy_rows(kern) + rustdoc_rows(kern, tools)
    write_tsv(os.path.join(res, "rows.tsv"), rows)
    return kern, res, rows, bad


BASELINE = os.path.join(PROJECT, "baseline")


def read_tsv(path):
    rows = []
    with open(path, errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3:
                rows.append((parts[0], parts[1], parts[2], parts[3] if len(parts) > 3 else ""))
    return rows


def record_baseline(kern, res, rows, pmem):
    """Write the base run into project/baseline/ (asked for explicitly)."""
    os.makedirs(BASELINE, exist_ok=True)
    write_tsv(os.path.join(BASELINE, f"base-{pmem}.tsv"), rows)
    n = summarize(rows)
    with open(os.path.join(BASELINE, f"base-{pmem}.md"), "w") as f:
        f.write(f"# Baseline: the unpatched base, `./daxrs test` with {pmem} pmem\n\n"
                f"Kernel {kern['release']} ({read_pin()['package']} "
                f"{read_pin()['version']}), recorded "
                f"{datetime.date.today().isoformat()} with `./daxrs test --record-baseline"
                f"{'' if pmem == 'all' else ' --pmem ' + pmem}`.\n"
                f"Every later run of the series is compared with `base-{pmem}.tsv`.\n\n"
                f"**{n['pass']} passed, {n['fail']} failed, {n['skip']} skipped**\n\n"
                "| suite | test | result | detail |\n|---|---|---|---|\n")
        kunit = summarize([r for r in rows if r[0] == "kunit"])
        for r in rows:
            if r[0] != "kunit":
                f.write(f"| {r[0]} | {r[1]} | {r[2]} | {r[3][:120]} |\n")
        f.write(f"| kunit | all cases (pass/fail/skip) | {kunit['pass']}/{kunit['fail']}/"
                f"{kunit['skip']} | |\n")
    say(f"baseline recorded in {os.path.relpath(BASELINE, REPO)}/base-{pmem}.{{tsv,md}}")


def cmd_test(args):
    t0 = now()
    tools = ensure_host()
    # The tooling's own tests first: a broken parser must not pass a run.
    pre = tooling_rows()
    n = summarize(pre)
    say(f"tooling tests: {n['pass']} passed, {n['fail']} failed")
    if (args.ndctl or args.fstests) and args.record_baseline:
        raise Fail("--record-baseline records this repository's suites only: "
                   "run it without --ndctl/--fstests")
    if (args.ndctl or args.fstests) and args.pmem != "all":
        raise Fail("--ndctl/--fstests need the guest with all pmem kinds: --pmem all")
    if args.ndctl or args.fstests:
        # the user's suites have no recorded baseline: run them on the base too
        args.with_base = True
        # a wrong path fails now, not after two builds
        suites_plan(args, kvm=True)
    if args.record_baseline:
        args.with_base = True
    # series first: the base runs the selftests the series brings
    variants = ["series", "base"] if args.with_base else ["series"]
    results = {}
    for v in variants:
        results[v] = run_tests(v, tools, args.pmem, args)
    if args.record_baseline:
        kern, res, rows, _ = results["base"]
        record_baseline(kern, res, rows, args.pmem)
    if args.with_base:
        base_rows, what = results["base"][2], "base (this run)"
    else:
        committed = os.path.join(BASELINE, f"base-{args.pmem}.tsv")
        base_rows, what = (read_tsv(committed), "base (project/baseline)") \
            if os.path.exists(committed) else (None, None)
    # A test that fails on the series and on the base too is a known gap:
    # behaviour the series asserts and has not delivered yet.  It is shown
    # as GAP and does not fail the run; a failure the base does not have does.
    kern, res, rows, bad = results["series"]
    series_rows = mark_gaps(pre + rows, base_rows or [])
    results["series"] = (kern, res, series_rows, bad)
    write_tsv(os.path.join(res, "rows.tsv"), series_rows)
    for v in sorted(variants):  # base, then series
        kern, res, rows, bad = results[v]
        print(f"\n######## {v}: {kern['release']} (results: {res})")
        print_tables(rows)
        if bad:
            print(f"\nkernel log of {v}: " + f"{len(bad)} bad line(s):\n" +
                  "\n".join("    " + x for x in bad[:30]))
    if base_rows is not None:
        table, new_fail = compare_table(base_rows, series_rows)
        out = os.path.join(CACHE, "results", "base-vs-series.md")
        with open(out, "w") as f:
            f.write(table + "\n")
        with open(os.path.join(CACHE, "results", "base-vs-series-summary.md"), "w") as f:
            f.write(f"Test results of `./daxrs test{' --with-base' if args.with_base else ''}`"
                    f" ({datetime.date.today().isoformat()}, {args.pmem} pmem; base: "
                    f"{what}):\n\n" + summary_table(base_rows, series_rows) + "\n")
        print(f"\n######## {what} vs series\n" + table)
        if new_fail:
            print("\nnew failures in series (they pass on the base): " + ", ".join(new_fail))
    n = summarize(series_rows)
    print(f"\n(total time {fmt_secs(now() - t0)})")
    if n["gap"]:
        gaps = [f"{r[0]}: {r[1]}" for r in series_rows if r[2] == "gap"]
        print(f"{n['gap']} known gaps (fail on the base as well: behaviour the series has "
              f"yet to deliver): " + ", ".join(gaps))
    print(f"{n['pass']} passed, {n['fail']} failed, {n['skip']} skipped")
    return 1 if n["fail"] else 0


def mark_gaps(rows, base_rows):
    base = {(r[0], r[1]): r[2] for r in base_rows}
    return [(r[0], r[1], "gap", r[3]) if r[2] == "fail" and base.get((r[0], r[1])) == "fail"
            else r for r in rows]


def main():
    ap = argparse.ArgumentParser(prog="daxrs", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("setup", help="install host packages, bindgen, virtme-ng; unpack the base")
    b = sub.add_parser("build", help="build base and/or series")
    b.add_argument("variant", nargs="?", choices=VARIANTS + ("all",), default="series")
    d = sub.add_parser("demo", help="the main job: build, boot on pmem, show DAX working")
    d.add_argument("--variant", choices=VARIANTS, default="series")
    d.add_argument("--pmem", choices=sorted(PMEM_LAYOUTS), default="memmap")
    t = sub.add_parser("test", help="build, boot and run every test suite")
    t.add_argument("--with-base", action="store_true",
                   help="also build and test the unpatched base; print both side by side")
    t.add_argument("--record-baseline", action="store_true",
                   help="run the base as well and write its results into project/baseline/")
    t.add_argument("--pmem", choices=sorted(PMEM_LAYOUTS), default="all")
    t.add_argument("--ndctl", metavar="DIR",
                   help="your built ndctl checkout (or its meson build dir): run its "
                   "`meson test --suite dax` in the guest, on base and series")
    t.add_argument("--ndctl-args", metavar="ARGS",
                   help="meson test options instead of `--suite dax` (and "
                   "`--timeout-multiplier 4` under TCG)")
    t.add_argument("--fstests", metavar="DIR",
                   help="your built fstests checkout: run ./check with -o dax=always "
                   "on ext4 and xfs in the guest, on base and series")
    t.add_argument("--fstests-args", metavar="ARGS", default="-g dax",
                   help="./check arguments (default: -g dax)")
    t.add_argument("--fstests-fs", metavar="FS[,FS]", default="ext4,xfs",
                   help="file systems to run fstests on (default: ext4,xfs)")
    sr = sub.add_parser("series", help="work on the series: materialise, export, emit, "
                        "lint, bisect").add_subparsers(dest="action", required=True)
    sr.add_parser("materialise", help="commit the series onto the base in "
                  "$DAXRS_CACHE/src/series (git log/rebase -i/--fixup/bisect work there)")
    sr.add_parser("export", help="write the commits of $DAXRS_CACHE/src/series back "
                  "into project/series and the added files")
    e = sr.add_parser("emit", help="git format-patch with a cover letter, checked with "
                      "git am onto a fresh base")
    e.add_argument("-o", "--output", help="directory (default $DAXRS_CACHE/outgoing/vN)")
    e.add_argument("--no-check", action="store_true", help="skip the git am check")
    sr.add_parser("lint", help="checkpatch --strict, make rustfmtcheck, CLIPPY=1, make rustdoc")
    sr.add_parser("bisect", help="build the test config after every patch (slow)")
    args = ap.parse_args()
    os.makedirs(CACHE, exist_ok=True)
    try:
        if args.cmd == "series":
            return {"materialise": cmd_series_materialise, "export": cmd_series_export,
                    "emit": cmd_series_emit, "lint": cmd_series_lint,
                    "bisect": cmd_series_bisect}[args.action](args)
        return {"setup": cmd_setup, "build": cmd_build, "demo": cmd_demo,
                "test": cmd_test}[args.cmd](args)
    except Fail as e:
        print(f"\ndaxrs: error: {e}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
