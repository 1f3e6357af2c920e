# SPDX-License-Identifier: GPL-2.0
"""The parsers of the real suites' outputs: meson's test log, fstests'
summary, the kernel-log scan's catalogue of reports."""

import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from daxrs.parse import fstests, kernel_log, ndctl  # noqa: E402
from daxrs.results import Kind, Status  # noqa: E402


class NdctlTestlog(unittest.TestCase):
    LINES = [
        {"name": "dax-ext4.sh", "result": "OK", "returncode": 0, "stdout": "ok\n"},
        {"name": "daxdev-errors.sh", "result": "SKIP", "returncode": 77,
         "stdout": "kernel 6.12: missing nfit_test\n"},
        {"name": "mmap.sh", "result": "TIMEOUT", "returncode": -15, "stdout": "x\nlast\n"},
        {"name": "dm.sh", "result": "FAIL", "returncode": 1, "stdout": ""},
    ]

    def test_results(self):
        text = "\n".join(json.dumps(x) for x in self.LINES) + "\nnot json\n"
        rows = ndctl.parse_testlog(text, "ndctl")
        self.assertEqual([(r.test, r.status) for r in rows],
                         [("dax-ext4.sh", Status.PASS), ("daxdev-errors.sh", Status.SKIP),
                          ("mmap.sh", Status.FAIL), ("dm.sh", Status.FAIL)])
        self.assertIn("TIMEOUT", rows[2].detail)
        self.assertIn("last", rows[2].detail)

    def test_expected_tests_that_did_not_run_fail(self):
        with tempfile.TemporaryDirectory() as res:
            with open(os.path.join(res, "ndctl-testlog.json"), "w") as f:
                f.write(json.dumps(self.LINES[0]) + "\n")
            rows = ndctl.rows(res, "ndctl", ["dax-ext4.sh", "ndctl:dax / mmap.sh"])
        bad = [r for r in rows if r.status is Status.FAIL]
        self.assertEqual([(r.test, r.kind) for r in bad], [("ndctl:dax / mmap.sh", Kind.INFRA)])

    def test_no_log_fails(self):
        with tempfile.TemporaryDirectory() as res:
            rows = ndctl.rows(res, "ndctl")
        self.assertEqual([r.status for r in rows], [Status.FAIL])


class FstestsSummary(unittest.TestCase):
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
            rows = fstests.rows_of(out, d, "fstests-xfs")
        got = {r.test: r.status for r in rows}
        self.assertEqual(got, {"generic/413": Status.PASS, "generic/428": Status.FAIL,
                               "xfs/550": Status.PASS, "generic/470": Status.SKIP})
        self.assertIn("LOGWRITES_DEV", [r for r in rows if r.test == "generic/470"][0].detail)

    def test_a_test_not_run_is_a_skip_only(self):
        # what fstests v2025.12.09 printed for ext4 -g dax: the test that did
        # not run is in the Ran: list as well
        out = ("ext4/047           [not run] Kernel doesn't support the ext4 feature(s): "
               "inline_data\nRan: ext4/030 ext4/047 generic/413\nNot run: ext4/047\n"
               "Passed all 3 tests\n")
        rows = fstests.rows_of(out, "/nonexistent", "fstests-ext4")
        self.assertEqual([(r.test, r.status) for r in rows],
                         [("ext4/030", Status.PASS), ("generic/413", Status.PASS),
                          ("ext4/047", Status.SKIP)])

    def test_no_summary_is_a_failure(self):
        rows = fstests.rows_of("mount: wrong fs type\ncommon/rc: could not mount\n",
                               "/nonexistent", "fstests-ext4")
        self.assertEqual((rows[0].status, rows[0].kind), (Status.FAIL, Kind.INFRA))
        self.assertIn("could not mount", rows[0].detail)

    def test_dry_run_list(self):
        self.assertEqual(fstests.parse_list("FSTYP -- xfs\ngeneric/001\n  xfs/550  \n"),
                         ["generic/001", "xfs/550"])


