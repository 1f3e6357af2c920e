# SPDX-License-Identifier: GPL-2.0
"""daxrs bench's host side: parsing the guest's figures, the statistics and
the table, on made-up figures."""

import os
import random
import re
import shutil
import tempfile
import unittest

from daxrs import bench
from daxrs.proc import Fail

GUEST_OUTPUT = """\
round\tpte-read-fault\txfs\t1\t4712.5\t1024
round\tpte-read-fault\txfs\t2\t4700.0\t1024
check\tpmd-fault/xfs maps PMDs\tok\t32 NOPAGE PMD faults of 32
check\tlongterm-pin/xfs refused\tfail\tFOLL_LONGTERM on FS DAX: pinned 256 of 256 pages
round\tbroken line
round\tx\ty\tnot-a-number\t1\t1
"""


def boots(rng, centre, n_boots=2, rounds=9, noise=0.01):
    return [[centre * (1 + rng.uniform(-noise, noise)) for _ in range(rounds)]
            for _ in range(n_boots)]


class TestParse(unittest.TestCase):
    def test_rounds_and_checks(self):
        rounds, checks = bench.parse(GUEST_OUTPUT)
        self.assertEqual(rounds, [("pte-read-fault", "xfs", 1, 4712.5, 1024),
                                  ("pte-read-fault", "xfs", 2, 4700.0, 1024)])
        self.assertEqual([(n, ok) for n, ok, _ in checks],
                         [("pmd-fault/xfs maps PMDs", True), ("longterm-pin/xfs refused", False)])

    def test_instances(self):
        got = [(i.variant, i.label) for i in bench.instances("base,base,series")]
        self.assertEqual(got, [("base", "base"), ("base", "base#2"), ("series", "series")])
        with self.assertRaises(Fail):
            bench.instances("base")
        with self.assertRaises(Fail):
            bench.instances("base,rust")

    def test_the_c_selection_is_a_variant_of_the_series_tree(self):
        got = [(i.variant, i.label) for i in bench.instances("series-c,series-c,series")]
        self.assertEqual(got, [("series-c", "series-c"), ("series-c", "series-c#2"),
                               ("series", "series")])
        self.assertEqual(bench.BENCH_KERNELS["series-c"], ("series", "bench-c"))


class TestStatistics(unittest.TestCase):
    def test_same_distribution_contains_one(self):
        rng = random.Random(1)
        ref, other = boots(rng, 5000), boots(rng, 5000)
        r, lo, hi = bench.ratio_interval(ref, other, "same")
        self.assertLessEqual(lo, 1.0)
        self.assertGreaterEqual(hi, 1.0)
        self.assertAlmostEqual(r, 1.0, delta=0.02)

    def test_a_five_percent_regression_is_seen(self):
        rng = random.Random(2)
        ref, other = boots(rng, 5000), boots(rng, 5250)
        r, lo, hi = bench.ratio_interval(ref, other, "slower")
        self.assertGreater(lo, 1.0)
        self.assertAlmostEqual(r, 1.05, delta=0.01)

    def test_boot_to_boot_noise_widens_the_interval(self):
        # two boots that disagree by 4 %: the interval must cover that, not
        # only the (tiny) spread of rounds within a boot
        ref = [[1000.0] * 9, [1040.0] * 9]
        other = [[1000.0] * 9, [1040.0] * 9]
        _, lo, hi = bench.ratio_interval(ref, other, "boots")
        self.assertLess(lo, 0.98)
        self.assertGreater(hi, 1.02)

    def test_deterministic(self):
        rng = random.Random(3)
        ref, other = boots(rng, 100), boots(rng, 101)
        self.assertEqual(bench.ratio_interval(ref, other, "s"),
                         bench.ratio_interval(ref, other, "s"))


