# SPDX-License-Identifier: GPL-2.0
"""The ways a regression could hide behind the verdict, each a test: the
parsers and the verdict must turn every one of them into a failure."""

import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from daxrs import verdict  # noqa: E402
from daxrs.parse import fstests, kernel_log, ktap  # noqa: E402
from daxrs.results import Kind, Result, Status  # noqa: E402
from daxrs.suites import collect, registry  # noqa: E402

RSS = 'dax_test.c:444:smaps_rss_pte:Expected 64 (64) == dax_smaps_kb(p, "Rss") ({})'
GAP = verdict.Gap("selftests-dax", "*/dax.*.smaps_rss_pte",
                  r'dax_smaps_kb\(p, "Rss"\) \(0\)$', "the refcount switch")
T = "dax_fs.sh/dax_test/dax.xfs.smaps_rss_pte"


def case(test, status, detail="", suite="selftests-dax"):
    return Result(suite, test, status, detail)


def status_of(v, suite, test):
    return next(r.status for r in v.rows if r.key == (suite, test))


class Gaps(unittest.TestCase):
    def test_declared_failure_with_its_detail_is_a_gap(self):
        rows = [case(T, Status.FAIL, RSS.format(0))]
        v = verdict.judge(rows, [case(T, Status.FAIL, RSS.format(0))], [GAP])
        self.assertEqual(status_of(v, "selftests-dax", T), Status.GAP)
        self.assertFalse(v.failed)

    def test_gap_with_a_different_detail_fails(self):
        # the series counts twice as much where the base counted nothing
        rows = [case(T, Status.FAIL, RSS.format(128))]
        v = verdict.judge(rows, [case(T, Status.FAIL, RSS.format(0))], [GAP])
        self.assertEqual(status_of(v, "selftests-dax", T), Status.FAIL)
        self.assertTrue(v.failed)

    def test_undeclared_failure_that_the_base_shares_fails(self):
        t = "dax_fs.sh/dax_test/dax.xfs.pmd_fault"
        v = verdict.judge([case(t, Status.FAIL, "x")], [case(t, Status.FAIL, "x")], [GAP])
        self.assertTrue(v.failed)

    def test_shared_failure_is_proposed_never_declared(self):
        t = "dax_fs.sh/dax_test/dax.xfs.pmd_fault"
        v = verdict.judge([case(t, Status.FAIL, "x (0)")], [case(t, Status.FAIL, "x (0)")])
        self.assertTrue(v.failed)
        self.assertEqual([r.test for r in v.proposals], [t])
        from daxrs import report
        self.assertIn("[[gap]]", report.verdict_lines(v))

    def test_declared_gap_the_base_passes_is_a_regression(self):
        v = verdict.judge([case(T, Status.FAIL, RSS.format(0))], [case(T, Status.PASS)], [GAP])
        self.assertTrue(v.failed)

    def test_stale_baseline_makes_no_gap(self):
        rows = [case(T, Status.FAIL, RSS.format(0))]
        v = verdict.judge(rows, [case(T, Status.FAIL, RSS.format(0))], [GAP],
                          baseline_valid=False)
        self.assertTrue(v.failed)
        self.assertTrue(v.notes)

    def test_kernel_log_failure_on_both_variants_fails(self):
        row = Result("kernel-log", "test guest", Status.FAIL, "WARNING: at fs/dax.c:1",
                     Kind.INFRA)
        anything = verdict.Gap("*", "*", ".*", "never")
        v = verdict.judge([row], [row], [anything])
        self.assertTrue(v.failed)

    def test_fixed_gap_is_reported(self):
        v = verdict.judge([case(T, Status.PASS)], [case(T, Status.FAIL, RSS.format(0))], [GAP])
        self.assertFalse(v.failed)
        self.assertEqual(len(v.fixed), 1)

    def test_known_gaps_file_is_valid(self):
        # The file may declare no gap at all (once the series closes them);
        # each declared one must parse and name what fixes it.
        import os
        from daxrs import settings
        self.assertTrue(os.path.isfile(settings.KNOWN_GAPS))
        gaps = verdict.load_gaps(settings.KNOWN_GAPS)
        self.assertTrue(all(g.fixed_by for g in gaps))


KSELFTEST = textwrap.dedent("""\
    TAP version 13
    1..1
    # selftests: dax: dax_fs.sh
    # KTAP version 1
    # 1..2
    # # TAP version 13
    # # 1..2
    # # ok 1 dax.xfs.write_read
    # # # {assert}
    # # not ok 2 dax.xfs.smaps_rss_pte
    # not ok 1 dax_test
    # ok 2 teardown.xfs.fsck_clean
    not ok 1 selftests: dax: dax_fs.sh # {why}
    """)


