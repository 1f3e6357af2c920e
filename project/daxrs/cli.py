# SPDX-License-Identifier: GPL-2.0
"""The command line: arguments, the lock, and the exit-code policy.

Exit codes: 0 everything passed; 1 tests failed; 2 usage or environment
error (a `daxrs: error:` message says what to do); 130 interrupted.  No
traceback reaches the user: an unexpected exception is reported as an
internal error with its location, exit 2."""

import argparse
import fcntl
import os
import signal
import sys
import traceback

from daxrs import settings
from daxrs.proc import Fail

DESCRIPTION = """\
Build the FS DAX refcount series on the pinned Linux 6.12 base, boot it
under QEMU on emulated pmem, and run the test suites (see README.md).

  daxrs demo      build, boot on pmem, show DAX working
  daxrs test      build, boot, run every suite, print the verdict
  daxrs bench     measure the DAX paths' cost (instructions, -icount)
  daxrs report    re-parse a results directory into the same tables
  daxrs build     only build a variant
  daxrs setup     only install what the host needs
  daxrs series    work on the series (materialise, export, emit, lint, bisect)
"""


DEBUG_HELP = ("the debug kernel: the test config plus project/config/test-kernel.debug.config "
              "(KASAN, KFENCE, UBSAN, DEBUG_VM_PGTABLE, DEBUG_LIST, page poisoning, "
              "DEBUG_PAGEALLOC), in its own build directory (out/<variant>-debug; the C "
              "selection's out/series-debug-c)")


BENCH_HELP = ("the benchmark kernel: the test config without its debugging options, "
              "plus gup_test (project/config/test-kernel.bench.config), in "
              "out/<variant>-bench")


def env_epilog():
    return "environment:\n" + "\n".join(f"  {k:<27} {v}" for k, v in
                                        settings.ENV_VARS.items()) + \
        "\n\nexit status: 0 passed, 1 tests failed, 2 usage or environment error, " \
        "130 interrupted"