class TestSummary(unittest.TestCase):
    def outcomes(self):
        rng = random.Random(4)
        out = []
        for label, centre in (("base", 5000), ("base#2", 5000), ("series", 6000)):
            for b, vals in enumerate(boots(rng, centre), 1):
                rounds = [("pte-read-fault", "xfs", i, v, 1024) for i, v in enumerate(vals, 1)]
                if label != "series":
                    rounds.append(("munmap-pte", "xfs", 1, 9000.0, 1))
                out.append(bench.Outcome(label, b, "/tmp", rounds, []))
        return out

    def test_summary_and_table(self):
        insts = bench.instances("base,base,series")
        cases = bench.summarise(insts, self.outcomes())
        self.assertEqual([(c["case"], c["where"]) for c in cases],
                         [("pte-read-fault", "xfs"), ("munmap-pte", "xfs")])
        pte = cases[0]["variants"]
        self.assertTrue(pte["base#2"]["contains_one"])
        self.assertFalse(pte["series"]["contains_one"])
        self.assertNotIn("ratio", pte["base"])
        self.assertIsNone(cases[1]["variants"]["series"])
        md = bench.table(insts, cases)
        self.assertRegex(md, r"\| pte-read-fault \| xfs \| [45],[0-9]{3} \([0-9.]+ %\) \|")
        self.assertIn(" *", md.splitlines()[2])      # series excludes 1.00
        self.assertIn("missing", md.splitlines()[3])

    @unittest.skipUnless(shutil.which("gnuplot"), "gnuplot not installed")
    def test_chart(self):
        insts = bench.instances("base,base,series")
        cases = bench.summarise(insts, self.outcomes())
        with tempfile.TemporaryDirectory() as d:
            png = os.path.join(d, "bench.png")
            self.assertIsNone(bench.chart(insts, cases, png))
            with open(png, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")


class TestCases(unittest.TestCase):
    def test_case_list(self):
        self.assertEqual(bench.case_list(""), [])
        self.assertEqual(bench.case_list("pte-read-fault, truncate/ext4"),
                         ["pte-read-fault", "truncate/ext4"])
        for bad in ("pte-fault", "pte-read-fault/zfs", "truncate/xfs/x"):
            with self.assertRaises(Fail):
                bench.case_list(bad)

    def test_the_runner_passes_every_bench_setting_on(self):
        # guest.env is sourced by run.sh, not exported: bench.sh sees only
        # the BENCH_* settings run.sh hands to it
        with open(os.path.join(bench.settings.GUEST_DIR, "bench.sh")) as f:
            read = set(re.findall(r"\$\{?(BENCH_[A-Z_]+)", f.read()))
        with open(os.path.join(bench.settings.GUEST_DIR, "run.sh")) as f:
            runner = f.read()
        passed = set(re.findall(r"(BENCH_[A-Z_]+)=\$\{\1:-\}", runner))
        self.assertEqual(read, {"BENCH_ROUNDS", "BENCH_CASES"})
        self.assertEqual(passed, read)

    def test_bench_guests_leave_the_setup_limit_to_the_host(self):
        seen = {}

        class Boot:
            res = tempfile.mkdtemp(prefix="daxrs-test-")
            timed_out = crashed = False
            rc, progress, console = 0, "", ""

        def fake_boot(kern, mode, pmem, timeout, label, bindir, **kw):
            seen.update(kw["env_extra"], timeout=timeout)
            return Boot()

        real, bench.vm.boot = bench.vm.boot, fake_boot
        try:
            out = bench.run_boot(None, bench.Instance("series", "series"), 1, 3, "/bin",
                                 2400)
        finally:
            bench.vm.boot = real
            shutil.rmtree(Boot.res, ignore_errors=True)
        self.assertEqual(seen.get("SETUP_TIMEOUT"), "0")
        self.assertEqual(seen.get("timeout"), 2400)
        self.assertIn("no figures", out.problem)
        # and the runner takes 0 as no limit: timeout(1) reads 0 so
        with open(os.path.join(bench.settings.GUEST_DIR, "run.sh")) as f:
            self.assertIn('timeout -k 10 "$SETUP_TIMEOUT"', f.read())

    def test_the_cases_are_those_the_guest_runs(self):
        with open(os.path.join(bench.settings.GUEST_DIR, "bench.sh")) as f:
            ran = {line.split()[1] for line in f if line.strip().startswith("run ")}
        self.assertEqual(ran, set(bench.CASES))


SYSTEM_MAP = """\
ffffffff81000000 T _text
ffffffff81001000 t grab_mapping_entry
ffffffff81001100 D some_data
ffffffff81001200 T _RNvNtCs1234_6dax_rs5fault6insert
"""

COUNTS = """\
ffffffff81001004 10
ffffffff81001010 10
ffffffff81001210 7
ffffffff81000010 1
not a line
"""


class TestProfile(unittest.TestCase):
    def test_attribute(self):
        with tempfile.TemporaryDirectory() as d:
            m, c = os.path.join(d, "System.map"), os.path.join(d, "counts")
            with open(m, "w") as f:
                f.write(SYSTEM_MAP)
            with open(c, "w") as f:
                f.write(COUNTS)
            got = bench.attribute(c, m)
        # data symbols do not end a function: 0x...1210 is past the data
        self.assertEqual(got, {"grab_mapping_entry": 20,
                               "_RNvNtCs1234_6dax_rs5fault6insert": 7, "_text": 1})

    def test_table_puts_the_largest_difference_first(self):
        insts = bench.instances("series-c,series")
        md = bench.profile_table(insts, {
            "series-c": {"a": 100.0, "b": 50.0},
            "series": {"a": 101.0, "b": 70.0, "c": 5.0}})
        rows = md.splitlines()
        self.assertTrue(rows[2].startswith("| b | 50.0 | 70.0 | +20.0 |"), rows[2])
        self.assertIn("| **all** | 150 | 176 | +26 |", md)


if __name__ == "__main__":
    unittest.main()
