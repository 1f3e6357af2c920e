# SPDX-License-Identifier: GPL-2.0
"""Where things are and which tools build them: resolved once, here.

Every DAXRS_* environment variable the tool reads is listed in ENV_VARS
(and printed by --help)."""

import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROJECT = os.path.join(REPO, "project")
GUEST_DIR = os.path.join(PROJECT, "guest")
TESTS_DIR = os.path.join(PROJECT, "tests")
STANDIN = os.path.join(TESTS_DIR, "standin")
BASELINE_DIR = os.path.join(PROJECT, "baseline")
KNOWN_GAPS = os.path.join(BASELINE_DIR, "known-gaps.toml")
CONFIG_FRAGMENT = os.path.join(PROJECT, "config", "test-kernel.config")
# Options of code the series adds (its test modules): merged only into trees
# whose Kconfig defines them, so the base and early patches configure as before.
SERIES_FRAGMENT = os.path.join(PROJECT, "config", "test-kernel.series.config")
# The debug kernel's checkers (test --debug), on top of the above.
DEBUG_FRAGMENT = os.path.join(PROJECT, "config", "test-kernel.debug.config")
# The benchmark kernel (bench): the test config without its debugging
# options (lockdep, DEBUG_VM, XFS_DEBUG, ...), plus gup_test.
BENCH_FRAGMENT = os.path.join(PROJECT, "config", "test-kernel.bench.config")
# The series' C selection (CONFIG_DAX_C) of the code it has in both C and
# Rust; the default selection of the test config is Rust.
C_FRAGMENT = os.path.join(PROJECT, "config", "test-kernel.c.config")
# The Kconfig symbol of that selection: a series tree that does not define
# it has only one implementation.
C_SELECTION_SYMBOL = "CONFIG_DAX_C"
# A kernel flavour is fragments on top of the test config, built in its
# own directory (out/<variant>-<flavour>).
FLAVOURS = {"debug": [DEBUG_FRAGMENT], "bench": [BENCH_FRAGMENT], "c": [C_FRAGMENT],
            "bench-c": [BENCH_FRAGMENT, C_FRAGMENT], "debug-c": [DEBUG_FRAGMENT, C_FRAGMENT]}
SERIES_DIR = os.path.join(PROJECT, "series")
SERIES_FILE = os.path.join(SERIES_DIR, "series")
COVER = os.path.join(SERIES_DIR, "cover-letter")
VARIANTS = ("base", "series")

ENV_VARS = {
    "DAXRS_CACHE": "where builds, guests and results live (default ~/.cache/daxrs)",
    "DAXRS_JOBS": "make jobs (default: the number of CPUs)",
    "DAXRS_BOOT_TIMEOUT": "seconds a guest may run (demo 1200, test 2400)",
    "DAXRS_SUITES_TIMEOUT": "seconds the --ndctl/--fstests guest may run "
                            "(default 1800 with the stand-ins, 43200 with your suites)",
    "DAXRS_NO_INSTALL": "1: install nothing, say what is missing instead",
    "DAXRS_ALLOW_UNPINNED_BASE": "1: accept a base other than project/base.pin",
    "DAXRS_BASE_TARBALL": "use this tarball as the base (with the above)",
}


def env_flag(name):
    """A DAXRS_* switch: set to 1 (or yes/true) means on; 0, empty or unset off."""
    return os.environ.get(name, "").strip().lower() in ("1", "yes", "true", "on")


CACHE = os.path.abspath(os.path.expanduser(os.environ.get("DAXRS_CACHE", "~/.cache/daxrs")))
JOBS = int(os.environ.get("DAXRS_JOBS", "") or os.cpu_count() or 2)
RESULTS = os.path.join(CACHE, "results")
LOCK_FILE = os.path.join(CACHE, "lock")

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


def tool_paths():
    """The tools daxrs installs itself, under the cache."""
    return {
        "bindgen": os.path.join(CACHE, "tools", "bin", "bindgen"),
        "vng": os.path.join(CACHE, "venv", "bin", "vng"),
    }
