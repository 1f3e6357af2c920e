# SPDX-License-Identifier: GPL-2.0
"""The lint's other-config builds, on a fake kernel tree whose make
succeeds or fails as told."""

import os
import tempfile
import unittest
from unittest import mock

from daxrs import settings
from daxrs.kernel import kconfig
from daxrs.results import Status
from daxrs.series import lint
from daxrs.series.materialise import Source

MAKEFILE = """\
all:
\t@if [ -e $(CURDIR)/broken ]; then \\
\t  echo "include/linux/x.h:1:2: error: implicit declaration of function 'f'"; exit 2; fi
\t@if [ -e $(CURDIR)/warns ]; then \\
\t  printf 'warning: unused variable: `x`\\n  --> $(CURDIR)/drivers/x.rs:3:9\\n'; fi
\t@echo built
allnoconfig:
\t@echo "# CONFIG_FOO is not set" > $(O)/.config
olddefconfig:
\t@sed -i /CONFIG_DROPPED/d $(O)/.config
"""

# scripts/kconfig/merge_config.sh -m -O DIR BASE FRAGMENT...: what the
# kernel's script does in merge-only mode, for the fake tree.
MERGE_CONFIG = """\
#!/bin/sh
[ "$1" = -m ] && [ "$2" = -O ] || exit 2
out=$3 base=$4
shift 4
tmp=$(mktemp)
cp "$base" "$tmp"
for frag in "$@"; do
	for sym in $(sed -n 's/^\\(# \\)\\{0,1\\}\\(CONFIG_[A-Za-z0-9_]*\\)[= ].*/\\2/p' "$frag"); do
		sed -i "/^\\(# \\)\\{0,1\\}$sym[= ]/d" "$tmp"
	done
	cat "$frag" >> "$tmp"
done
cp "$tmp" "$out/.config"
rm -f "$tmp"
"""


class OtherConfigTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.src = os.path.join(self.tmp.name, "src")
        os.makedirs(self.src)
        with open(os.path.join(self.src, "Makefile"), "w") as f:
            f.write(MAKEFILE)
        script = os.path.join(self.src, "scripts", "kconfig", "merge_config.sh")
        os.makedirs(os.path.dirname(script))
        with open(script, "w") as f:
            f.write(MERGE_CONFIG)
        os.chmod(script, 0o755)
        self.patches = [mock.patch.object(settings, "CACHE", self.tmp.name),
                        mock.patch("daxrs.series.lint.say"),
                        mock.patch("daxrs.series.lint._rust_files",
                                   return_value={"drivers/x.rs"})]
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

    def test_the_fragment_is_merged_over_the_target(self):
        self.rows()
        got = kconfig.parse_config(os.path.join(
            self.tmp.name, "out", "series-arm64-rust", ".config"))
        self.assertEqual(got["CONFIG_DAX_RUST"], "y")
        self.assertEqual(got["CONFIG_FOO"], "n")

    def test_a_fragment_symbol_that_does_not_resolve_fails(self):
        frag = os.path.join(self.tmp.name, "frag.config")
        with open(frag, "w") as f:
            f.write("CONFIG_RUST=y\nCONFIG_DROPPED=y\n")
        cfg = lint.OtherConfig("arm64-test", "arm64", "allnoconfig", "test",
                               fragment=frag)
        with mock.patch.object(lint, "OTHER_CONFIGS", (cfg,)):
            rows = self.rows()
        self.assertEqual(rows[0].status, Status.FAIL)
        self.assertIn("CONFIG_DROPPED: asked y, got n", rows[0].detail)

    def test_a_rust_warning_in_a_series_file_fails_the_clippy_build(self):
        open(os.path.join(self.src, "warns"), "w").close()
        rows = {r.test: r for r in self.rows()}
        self.assertEqual(rows["builds in x86_64-allnoconfig"].status, Status.PASS)
        self.assertEqual(rows["builds in arm64-rust"].status, Status.FAIL)
        self.assertIn("drivers/x.rs:3: unused variable", rows["builds in arm64-rust"].detail)

    def test_a_tree_that_breaks_fails_with_the_error(self):
        open(os.path.join(self.src, "broken"), "w").close()
        rows = self.rows()
        self.assertEqual(rows[0].status, Status.FAIL)
        self.assertIn("implicit declaration of function 'f'", rows[0].detail)
        self.assertIn("x86_64-allnoconfig", rows[0].test)


if __name__ == "__main__":
    unittest.main()