def parser():
    from daxrs.suites.registry import SUITES
    from daxrs.vm.layouts import PMEM_LAYOUTS
    fmt = argparse.RawDescriptionHelpFormatter
    ap = argparse.ArgumentParser(prog="daxrs", description=DESCRIPTION, epilog=env_epilog(),
                                 formatter_class=fmt)
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")

    def cmd(name, help_, desc):
        return sub.add_parser(name, help=help_, description=desc, epilog=env_epilog(),
                              formatter_class=fmt)

    cmd("setup", "install host packages, bindgen, virtme-ng; unpack the base",
        "Install what the host needs (Debian packages, bindgen with cargo, virtme-ng "
        "in a venv) and unpack the pinned base.")
    b = cmd("build", "build a variant", "Build the base and/or the series with the test "
            "config (allnoconfig + project/config fragments) into $DAXRS_CACHE/out.")
    b.add_argument("variant", nargs="?", choices=settings.VARIANTS + ("all",),
                   default="series", help="what to build (default: series)")
    b.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    b.add_argument("--bench", action="store_true", help=BENCH_HELP)
    d = cmd("demo", "build, boot on pmem, show DAX working",
            "Build a variant, boot it on emulated pmem and show FS DAX and device-DAX "
            "mappings working (smaps, fault trace, data read back).")
    d.add_argument("--variant", choices=settings.VARIANTS, default="series",
                   help="the kernel to show (default: series)")
    d.add_argument("--pmem", choices=sorted(PMEM_LAYOUTS), default="memmap",
                   help="the pmem the guest has (default: memmap)")
    d.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    suites = "\n".join(f"  {s.name:<18} {s.doc}" for s in SUITES)
    t = cmd("test", "build, boot and run every suite",
            "Build the series (and the base with --with-base), boot each on emulated "
            "pmem, run the suites, judge the results against the baseline and the "
            "declared known gaps (project/baseline/known-gaps.toml).\n\nsuites:\n" + suites)
    t.add_argument("--with-base", action="store_true",
                   help="also build and test the unpatched base; compare with it")
    t.add_argument("--record-baseline", action="store_true",
                   help="run the base as well and write its results into project/baseline/")
    t.add_argument("--pmem", choices=sorted(PMEM_LAYOUTS), default="all",
                   help="the pmem the guest has: memmap (e820 only), nvdimm (QEMU NVDIMMs "
                   "only) or all (e820 + NVDIMM + nfit_test; default)")
    t.add_argument("--debug", action="store_true",
                   help=DEBUG_HELP + "; judged against the same baseline, with four "
                   "times the suites' timeouts")
    t.add_argument("--suite", action="append", metavar="NAME[,NAME]",
                   help="run only these suites (repeatable)")
    t.add_argument("--exclude", action="append", metavar="NAME[,NAME]",
                   help="do not run these suites (repeatable)")
    t.add_argument("--ndctl", metavar="DIR",
                   help="your built ndctl checkout (or its meson build dir): run its "
                   "`meson test --suite dax` in the guest, on base and series")
    t.add_argument("--ndctl-args", metavar="ARGS",
                   help="meson test options instead of `--suite dax` (and "
                   "`--timeout-multiplier 4` under TCG); test names among them "
                   "run those tests only")
    t.add_argument("--fstests", metavar="DIR",
                   help="your built fstests checkout: run ./check with -o dax=always "
                   "on ext4 and xfs in the guest, on base and series")
    t.add_argument("--fstests-args", metavar="ARGS", default="-g dax",
                   help="./check arguments (default: -g dax)")
    t.add_argument("--fstests-fs", metavar="FS[,FS]", default="ext4,xfs",
                   help="file systems to run fstests on (default: ext4,xfs)")
    t.add_argument("--selection", choices=("both", "rust", "c"), default="both",
                   help="the implementation of the code the series has in C and Rust "
                   "(CONFIG_DAX_RUST or CONFIG_DAX_C): both (default; the series is "
                   "built and run twice, out/series and out/series-c, and the two must "
                   "agree row for row; with --debug out/series-debug and "
                   "out/series-debug-c), or one of them; --record-baseline runs the Rust one")
    bn = cmd("bench", "measure the DAX paths' cost in instructions, variant against variant",
             "Build each variant with the benchmark config (test config without its "
             "debugging options, plus gup_test), boot it under QEMU TCG with -icount "
             "shift=0,sleep=off (1 ns of guest time = 1 instruction) and run "
             "project/guest/daxbench over the cases (PTE/PMD read and write faults on xfs "
             "and ext4 dax=always, device-DAX PMD and PUD faults, munmap, gup_test pin "
             "and unpin, O_DIRECT into a DAX buffer, truncate, read(2)/write(2) of 4 KiB "
             "and 1 MiB, read faults over holes, a tmpfs reference).  "
             "Prints per case the medians, spreads and the ratio to the first variant "
             "with a 95 % bootstrap interval; writes bench.json, bench.md and bench.png "
             "to $DAXRS_CACHE/results/<date>-bench.")
    bn.add_argument("--variants", default="base,base,series", metavar="V,V[,V...]",
                    help="what to boot, the first being the reference; a variant named "
                    "twice is booted twice, which measures the noise floor: base, "
                    "series (its default, Rust selection) or series-c (its C selection); "
                    "e.g. series-c,series-c,series compares Rust with C "
                    "(default: base,base,series)")
    bn.add_argument("--cases", default="", metavar="CASE[,CASE...]",
                    help="run only these cases (e.g. pte-read-fault, or pte-read-fault/xfs "
                    "for one file system), without the "
                    "checks that the cases measure what they say (default: every case "
                    "and check)")
    bn.add_argument("--profile", action="store_true",
                    help="count every kernel instruction the guest runs (a QEMU "
                    "plugin, project/qemu/insnprof.c) and attribute them to the "
                    "kernel's symbols per operation of the rounds: profile.md, "
                    "profile-<variant>.tsv.  Counts the whole boot: use it with "
                    "--cases")
    bn.add_argument("--rounds", type=int, default=9,
                    help="rounds of each case per boot (default 9)")
    bn.add_argument("--boots", type=int, default=2,
                    help="boots of each variant, interleaved (default 2)")
    r = cmd("report", "re-parse a results directory",
            "Parse a guest's results directory ($DAXRS_CACHE/results/...) again and "
            "print its tables and verdict against the committed baseline.")
    r.add_argument("dir", help="a results directory (e.g. "
                   "$DAXRS_CACHE/results/latest-test-series)")
    r.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    s = cmd("series", "work on the series", "Work on the series in project/series/ "
            "(README.md, 'Working on the series').")
    sr = s.add_subparsers(dest="action", required=True, metavar="ACTION")
    sr.add_parser("materialise", help="commit the series onto the base in "
                  "$DAXRS_CACHE/src/series (git log/rebase -i/--fixup work there)")
    sr.add_parser("export", help="write the commits of $DAXRS_CACHE/src/series back into "
                  "project/series and the added files")
    e = sr.add_parser("emit", help="git format-patch with a cover letter, checked with "
                      "git am onto a fresh base")
    e.add_argument("-o", "--output", help="directory (default $DAXRS_CACHE/outgoing/vN)")
    e.add_argument("--no-check", action="store_true", help="skip the git am check")
    e.add_argument("--no-table", action="store_true",
                   help="emit without a test table (by default the cover letter carries "
                   "the table of a `test --with-base` run of exactly this tree)")
    sr.add_parser("lint", help="checkpatch --strict, make rustfmtcheck, CLIPPY=1, rustdoc, "
                  "KUnit tests built as modules")
    b = sr.add_parser("bisect", help="build the test config after every patch (slow)")
    b.add_argument("--from", dest="first", type=int, default=1, metavar="N",
                   help="start at patch N (1-based; the first build of a range is cold)")
    b.add_argument("--to", dest="last", type=int, default=None, metavar="M",
                   help="stop after patch M (default: the last)")
    return ap