def selftests(why, n=0):
    text = KSELFTEST.format(assert_=RSS, assert_x=None, why=why, **{"assert": RSS.format(n)})
    return ktap.parse_rows("selftests-dax", text, "selftests-dax",
                           rename=lambda x: x.replace("selftests: dax: ", ""))


class Aggregates(unittest.TestCase):
    def base(self):
        return selftests("exit=1")

    def test_program_failing_only_through_gaps_passes(self):
        v = verdict.judge(selftests("exit=1"), self.base(), [GAP])
        self.assertEqual(status_of(v, "selftests-dax", "dax_fs.sh"), Status.PASS)
        self.assertFalse(v.failed)

    def test_timeout_in_an_aggregate_row_fails(self):
        v = verdict.judge(selftests("TIMEOUT 300 seconds"), self.base(), [GAP])
        self.assertEqual(status_of(v, "selftests-dax", "dax_fs.sh"), Status.FAIL)
        self.assertTrue(v.failed)

    def test_signal_in_an_aggregate_row_fails(self):
        v = verdict.judge(selftests("exit=139"), self.base(), [GAP])
        self.assertTrue(v.failed)

    def test_aggregate_with_undeclared_child_failure_fails(self):
        v = verdict.judge(selftests("exit=1", 128), self.base(), [GAP])
        self.assertEqual(status_of(v, "selftests-dax", "dax_fs.sh"), Status.FAIL)


