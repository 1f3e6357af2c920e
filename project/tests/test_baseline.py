# SPDX-License-Identifier: GPL-2.0
"""The baseline fingerprint: what invalidates a recorded baseline."""

import os
import tempfile
import unittest

from daxrs import baseline


class FingerprintTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name
        for rel in ("project/guest/run.sh", "project/guest/bench.sh",
                    "project/guest/daxbench.c", "project/base.pin"):
            self.write(rel, "v1\n")

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, rel, text):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    def fp(self):
        return baseline.fingerprint(self.root, ("project/base.pin", "project/guest"))

    def test_test_guest_script_changes_it(self):
        before = self.fp()
        self.write("project/guest/run.sh", "v2\n")
        self.assertNotEqual(before, self.fp())

    def test_new_guest_file_changes_it(self):
        before = self.fp()
        self.write("project/guest/suites/new.sh", "v1\n")
        self.assertNotEqual(before, self.fp())

    def test_benchmark_files_do_not(self):
        before = self.fp()
        self.write("project/guest/bench.sh", "v2\n")
        self.write("project/guest/daxbench.c", "v2\n")
        self.assertEqual(before, self.fp())

    def test_pin_changes_it(self):
        before = self.fp()
        self.write("project/base.pin", "v2\n")
        self.assertNotEqual(before, self.fp())


if __name__ == "__main__":
    unittest.main()