class Lock:
    """One run per cache: two builds in one build dir, or two 11 GiB guests
    on this machine, would spoil each other."""

    def __init__(self, what):
        self.what = what
        self.f = None

    def __enter__(self):
        os.makedirs(settings.CACHE, exist_ok=True)
        self.f = open(settings.LOCK_FILE, "a+")
        try:
            fcntl.flock(self.f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.f.seek(0)
            holder = self.f.read().strip() or "another process"
            self.f.close()
            raise Fail(f"another daxrs run is using {settings.CACHE} ({holder}): wait for "
                       "it to finish, or use another DAXRS_CACHE") from None
        self.f.seek(0)
        self.f.truncate()
        self.f.write(f"pid {os.getpid()}: daxrs {self.what}\n")
        self.f.flush()
        return self

    def __exit__(self, *exc):
        self.f.seek(0)
        self.f.truncate()
        fcntl.flock(self.f, fcntl.LOCK_UN)
        self.f.close()


def _sigterm(signum, frame):
    raise KeyboardInterrupt


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = parser().parse_args(argv)
    except Fail as e:
        print(f"daxrs: error: {e}", file=sys.stderr)
        return 2
    # SIGTERM (CI cancelling the job) unwinds like Ctrl-C: guests are killed.
    # SIGINT too when the shell that started us ignored it (a background job)
    signal.signal(signal.SIGTERM, _sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        from daxrs import commands
        if args.cmd == "report":
            return commands.cmd_report(args)
        with Lock(" ".join(argv)):
            if args.cmd == "series":
                from daxrs.series import cli as series_cli
                return series_cli.run(args)
            if args.cmd == "bench":
                from daxrs import bench
                return bench.cmd_bench(args)
            return {"setup": commands.cmd_setup, "build": commands.cmd_build,
                    "demo": commands.cmd_demo, "test": commands.cmd_test}[args.cmd](args)
    except Fail as e:
        print(f"\ndaxrs: error: {e}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        print("\ndaxrs: interrupted (guests stopped)", file=sys.stderr, flush=True)
        return 130
    except Exception as e:  # noqa: BLE001 - the policy: never a traceback
        where = traceback.extract_tb(e.__traceback__)[-1]
        print(f"\ndaxrs: error: internal error: {type(e).__name__}: {e} (at "
              f"{os.path.relpath(where.filename, settings.REPO)}:{where.lineno}); please "
              "report it with the command line", file=sys.stderr, flush=True)
        return 2