class Vanishing(unittest.TestCase):
    def test_plan_short_by_one_fails(self):
        rows = ktap.parse_rows("smoke", "KTAP version 1\nok 1 a\nok 2 b\n1..3\n")
        self.assertTrue(any(r.kind is Kind.INFRA and r.status is Status.FAIL
                            and "plan 1..3, 2 results" in r.detail for r in rows))

    def test_no_plan_fails(self):
        rows = ktap.parse_rows("smoke", "KTAP version 1\nok 1 a\n")
        self.assertTrue(any(r.status is Status.FAIL for r in rows))

    def test_pass_to_skip_fails(self):
        v = verdict.judge([case("a", Status.SKIP, "no device")], [case("a", Status.PASS)])
        self.assertTrue(v.failed)

    def test_pass_to_missing_fails(self):
        v = verdict.judge([case("a", Status.PASS)], [case("a", Status.PASS),
                                                      case("b", Status.PASS)])
        self.assertTrue(v.failed)
        self.assertIn(("selftests-dax", "b"), [r.key for r in v.rows])

    def test_suite_missing_fails(self):
        with tempfile.TemporaryDirectory() as res:
            rows = collect.test_boot(res, [registry.BY_NAME["smoke"]], "series")
        self.assertTrue(rows and all(r.status is Status.FAIL for r in rows))

    def test_kunit_suite_that_did_not_report_fails(self):
        log = "[    1.0] KTAP version 1\n[    1.0] 1..1\n" \
              "[    1.1]     KTAP version 1\n[    1.1]     # Subtest: rust_doctests_kernel\n" \
              "[    1.1]     1..1\n[    1.1]     ok 1 a\n[    1.2] ok 1 rust_doctests_kernel\n"
        rows = collect.kunit_suite(log, registry.BY_NAME["kunit"], "series")
        bad = [r for r in rows if r.status is Status.FAIL]
        self.assertEqual([r.test for r in bad], ["zone_device_folio: reported"])

    def test_kunit_suite_init_failure_fails(self):
        log = "KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: zone_device_folio\n" \
              "    1..3\nnot ok 1 zone_device_folio # init failed\n"
        rows = ktap.parse_rows("kunit", log, plan_depth=2)
        self.assertTrue(any(r.status is Status.FAIL and r.kind is Kind.INFRA for r in rows))
        self.assertTrue(verdict.judge(rows).failed)

    def test_parameterised_kunit_cases_are_keyed_by_suite_case_param(self):
        log = textwrap.dedent("""\
            KTAP version 1
            1..2
                KTAP version 1
                # Subtest: zdf
                1..1
                    KTAP version 1
                    # Subtest: split
                    ok 1 order 9
                    not ok 2 order 18
                not ok 1 split
            not ok 1 zdf
                KTAP version 1
                # Subtest: other
                1..1
                ok 1 split
            ok 2 other
            """)
        rows = ktap.parse_rows("kunit", log, plan_depth=2)
        got = {r.test: r.status for r in rows if r.kind is Kind.CASE}
        self.assertEqual(got, {"zdf/split/order 9": Status.PASS,
                               "zdf/split/order 18": Status.FAIL,
                               "other/split": Status.PASS})

    def test_printk_caller_prefix(self):
        rows = ktap.parse_rows("kunit", "[    1.1][    T1] KTAP version 1\n"
                               "[    1.1][    T1] 1..1\n[    1.2][    T1] ok 1 a\n")
        self.assertEqual([(r.test, r.status) for r in rows], [("a", Status.PASS)])

    def test_daxprobe_killed_by_sigbus_mid_run_fails(self):
        # smoke.sh's nested probe output: the probe died before its plan
        text = textwrap.dedent("""\
            KTAP version 1
            ok 1 ext4: mkfs + mount -o dax=always
                KTAP version 1
                # Subtest: ext4: daxprobe smoke
                ok 1 open
                ok 2 write
            # daxprobe smoke exit 135 (killed by SIGBUS)
            not ok 2 ext4: daxprobe smoke
            ok 3 ext4: unmount
            1..3
            """)
        rows = ktap.parse_rows("smoke", text)
        self.assertTrue(any("no plan" in r.detail for r in rows))
        v = verdict.judge(rows, [], [verdict.Gap("*", "*", ".*", "x")])
        self.assertEqual(status_of(v, "smoke", "ext4: daxprobe smoke"), Status.FAIL)

    def test_probe_killed_by_sigbus_through_the_guest_helpers(self):
        # lib.sh's real probe_subtest and ktap helpers on the host, with a
        # stand-in probe that dies of SIGBUS after two steps
        from daxrs import settings
        with tempfile.TemporaryDirectory() as d:
            probe = os.path.join(d, "daxprobe")
            with open(probe, "w") as f:
                f.write("#!/bin/bash\necho 'KTAP version 1'\necho 'ok 1 open'\n"
                        "echo 'ok 2 mmap'\nkill -BUS $$\n")
            os.chmod(probe, 0o755)
            script = (f". {settings.GUEST_DIR}/lib.sh\nktap_header\n"
                      "ktap_ok 'ext4: mkfs + mount -o dax=always'\n"
                      "probe_subtest 'ext4: daxprobe smoke' -- smoke /x\n"
                      "ktap_ok 'ext4: unmount'\nktap_finish\n")
            p = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                               env=dict(os.environ, RES=d, PROBE=probe))
        self.assertEqual(p.returncode, 1, p.stderr)
        rows = ktap.parse_rows("smoke", p.stdout)
        v = verdict.judge(rows, [], [verdict.Gap("*", "*", ".*", "x")])
        parent = next(r for r in v.rows if r.test == "ext4: daxprobe smoke")
        self.assertEqual(parent.status, Status.FAIL)
        self.assertIn("killed by SIGBUS", parent.detail)
        self.assertTrue(any("no plan" in r.detail for r in v.rows))

    def test_exit_status_without_a_failing_row_fails(self):
        with tempfile.TemporaryDirectory() as res:
            with open(os.path.join(res, "smoke.ktap"), "w") as f:
                f.write("KTAP version 1\nok 1 a\n1..1\n")
            for rc, want in (("0", None), ("1", "without a failing"), ("3", "exited 3"),
                             ("124", "timeout"), ("", "did not finish")):
                with open(os.path.join(res, "smoke.rc"), "w") as f:
                    f.write(rc)
                rows = collect.ktap_suite(res, registry.BY_NAME["smoke"], "series")
                bad = [r.detail for r in rows if r.status is Status.FAIL]
                if want is None:
                    self.assertEqual(bad, [])
                else:
                    self.assertTrue(any(want in d for d in bad), (rc, bad))

    def test_a_program_cut_off_keeps_the_names_of_its_rows(self):
        # a base kernel that panics in dax_test: the rows it ran must be
        # named as the series run names them, or every one of them would
        # look like a test that vanished
        cut = textwrap.dedent("""\
            TAP version 13
            1..2
            # selftests: dax: devdax_test
            # TAP version 13
            # 1..1
            # ok 1 devdax.map_read_write
            ok 1 selftests: dax: devdax_test
            # selftests: dax: dax_fs.sh
            # TAP version 13
            # 1..3
            # ok 1 teardown.ext4.umount_while_pinned
            # # # Subtest: dax_test
            # # TAP version 13
            # # 1..2
            # # ok 1 dax.ext4.write_read
            """)
        done = cut + "# # ok 2 dax.ext4.hole\n# ok 2 dax_test\n# ok 3 x\n" \
            "ok 2 selftests: dax: dax_fs.sh\n"
        name = dict(rename=lambda x: x.replace("selftests: dax: ", ""))
        base = ktap.parse_rows("selftests-dax", cut, "selftests-dax", **name)
        series = ktap.parse_rows("selftests-dax", done, "selftests-dax", **name)
        for r in (r for r in base if r.kind is Kind.CASE):
            self.assertIn(r.test, [s.test for s in series])
        self.assertIn("dax_fs.sh/dax_test/dax.ext4.write_read", [r.test for r in base])
        cutoff = [r.test for r in base if "without a result line" in r.detail]
        self.assertEqual(cutoff, ["dax_fs.sh/dax_test", "dax_fs.sh"])
        self.assertFalse(verdict.judge(series, base).failed)
        self.assertTrue(verdict.judge(base).failed)

    def test_the_dax_fs_script_announces_its_nested_program(self):
        # the parser names a cut-off dax_test by this line (above); the
        # series adds the script, kept at its kernel-tree path
        from daxrs import settings
        script = os.path.join(settings.REPO, "tools/testing/selftests/dax/dax_fs.sh")
        with open(script) as f:
            self.assertIn('\necho "# # Subtest: dax_test"\n', f.read())
        patches = os.path.join(settings.SERIES_DIR)
        for p in os.listdir(patches):
            with open(os.path.join(patches, p), errors="replace") as f:
                self.assertNotIn('-echo "# # Subtest: dax_test"', f.read(), p)


