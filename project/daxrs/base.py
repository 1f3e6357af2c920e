# SPDX-License-Identifier: GPL-2.0
"""The pinned base (project/base.pin): the tarball checked against its
SHA-256 and extracted once into a git repository at $DAXRS_CACHE/src/base,
whose commit (tag 'base') is the same on every machine."""

import dataclasses
import hashlib
import os
import shutil
import subprocess

from daxrs import settings
from daxrs.proc import Fail, fmt_secs, git, now, read_text, run, say

# The base commit is made with fixed names and dates, so the base (and with
# it every series commit) has the same commit ID on every machine: the
# "base-commit:" of an emitted series means the same thing everywhere.
BASE_LAYOUT = "layout2"
BASE_DATE = "2025-01-01T00:00:00+0000"

@dataclasses.dataclass(frozen=True)
class Pin:
    """project/base.pin: the Debian package the base comes from."""
    package: str
    version: str
    tarball: str
    sha256: str
    kernelversion: str


def read_pin(path: str | None = None) -> Pin:
    """The pin: project/base.pin (key=value lines, # comments) or `path`."""
    path = path or os.path.join(settings.PROJECT, "base.pin")
    vals = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if "=" not in line:
                raise Fail(f"{path}:{n}: expected key=value, got {line!r}")
            k, v = line.split("=", 1)
            vals[k.strip()] = v.strip()
    names = [f.name for f in dataclasses.fields(Pin)]
    lacking = [k for k in names if not vals.get(k)]
    if lacking:
        raise Fail(f"{path} has no {', '.join(lacking)}")
    return Pin(**{k: vals[k] for k in names})


def base_tarball(pin: Pin | None = None) -> str:
    """The tarball the base is made from: DAXRS_BASE_TARBALL if set, else the pin's."""
    pin = pin or read_pin()
    return os.environ.get("DAXRS_BASE_TARBALL", "").strip() or pin.tarball


def sha256(path: str) -> str:
    """The hex SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _tarball_digest(tarball: str) -> str:
    """sha256 of the tarball, computed once per tarball (by size and mtime)
    and cached."""
    st = os.stat(tarball)
    key = f"{tarball} {st.st_size} {int(st.st_mtime)}"
    hashfile = os.path.join(settings.CACHE, "src", "tarball.sha256")
    k, _, d = read_text(hashfile, "").strip().rpartition(" ")
    if k == key and d:
        return d
    say(f"checking sha256 of {tarball}")
    digest = sha256(tarball)
    os.makedirs(os.path.dirname(hashfile), exist_ok=True)
    with open(hashfile, "w") as f:
        f.write(f"{key} {digest}\n")
    return digest


def _check_package(pin: Pin, unpinned: bool) -> None:
    """The installed package is the pinned version (when its tarball is used)."""
    ver = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pin.package],
                         capture_output=True, text=True).stdout.strip()
    if ver != pin.version and not unpinned:
        raise Fail(f"{pin.package} is {ver or 'not installed'}, the series "
                   f"is pinned to {pin.version} (project/base.pin).\n"
                   f"    install it: apt-get install {pin.package}={pin.version}"
                   f"\n    or re-pin after checking the series on the new base;"
                   f" DAXRS_ALLOW_UNPINNED_BASE=1 overrides at your own risk")


# ensure_base() verifies once per process: (tarball, unpinned, cache) -> path
_ENSURED: dict = {}


def ensure_base() -> str:
    """The pinned base as a git repository at $DAXRS_CACHE/src/base (tag
    'base'), extracted when missing or made from another tarball."""
    pin = read_pin()
    tarball = base_tarball(pin)
    unpinned = settings.env_flag("DAXRS_ALLOW_UNPINNED_BASE")
    memo = (tarball, unpinned, settings.CACHE)
    if memo in _ENSURED:
        return _ENSURED[memo]
    base = os.path.join(settings.CACHE, "src", "base")
    stamp = os.path.join(base, ".git", "daxrs-base")
    if not os.path.exists(tarball):
        raise Fail(f"base tarball {tarball} not found: apt-get install "
                   f"{pin.package}={pin.version}")
    if tarball == pin.tarball:
        _check_package(pin, unpinned)
    digest = _tarball_digest(tarball)
    if digest != pin.sha256 and not unpinned:
        raise Fail(f"{tarball} has sha256 {digest},\n    the pin "
                   f"(project/base.pin) says {pin.sha256}: this is not the base"
                   f" the series is written for.\n    Reinstall {pin.package}="
                   f"{pin.version}, or set DAXRS_ALLOW_UNPINNED_BASE=1 to try anyway.")
    have_stamp = read_text(stamp, "").split()
    if have_stamp[:1] == [digest]:
        if have_stamp[1:] != [BASE_LAYOUT]:
            # An older cache: give the same tree the deterministic commit.
            commit_base(base, pin)
            with open(stamp, "w") as f:
                f.write(f"{digest} {BASE_LAYOUT}\n")
        _ENSURED[memo] = base
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
    _ENSURED[memo] = base
    return base


def extract_base(tarball: str, dest: str) -> None:
    """Unpack the tarball into dest, a new git repository with it all staged."""
    run(["tar", "-xJf", tarball, "-C", dest, "--strip-components=1"])
    git(dest, "init", "-q", "-b", "pristine")
    # Debian's .gitignore ignores the whole top level: add everything.
    git(dest, "add", "-A", "-f")


def commit_base(repo: str, pin: Pin) -> str:
    """Commit what is in the index (or re-commit HEAD's tree) as tag 'base',
    with fixed identity and dates; the commit id."""
    has_head = subprocess.run(["git", "-C", repo, "rev-parse", "-q", "--verify", "HEAD"],
                              capture_output=True).returncode == 0
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip() if has_head else \
        git(repo, "write-tree").strip()
    env = {"GIT_AUTHOR_DATE": BASE_DATE, "GIT_COMMITTER_DATE": BASE_DATE}
    commit = git(repo, "commit-tree", tree, "-m",
                 f"Linux {pin.kernelversion} ({pin.package} {pin.version})\n\n"
                 f"The pinned base of the series: {os.path.basename(pin.tarball)}\n"
                 f"sha256 {pin.sha256}\n", env=env).strip()
    git(repo, "update-ref", "refs/heads/pristine", commit)
    git(repo, "tag", "-f", "base", commit)
    return commit
