# SPDX-License-Identifier: GPL-2.0
"""Every suite a run can have, declared once: where it runs, on which
variants and pmem layouts, in which order, with what timeout, how its
output is parsed, and what it must report.

Adding a guest suite = one script project/guest/suites/NAME.sh that prints
KTAP, plus one Suite() line here.  The test guest runs the `test` suites in
the order of this list (env-hwpoison last: it leaves a poisoned page); the
`suites` guest runs the user's (or the stand-in) ndctl and fstests."""

import dataclasses
import re

from daxrs.proc import Fail

ALL_PMEM = ("memmap", "nvdimm", "all")
BOTH = ("base", "series")


@dataclasses.dataclass(frozen=True)
class Suite:
    name: str
    doc: str
    # "test": a script in the test guest; "suites": in the second guest;
    # "log": parsed from the test guest's kernel log; "host": on the host
    boot: str
    timeout: int = 300
    variants: tuple = BOTH
    pmem: tuple = ALL_PMEM
    # how its output is parsed (suites/collect.py)
    parser: str = "ktap"
    # top-level names it must report, per variant (KUnit suites)
    expect: tuple = ()
    expect_series: tuple = ()

    def applies(self, variant, pmem):
        return variant in self.variants and pmem in self.pmem


SUITES = (
    Suite("kunit", "KUnit and the Rust doctests, from the boot log", "log", parser="kunit",
          expect=("rust_doctests_kernel",),
          expect_series=("rust_doctests_kernel", "zone_device_folio")),
    Suite("env-nfit-test", "nfit_test from extra/, its buses, rmmod", "test", pmem=("all",)),
    Suite("env-cxl-test", "cxl_test from extra/, cxl list, modprobe -r", "test",
          pmem=("all",)),
    Suite("env-nvdimm", "labelled NVDIMM fsdax namespaces, the fstests environment", "test",
          timeout=600, pmem=("all",)),
    Suite("rust-abstractions", "samples/rust/rust_dax_abstractions on a free fsdax device",
          "test", variants=("series",)),
    Suite("core-mm", "PCI P2PDMA pages of the NVMe CMB: map, read back, unmap", "test"),
    Suite("selftests-dax", "tools/testing/selftests/dax (run_kselftest.sh -c dax)", "test",
          timeout=1200, parser="kselftest"),
    Suite("env-tools", "trace-cmd fs_dax events, /dev/mem, dm-linear over pmem", "test"),
    Suite("smoke", "ext4 and xfs dax=always: write, mmap, msync, truncate, fsck", "test",
          timeout=600),
    Suite("env-hwpoison", "the pagemap ops; MADV_HWPOISON of a mapped FS DAX page: SIGBUS (last)",
          "test"),
    Suite("ndctl", "ndctl's meson tests (--ndctl DIR, else the stand-in)", "suites",
          pmem=("all",), parser="ndctl", timeout=0),
    Suite("fstests", "fstests ./check per file system (--fstests DIR, else the stand-in)",
          "suites", pmem=("all",), parser="fstests", timeout=0),
    Suite("kernel-log", "the whole kernel log of each guest: no oops/WARN/BUG/...", "host"),
    Suite("lint", "checkpatch --strict, rustfmtcheck, CLIPPY=1, rustdoc, KUnit =m on the series",
          "host", variants=("series",)),
    Suite("tooling", "the tooling's own unit tests (project/tests)", "host"),
)
BY_NAME = {s.name: s for s in SUITES}


def select(only=None, exclude=None):
    """The suite names a run keeps: --suite (comma lists, repeatable) or
    all, minus --exclude.  An unknown name is a usage error."""
    def names(values):
        out = []
        for v in values or ():
            out += [x for x in re.split(r"[,\s]+", v) if x]
        bad = [x for x in out if x not in BY_NAME]
        if bad:
            raise Fail(f"unknown suite {', '.join(bad)}: the suites are "
                       f"{', '.join(BY_NAME)}")
        return out
    keep = names(only) or list(BY_NAME)
    drop = set(names(exclude))
    return [n for n in keep if n not in drop]


def planned(selected, boot, variant, pmem):
    """The suites of one boot, in run order."""
    return [s for s in SUITES if s.name in selected and s.boot == boot
            and s.applies(variant, pmem)]


def guest_plan(suites, timeout_scale=1.0):
    """The `plan` file the guest runner reads: NAME TIMEOUT per line."""
    return "".join(f"{s.name} {int(s.timeout * timeout_scale)}\n" for s in suites)


def owner(row_suite):
    """The declared suite whose rows carry this suite name ("standin-ndctl"
    and "ndctl" rows are ndctl's, "fstests-xfs" fstests'); "guest" rows (a
    guest that hung or crashed) belong to every run."""
    name = row_suite.removeprefix("standin-")
    if name.startswith("fstests-"):
        name = "fstests"
    return name if name in BY_NAME else None