class Fstests(unittest.TestCase):
    def test_two_sections_with_a_failure_in_the_first(self):
        out = textwrap.dedent("""\
            SECTION       -- dax
            generic/001 1s
            Ran: generic/001 generic/002
            Failures: generic/001
            Failed 1 of 2 tests

            SECTION       -- nodax
            Ran: generic/001 generic/002
            Failures: generic/002
            Failed 1 of 2 tests
            """)
        rows = fstests.rows_of(out, "/r", "fstests-xfs")
        got = {r.test: r.status for r in rows}
        self.assertEqual(got["dax/generic/001"], Status.FAIL)
        self.assertEqual(got["dax/generic/002"], Status.PASS)
        self.assertEqual(got["nodax/generic/001"], Status.PASS)
        self.assertEqual(got["nodax/generic/002"], Status.FAIL)

    def test_dry_run_list_catches_missing_tests(self):
        rows = fstests.rows_of("Ran: generic/001\n", "/r", "fstests-xfs",
                               expected=["generic/001", "generic/002"])
        self.assertIn(("fstests-xfs", "generic/002"),
                      [r.key for r in rows if r.status is Status.FAIL])


class KernelLog(unittest.TestCase):
    def test_reports(self):
        for line in ("WARNING: CPU: 1 PID: 77 at fs/dax.c:520 dax_insert_entry",
                     "EXT4-fs error (device pmem0): ext4_lookup:1855: inode #2: comm ls",
                     "XFS (pmem1): Corruption detected. Unmount and run xfs_repair",
                     "XFS (pmem1): Filesystem has been shut down due to log error (0x2).",
                     "Memory failure: 0x240000: recovery action for dax page: Failed",
                     "BUG: KASAN: use-after-free in dax_iomap_rw"):
            self.assertEqual(len(kernel_log.scan(f"<4>[   12.1] {line}\n")), 1, line)

    def test_user_space_lines_are_not_reports(self):
        text = "<12>[   12.1] run fstests generic/001 WARNING: something\n" \
               "<6>[   12.2] XFS (pmem1): Mounting V5 Filesystem\n"
        self.assertEqual(kernel_log.scan(text), [])

    def test_report_is_attributed_and_has_its_trace(self):
        text = "<12>[ 1.0] daxrs: suite smoke begin\n<4>[ 1.1] WARNING: CPU: 0 PID: 1 at " \
               "fs/dax.c:1 f\n<4>[ 1.2] Call Trace:\n<4>[ 1.3]  <TASK>\n" \
               "<4>[ 1.4] ---[ end trace 0000000000000000 ]---\n<6>[ 1.5] other\n"
        reps = kernel_log.scan(text)
        self.assertEqual(len(reps), 1)
        self.assertEqual(reps[0].suite, "smoke")
        self.assertEqual(len(reps[0].context), 4)

    def test_fs_errors_during_fstests_are_left_to_fstests(self):
        text = "<12>[ 1.0] daxrs: suite fstests begin\n" \
               "<3>[ 1.1] XFS (pmem1): Corruption detected. Unmount and run xfs_repair\n"
        self.assertEqual(kernel_log.scan(text), [])


