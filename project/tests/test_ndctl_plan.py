# SPDX-License-Identifier: GPL-2.0
"""Which of an ndctl build's tests `meson test ARGS` runs (--ndctl-args):
the suite options and the test names, as the host plans them and then
expects a result for each."""

import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from daxrs.proc import Fail  # noqa: E402
from daxrs.suites import user  # noqa: E402

# The shape of ndctl v81's meson-info/intro-tests.json, a few entries.
TESTS = [
    {"name": "libndctl", "suite": ["ndctl:ndctl"]},
    {"name": "dax-ext4.sh", "suite": ["ndctl:dax"]},
    {"name": "device-dax", "suite": ["ndctl:dax"]},
    {"name": "device-dax-fio.sh", "suite": ["ndctl:dax"]},
    {"name": "mmap.sh", "suite": ["ndctl:dax"]},
    {"name": "cxl-topology.sh", "suite": ["ndctl:cxl"]},
]


def names(args):
    return user.meson_test_names(TESTS, args.split())[1]


class MesonTestSelection(unittest.TestCase):
    def test_suite_only(self):
        self.assertEqual(names("--suite dax --timeout-multiplier 4"),
                         ["ndctl:dax / dax-ext4.sh", "ndctl:dax / device-dax",
                          "ndctl:dax / device-dax-fio.sh", "ndctl:dax / mmap.sh"])

    def test_one_name_is_one_test(self):
        # Before, a name was ignored and every test of the build was expected.
        self.assertEqual(names("device-dax --timeout-multiplier 4"), ["ndctl:dax / device-dax"])

    def test_option_values_are_not_names(self):
        for args in ("-t 4 mmap.sh", "-t4 mmap.sh", "--timeout 4 mmap.sh",
                     "--timeout-multiplier=4 mmap.sh", "--no-rebuild --suite dax mmap.sh",
                     "--setup x --num-processes 2 mmap.sh", "-- mmap.sh"):
            self.assertEqual(names(args), ["ndctl:dax / mmap.sh"], args)

    def test_names_within_the_suites(self):
        self.assertEqual(names("--suite cxl device-dax"), [])
        self.assertEqual(names("--no-suite dax libndctl device-dax"), ["ndctl:ndctl / libndctl"])

    def test_wildcards_and_projects(self):
        self.assertEqual(names("ndctl:device*"),
                         ["ndctl:dax / device-dax", "ndctl:dax / device-dax-fio.sh"])
        self.assertEqual(names("other:device-dax"), [])
        self.assertEqual(len(names("ndctl:")), len(TESTS))
        self.assertEqual(names(":mmap.sh"), ["ndctl:dax / mmap.sh"])


class CheckNdctl(unittest.TestCase):
    def build(self, root):
        b = os.path.join(root, "build", "meson-info")
        os.makedirs(b)
        with open(os.path.join(b, "meson-info.json"), "w") as f:
            json.dump({"directories": {"source": root}}, f)
        tests = [dict(t, cmd=[os.path.join(root, "t")]) for t in TESTS]
        with open(os.path.join(b, "intro-tests.json"), "w") as f:
            json.dump(tests, f)
        open(os.path.join(root, "t"), "w").close()

    def test_unknown_name_is_refused_before_the_guest(self):
        with tempfile.TemporaryDirectory() as d:
            self.build(d)
            with self.assertRaisesRegex(Fail, "named 'device-daxx'"):
                user.check_ndctl(d, "--suite dax device-daxx")

    def test_named_test_is_all_that_is_expected(self):
        with tempfile.TemporaryDirectory() as d:
            self.build(d)
            try:
                _, _, expected = user.check_ndctl(d, "device-dax")
            except Fail as e:  # no meson on this host: the plan is not reached
                self.skipTest(str(e))
            self.assertEqual(expected, ["ndctl:dax / device-dax"])


if __name__ == "__main__":
    unittest.main()
