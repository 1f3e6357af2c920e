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

    def changed_by(self, *rels):
        """Whether writing new contents to rels changes the fingerprint."""
        before = self.fp()
        for rel in rels:
            self.write(rel, "v2\n")
        return before != self.fp()

    def test_what_changes_it(self):
        for rel in ("project/guest/run.sh", "project/guest/suites/new.sh",
                    "project/base.pin"):
            with self.subTest(rel=rel):
                self.assertTrue(self.changed_by(rel))

    def test_benchmark_files_do_not(self):
        self.assertFalse(self.changed_by("project/guest/bench.sh",
                                         "project/guest/daxbench.c"))

if __name__ == "__main__":
    unittest.main()
