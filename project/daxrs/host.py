# SPDX-License-Identifier: GPL-2.0
"""The host: the Debian packages, bindgen and virtme-ng a run needs,
installed when missing (unless DAXRS_NO_INSTALL=1)."""

import os
import shlex
import shutil
import subprocess

from daxrs import settings
from daxrs.base import read_pin
from daxrs.proc import Fail, run, say

# (command or path, Debian package) that the host needs, by what needs it.
HOST_NEEDS = {
    # building the kernel, its test modules and selftests; linting the series
    "build": [
        ("clang" + settings.LLVM_SUFFIX, "clang-14"),
        ("ld.lld" + settings.LLVM_SUFFIX, "lld-14"),
        ("llvm-ar" + settings.LLVM_SUFFIX, "llvm-14"),
        ("/usr/lib/llvm-14/lib/libclang.so", "libclang-14-dev"),
        (settings.RUSTC, "rustc-web"),
        (settings.CLIPPY_DRIVER, "rust-web-clippy"),
        (settings.RUSTFMT, "rustfmt-web"),
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
        ("shellcheck", "shellcheck"),  # the tooling tests check the guest scripts
    ],
    # booting the guest, and what our guest script runs in it
    "guest": [
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
        # the virtme-ng venv
        ("/usr/share/doc/python3-venv", "python3-venv"),
    ],
    # ndctl's and fstests' suites (the user's, or the stand-ins)
    "user_suites": [
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
        # fstests' fs-verity tests (generic/574 and others)
        ("fsverity", "fsverity"),
    ],
    # daxrs bench: its bar chart
    "bench": [
        ("gnuplot", "gnuplot-nox"),
    ],
}


def have(thing: str) -> bool:
    """Whether a command (on PATH) or an absolute path exists."""
    if thing.startswith("/"):
        return os.path.exists(thing)
    return shutil.which(thing) is not None


def missing_packages() -> list[str]:
    """The Debian packages of HOST_NEEDS whose command or file is missing."""
    return sorted({pkg for needs in HOST_NEEDS.values() for thing, pkg in needs
                   if not have(thing)})


def _reports_version(path: str, version: str) -> bool:
    """Whether `path --version` runs and mentions `version`."""
    if not os.path.exists(path):
        return False
    try:
        p = subprocess.run([path, "--version"], capture_output=True, text=True)
    except OSError:
        return False
    return version in p.stdout


def _apt_install(missing: list[str]) -> None:
    # --reinstall: a package can be installed and still miss a file
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", "--reinstall"] + missing
    if settings.env_flag("DAXRS_NO_INSTALL") or os.geteuid() != 0:
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
    still = missing_packages()
    if still:
        raise Fail("still missing after apt-get: " + " ".join(still))


def _ensure_bindgen(bindgen: str) -> None:
    if _reports_version(bindgen, settings.BINDGEN_VERSION):
        return
    root = os.path.join(settings.CACHE, "tools")
    if not have("cargo"):
        raise Fail("bindgen is needed and cargo is missing: install Rust "
                   f"(cargo) or put bindgen {settings.BINDGEN_VERSION} at {bindgen}")
    if settings.env_flag("DAXRS_NO_INSTALL"):
        raise Fail(f"bindgen {settings.BINDGEN_VERSION} missing: cargo install "
                   f"bindgen-cli --version {settings.BINDGEN_VERSION} --locked "
                   f"--root {root}")
    say(f"installing bindgen {settings.BINDGEN_VERSION} with cargo (a few minutes)")
    run(["cargo", "install", "bindgen-cli", "--version", settings.BINDGEN_VERSION,
         "--locked", "--root", root])


def _ensure_vng(vng: str) -> None:
    if _reports_version(vng, settings.VNG_VERSION):
        return
    venv = os.path.join(settings.CACHE, "venv")
    if settings.env_flag("DAXRS_NO_INSTALL"):
        raise Fail(f"virtme-ng {settings.VNG_VERSION} missing: python3 -m venv "
                   f"{venv} && {venv}/bin/pip install virtme-ng=={settings.VNG_VERSION}")
    say(f"installing virtme-ng {settings.VNG_VERSION} from PyPI into {venv}")
    run(["/usr/bin/python3", "-m", "venv", venv])
    run([os.path.join(venv, "bin", "pip"), "install", "-q",
         f"virtme-ng=={settings.VNG_VERSION}"])


def ensure_host() -> dict:
    """Install what is missing (host packages, the pinned base's package,
    bindgen, virtme-ng); the paths of the tools daxrs installs itself
    (settings.tool_paths())."""
    missing = missing_packages()
    pin = read_pin()
    if not os.path.exists(pin.tarball):
        missing.append(f"{pin.package}={pin.version}")
    if missing:
        _apt_install(missing)
    tools = settings.tool_paths()
    _ensure_bindgen(tools["bindgen"])
    _ensure_vng(tools["vng"])
    return tools