if __name__ == "__main__":
    unittest.main()


class Selections(unittest.TestCase):
    """The C and Rust selections of the series must agree row for row."""

    def test_same_results_agree(self):
        a = [case("t1", Status.PASS), case("t2", Status.SKIP)]
        rows = verdict.agreement(a, [r.replace() for r in a])
        self.assertEqual([r.status for r in rows], [Status.PASS])
        self.assertIn("2 common rows, 0 differ", rows[-1].detail)

    def test_a_difference_fails_and_is_named(self):
        a = [case("t1", Status.PASS), case("t2", Status.PASS)]
        b = [case("t1", Status.PASS), case("t2", Status.FAIL)]
        rows = verdict.agreement(a, b)
        self.assertEqual(rows[0].test, "selftests-dax: t2")
        self.assertEqual(rows[0].detail, "Rust: pass, C: fail")
        self.assertTrue(all(r.status is Status.FAIL for r in rows))

    def test_a_skip_against_a_pass_is_a_difference(self):
        rows = verdict.agreement([case("t", Status.SKIP)], [case("t", Status.PASS)])
        self.assertIs(rows[-1].status, Status.FAIL)

    def test_lint_and_tooling_run_once_and_are_not_compared(self):
        a = [case("t", Status.PASS), case("checkpatch", Status.PASS, suite="lint"),
             case("unit", Status.PASS, suite="tooling")]
        rows = verdict.agreement(a, [case("t", Status.PASS)])
        self.assertIs(rows[-1].status, Status.PASS)
        self.assertIn("only Rust: 0", rows[-1].detail)

    def test_suites_that_run_once_alone_build_one_selection(self):
        self.assertFalse(verdict.compares_selections(["tooling"]))
        self.assertFalse(verdict.compares_selections(["lint", "tooling"]))
        self.assertTrue(verdict.compares_selections(["tooling", "smoke"]))
        self.assertTrue(verdict.compares_selections(["kunit"]))

    def test_debug_runs_each_selection_in_its_debug_kernel(self):
        from daxrs.commands import selection_plan
        self.assertEqual(selection_plan("both", True, False, True), ("debug", "debug-c"))
        self.assertEqual(selection_plan("c", True, False, True), ("debug-c", None))
        self.assertEqual(selection_plan("rust", True, False, True), ("debug", None))
        self.assertEqual(selection_plan("both", False, False, True), ("", "c"))
        self.assertEqual(selection_plan("c", False, False, True), ("c", None))
        self.assertEqual(selection_plan("both", False, True, True), ("", None))
        self.assertEqual(selection_plan("both", True, False, False), ("debug", None))
        from daxrs.proc import Fail
        with self.assertRaises(Fail):
            selection_plan("c", False, False, False)

    def test_debug_flavours_are_debug_kernels(self):
        from daxrs import settings
        from daxrs.kernel.kbuild import Kernel
        def debug(flavour):
            return Kernel(variant="series", out="o", src="s", release="r", bzimage="b",
                          modroot="m", kselftest=None, tree="t", config_hash="h",
                          flavour=flavour).debug
        self.assertTrue(debug("debug"))
        self.assertTrue(debug("debug-c"))
        for flavour in ("", "c", "bench", "bench-c"):
            self.assertFalse(debug(flavour), flavour)
        self.assertEqual(settings.FLAVOURS["debug-c"],
                         [settings.DEBUG_FRAGMENT, settings.C_FRAGMENT])

    def test_nothing_in_common_is_no_agreement(self):
        rows = verdict.agreement([case("a", Status.PASS)], [case("b", Status.PASS)])
        self.assertIs(rows[-1].status, Status.FAIL)

    def test_the_c_fragment_selects_c(self):
        from daxrs import settings
        from daxrs.kernel import kconfig
        vals = kconfig.parse_config(settings.C_FRAGMENT)
        self.assertEqual(vals.get(settings.C_SELECTION_SYMBOL), "y")
        self.assertEqual(vals.get("CONFIG_DAX_RUST"), "n")
        for name, frags in settings.FLAVOURS.items():
            for f in frags:
                self.assertTrue(os.path.exists(f), f"{name}: {f}")
