# SPDX-License-Identifier: GPL-2.0
"""`series bisect --from/--to`: the range must lie in the series."""

import unittest

from daxrs.proc import Fail
from daxrs.series.bisect import patch_range


class PatchRange(unittest.TestCase):
    def test_default_is_the_whole_series(self):
        self.assertEqual(patch_range(1, None, 25), (1, 25))

    def test_a_part(self):
        self.assertEqual(patch_range(13, 25, 25), (13, 25))
        self.assertEqual(patch_range(1, 12, 25), (1, 12))
        self.assertEqual(patch_range(7, 7, 25), (7, 7))

    def test_ranges_outside_the_series_are_refused(self):
        for first, last in ((0, 5), (5, 4), (1, 26), (26, None)):
            with self.subTest(first=first, last=last):
                with self.assertRaises(Fail) as e:
                    patch_range(first, last, 25)
                self.assertIn("not a range of the series' 25 patches", str(e.exception))


if __name__ == "__main__":
    unittest.main()
