# SPDX-License-Identifier: GPL-2.0
"""The lint's other-config builds, on a fake kernel tree whose make
succeeds or fails as told."""

import os
import tempfile
import unittest
from unittest import mock

from daxrs import settings
from daxrs.results import Status
from daxrs.series import lint
from daxrs.series.materialise import Source

MAKEFILE = """\
all:
\t@if [ -e $(CURDIR)/broken ]; then \\
\t  echo "include/linux/x.h:1:2: error: implicit declaration of function 'f'"; exit 2; fi
\t@echo built
allnoconfig:
\t@echo configured > $(O)/.config
"""


class OtherConfigTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.src = os.path.join(self.tmp.name, "src")
        os.makedirs(self.src)
        with open(os.path.join(self.src, "Makefile"), "w") as f:
            f.write(MAKEFILE)
        self.patches = [mock.patch.object(settings, "CACHE", self.tmp.name),
                        mock.patch("daxrs.series.lint.say")]
        for p in self.patches:
            p.start()

    def tearDown(self):
        for p in self.patches:
            p.stop()
        self.tmp.cleanup()

    def rows(self):
        src = mock.Mock(spec=Source)
        src.path = self.src
        return lint.other_config_results(src, {"bindgen": "bindgen"})

    def test_a_tree_that_builds_passes(self):
        rows = self.rows()
        self.assertEqual([r.status for r in rows], [Status.PASS] * len(lint.OTHER_CONFIGS))
        self.assertTrue(os.path.exists(os.path.join(
            self.tmp.name, "out", "series-x86_64-allnoconfig", ".config")))

    def test_a_tree_that_breaks_fails_with_the_error(self):
        open(os.path.join(self.src, "broken"), "w").close()
        rows = self.rows()
        self.assertEqual(rows[0].status, Status.FAIL)
        self.assertIn("implicit declaration of function 'f'", rows[0].detail)
        self.assertIn("x86_64-allnoconfig", rows[0].test)


if __name__ == "__main__":
    unittest.main()