class KernelLogCatalogue(unittest.TestCase):
    BAD = [
        "WARNING: CPU: 1 PID: 77 at mm/memremap.c:520 free_zone_device_folio",
        "BUG: unable to handle page fault for address: ffffea0000000008",
        "Oops: general protection fault, probably for non-canonical address",
        "kernel BUG at mm/huge_memory.c:2012!",
        "WARNING: possible circular locking dependency detected",
        "rcu: INFO: rcu_preempt self-detected stall on CPU",
        "INFO: task umount:99 blocked for more than 120 seconds.",
        "watchdog: BUG: soft lockup - CPU#0 stuck for 26s!",
        "WARNING: suspicious RCU usage",
        "BUG: Bad page state in process mmap  pfn:148000",
        "Page cache invalidation failure on direct I/O.  Possible data corruption due to"
        " collision with buffered I/O!",
    ]
    GOOD = [
        "rcu: \tRCU lockdep checking is enabled.",
        "... MAX_LOCKDEP_SUBCLASSES:  8",
        "Lock dependency validator: Copyright (c) 2006 Red Hat, Inc., Ingo Molnar",
        "EXT4-fs (pmem0): DAX enabled. Warning: DAX support in ext4 driver is experimental",
        "xfs filesystem being mounted at /tmp/daxrs/xfs supports timestamps",
        "Memory failure: 0x240000: recovery action for dax page: Recovered",
        "XFS (pmem1): Unmounting Filesystem 1b6b8bbe",
    ]

    def test_reports_are_caught(self):
        for line in self.BAD:
            self.assertEqual(len(kernel_log.scan(f"<4>[   12.1] {line}\n")), 1, line)

    def test_boot_noise_is_not(self):
        for line in self.GOOD:
            self.assertEqual(kernel_log.scan(f"<6>[   12.1] {line}\n"), [], line)

    XFS_DUMP = """\
<3>[  208.251080] XFS (pmem4): Internal error xfs_trans_cancel at line 978 of file x.c.
<4>[  208.257278] CPU: 0 UID: 0 PID: 1954 Comm: fsstress Tainted: G    O  N 6.12.117+ #31
<4>[  208.257593] Tainted: [O]=OOT_MODULE, [N]=TEST
<4>[  208.257611] Hardware name: QEMU Standard PC (Q35 + ICH9, 2009)
<4>[  208.257722] Call Trace:
<4>[  208.257823]  <TASK>
<4>[  208.258040]  xfs_error_report+0x3e/0x40
<4>[  208.259408]  </TASK>
"""

    def suite_mark(self, suite):
        return f"<12>[    1.0] daxrs: suite {suite} begin\n"

    def test_the_stack_of_an_xfs_report_is_the_file_systems(self):
        # generic/019 fails I/O on purpose: XFS reports an internal error and
        # dumps the stack, which fstests does not count and neither do we
        self.assertEqual(kernel_log.scan(self.suite_mark("fstests") + self.XFS_DUMP), [])
        reps = kernel_log.scan(self.suite_mark("smoke") + self.XFS_DUMP)
        self.assertEqual([r.line.split("] ")[1][:30] for r in reps],
                         ["XFS (pmem4): Internal error xf"])
        # the same stack below anything else is the kernel's
        other = self.XFS_DUMP.replace("XFS (pmem4): Internal error", "something else:")
        reps = kernel_log.scan(self.suite_mark("fstests") + other)
        self.assertEqual([r.line.split("] ")[1] for r in reps], ["Call Trace:"])

    def test_log_row_fails_and_names_the_first(self):
        rows, reps = kernel_log.log_rows("kernel-log", "test guest",
                                         f"<4>[ 1.0] {self.BAD[0]}\n")
        self.assertEqual((rows[0].status, rows[0].kind), (Status.FAIL, Kind.INFRA))
        self.assertIn("free_zone_device_folio", rows[0].detail)

    def test_empty_log_fails(self):
        rows, _ = kernel_log.log_rows("kernel-log", "test guest", "")
        self.assertEqual(rows[0].status, Status.FAIL)


if __name__ == "__main__":
    unittest.main()
