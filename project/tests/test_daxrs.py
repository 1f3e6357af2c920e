# SPDX-License-Identifier: GPL-2.0
"""Tests of the daxrs tooling itself (host only, seconds): the parsers that
decide pass or fail must see failures, and the series definition must
round-trip.  Run by `./daxrs test` (suite "tooling") or directly with
`python3 -m unittest discover -s project/tests`."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import daxrs  # noqa: E402

KTAP = """\
[    1.0] KTAP version 1
[    1.0] 1..2
[    1.1]     KTAP version 1
[    1.1]     # Subtest: rust_doctests_kernel
[    1.1]     1..3
[    1.2]     ok 1 rust_doctest_a
[    1.3]     not ok 2 rust_doctest_b
[    1.4]     ok 3 rust_doctest_c # SKIP no hardware
[    1.5] not ok 1 rust_doctests_kernel
[    1.6]     KTAP version 1
[    1.6]     # Subtest: dax_suite
[    1.6]     1..1
[    1.7]         KTAP version 1
[    1.7]         # Subtest: param_case
[    1.7]         ok 1 param_case one
[    1.7]     ok 1 param_case
[    1.8] ok 2 dax_suite
"""


class KunitParser(unittest.TestCase):
    def test_cases_and_results(self):
        rows = daxrs.parse_kunit(KTAP)
        got = {r[1]: r[2] for r in rows}
        self.assertEqual(got["rust_doctests_kernel.rust_doctest_a"], "pass")
        self.assertEqual(got["rust_doctests_kernel.rust_doctest_b"], "fail")
        self.assertEqual(got["rust_doctests_kernel.rust_doctest_c"], "skip")
        # suite result lines are not test cases
        self.assertNotIn("rust_doctests_kernel.rust_doctests_kernel", got)
        self.assertEqual(daxrs.summarize(rows)["fail"], 1)

    def test_no_ktap_is_a_failure(self):
        with tempfile.TemporaryDirectory() as res:
            with open(os.path.join(res, "dmesg.txt"), "w") as f:
                f.write("[    0.0] Linux version 6.12.117\n")
            rows, _ = daxrs.collect(res)
        self.assertIn(("kunit", "KTAP results in the kernel log"), [r[:2] for r in rows])
        self.assertTrue(daxrs.summarize(rows)["fail"] >= 1)


class KernelLogScan(unittest.TestCase):
    BAD = [
        "[   12.1] WARNING: CPU: 1 PID: 77 at mm/memremap.c:520 free_zone_device_folio",
        "[   12.1] BUG: unable to handle page fault for address: ffffea0000000008",
        "[   12.1] Oops: general protection fault, probably for non-canonical address",
        "[   12.1] kernel BUG at mm/huge_memory.c:2012!",
        "[   12.1] WARNING: possible circular locking dependency detected",
        "[   12.1] rcu: INFO: rcu_preempt self-detected stall on CPU",
        "[   12.1] INFO: task umount:99 blocked for more than 120 seconds.",
        "[   12.1] watchdog: BUG: soft lockup - CPU#0 stuck for 26s!",
        "[   12.1] =============================\n[   12.1] WARNING: suspicious RCU usage",
        "[   12.1] BUG: Bad page state in process mmap  pfn:148000",
    ]
    GOOD = [
        "[    0.6] rcu: \tRCU lockdep checking is enabled.",
        "[    0.6] ... MAX_LOCKDEP_SUBCLASSES:  8",
        "[    0.7] Lock dependency validator: Copyright (c) 2006 Red Hat, Inc., Ingo Molnar",
        "[    2.0] EXT4-fs (pmem0): DAX enabled. Warning: DAX support in ext4 driver is"
        " experimental",
        "[    2.0] xfs filesystem being mounted at /tmp/daxrs/xfs supports timestamps",
    ]

    def test_reports_are_caught(self):
        for line in self.BAD:
            self.assertTrue(daxrs.BAD_LOG.search(line), line)

    def test_boot_noise_is_not(self):
        for line in self.GOOD:
            self.assertFalse(daxrs.BAD_LOG.search(line), line)

    def test_collect_fails_the_run(self):
        with tempfile.TemporaryDirectory() as res:
            with open(os.path.join(res, "dmesg.txt"), "w") as f:
                f.write(KTAP + self.BAD[0] + "\n")
            rows, bad = daxrs.collect(res)
        self.assertEqual(bad, [self.BAD[0]])
        log_rows = [r for r in rows if r[0] == "kernel-log"]
        self.assertEqual([r[2] for r in log_rows], ["fail"])


class KnownGaps(unittest.TestCase):
    def test_only_failures_the_base_shares_are_gaps(self):
        base = [("s", "both", "fail", ""), ("s", "regressed", "pass", "")]
        series = [("s", "both", "fail", ""), ("s", "regressed", "fail", ""),
                  ("s", "new", "fail", ""), ("s", "fixed", "pass", "")]
        got = {r[1]: r[2] for r in daxrs.mark_gaps(series, base)}
        self.assertEqual(got, {"both": "gap", "regressed": "fail", "new": "fail",
                               "fixed": "pass"})
        n = daxrs.summarize(daxrs.mark_gaps(series, base))
        self.assertEqual((n["fail"], n["gap"]), (2, 1))


class SeriesFile(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.saved = (daxrs.REPO, daxrs.SERIES_DIR, daxrs.SERIES_FILE)
        daxrs.REPO = self.tmp.name
        daxrs.SERIES_DIR = os.path.join(self.tmp.name, "project", "series")
        daxrs.SERIES_FILE = os.path.join(daxrs.SERIES_DIR, "series")
        os.makedirs(daxrs.SERIES_DIR)
        os.makedirs(os.path.join(self.tmp.name, "rust", "kernel"))
        open(os.path.join(self.tmp.name, "rust", "kernel", "dax.rs"), "w").close()
        for name in ("0001-a.patch", "0002-b.patch"):
            open(os.path.join(daxrs.SERIES_DIR, name), "w").close()

    def tearDown(self):
        daxrs.REPO, daxrs.SERIES_DIR, daxrs.SERIES_FILE = self.saved

    def write(self, text):
        with open(daxrs.SERIES_FILE, "w") as f:
            f.write(text)

    def test_parse(self):
        self.write("# c\n0001-a.patch\n\t~ mm/gup.c\n\n0002-b.patch\n\t+ rust/kernel/dax.rs\n")
        self.assertEqual(daxrs.read_series(),
                         [("0001-a.patch", []), ("0002-b.patch", ["rust/kernel/dax.rs"])])

    def test_errors_are_named(self):
        cases = {"0003-missing.patch\n": "not in project/series",
                 "0001-a.patch\n\t+ rust/kernel/nope.rs\n": "has no file",
                 "0001-a.patch\n\t+ project/daxrs.py\n": "tooling",
                 "0001-a.patch\n\t+ ../etc/passwd\n": "leaves the tree",
                 "\t+ rust/kernel/dax.rs\n": "under a patch"}
        for text, msg in cases.items():
            self.write(text)
            with self.assertRaises(daxrs.Fail) as cm:
                daxrs.read_series()
            self.assertIn(msg, str(cm.exception), text)

    def test_slug_matches_git_format_patch(self):
        subject = "mm/gup: remove redundant check for PCI P2PDMA page"
        with tempfile.TemporaryDirectory() as g:
            env = dict(os.environ, GIT_AUTHOR_NAME="a", GIT_AUTHOR_EMAIL="a@b",
                       GIT_COMMITTER_NAME="a", GIT_COMMITTER_EMAIL="a@b")
            subprocess.run(["git", "init", "-q", g], check=True)
            subprocess.run(["git", "-C", g, "commit", "-q", "--allow-empty", "-m", "x"],
                           check=True, env=env)
            subprocess.run(["git", "-C", g, "commit", "-q", "--allow-empty", "-m", subject],
                           check=True, env=env)
            out = subprocess.run(["git", "-C", g, "format-patch", "-1", "-o", g],
                                 capture_output=True, text=True, check=True).stdout
        self.assertEqual(os.path.basename(out.strip()), f"0001-{daxrs.slug(subject)}.patch")


if __name__ == "__main__":
    unittest.main()


class NdctlTestlog(unittest.TestCase):
    """meson's testlog.json of the user's ndctl (or the stand-in) as rows."""

    def test_results(self):
        lines = [
            {"name": "dax-ext4.sh", "result": "OK", "returncode": 0, "stdout": "ok\n"},
            {"name": "daxdev-errors.sh", "result": "SKIP", "returncode": 77,
             "stdout": "kernel 6.12: missing nfit_test\n"},
            {"name": "mmap.sh", "result": "TIMEOUT", "returncode": -15, "stdout": "x\nlast\n"},
            {"name": "dm.sh", "result": "FAIL", "returncode": 1, "stdout": ""},
        ]
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write("\n".join(json.dumps(x) for x in lines) + "\nnot json\n")
        try:
            rows = daxrs.parse_ndctl_testlog(f.name, "ndctl")
        finally:
            os.unlink(f.name)
        self.assertEqual([(r[1], r[2]) for r in rows],
                         [("dax-ext4.sh", "pass"), ("daxdev-errors.sh", "skip"),
                          ("mmap.sh", "fail"), ("dm.sh", "fail")])
        self.assertIn("TIMEOUT", rows[2][3])
        self.assertIn("last", rows[2][3])

    def test_no_build_dir_is_named(self):
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaisesRegex(daxrs.Fail, "meson build directory"):
                daxrs.check_ndctl(d, "--suite dax")


class FstestsSummary(unittest.TestCase):
    """./check's summary lines as rows."""

    def test_ran_failures_notrun(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "generic"))
            with open(os.path.join(d, "generic", "470.notrun"), "w") as f:
                f.write("This test requires a valid $LOGWRITES_DEV\n")
            out = ("SECTION       -- xfs\nFSTYP         -- xfs\n"
                   "generic/413 169s\ngeneric/428 - output mismatch\n"
                   "Ran: generic/413 generic/428 xfs/550\n"
                   "Not run: generic/470\nFailures: generic/428\n"
                   "Failed 1 of 3 tests\n")
            rows = daxrs.parse_fstests(out, d, "fstests-xfs")
        got = {r[1]: r[2] for r in rows}
        self.assertEqual(got, {"generic/413": "pass", "generic/428": "fail",
                               "xfs/550": "pass", "generic/470": "skip"})
        self.assertIn("LOGWRITES_DEV", [r for r in rows if r[1] == "generic/470"][0][3])

    def test_no_summary_is_a_failure(self):
        rows = daxrs.parse_fstests("mount: wrong fs type\ncommon/rc: could not mount\n",
                                   "/nonexistent", "fstests-ext4")
        self.assertEqual(rows[0][1:3], ("./check completed", "fail"))
        self.assertIn("could not mount", rows[0][3])

    def test_unbuilt_checkout_is_named(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "check"), "w") as f:
                f.write("#!/bin/sh\n")
            os.chmod(os.path.join(d, "check"), 0o755)
            with self.assertRaisesRegex(daxrs.Fail, "not built"):
                daxrs.check_fstests(d, "-g dax", ["xfs"])
