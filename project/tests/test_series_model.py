# SPDX-License-Identifier: GPL-2.0
"""Tests of the series stages that need no kernel tree (seconds): the series
definition's checks, the work-tree policy of materialise, and the series
config fragment's requirement.  Run with
`python3 -m unittest discover -s project/tests -p 'test_series*.py'`."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from daxrs import settings  # noqa: E402
from daxrs.kernel import kconfig  # noqa: E402
from daxrs.proc import Fail, git  # noqa: E402
from daxrs.series import emit, materialise, model  # noqa: E402


class Patched:
    """Point settings at a temporary repository for one test."""

    NAMES = ("REPO", "SERIES_DIR", "SERIES_FILE", "COVER", "SERIES_FRAGMENT")

    def __init__(self, root):
        self.values = {
            "REPO": root,
            "SERIES_DIR": os.path.join(root, "project", "series"),
            "SERIES_FILE": os.path.join(root, "project", "series", "series"),
            "COVER": os.path.join(root, "project", "series", "cover-letter"),
            "SERIES_FRAGMENT": os.path.join(root, "project", "config", "series.config"),
        }

    def __enter__(self):
        self.saved = {k: getattr(settings, k) for k in self.NAMES}
        for k, v in self.values.items():
            setattr(settings, k, v)
        return self

    def __exit__(self, *exc):
        for k, v in self.saved.items():
            setattr(settings, k, v)


class SeriesDefinition(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name
        self.patch = Patched(self.root)
        self.patch.__enter__()
        os.makedirs(settings.SERIES_DIR)
        open(os.path.join(settings.SERIES_DIR, "0001-a.patch"), "w").close()
        os.makedirs(os.path.join(self.root, "fs", "dax_rs"))
        open(os.path.join(self.root, "fs", "dax_rs", "mod.rs"), "w").close()

    def tearDown(self):
        self.patch.__exit__()
        self.tmp.cleanup()

    def write(self, text):
        with open(settings.SERIES_FILE, "w") as f:
            f.write(text)

    def test_reads_patches_and_added_files(self):
        self.write("# comment\n0001-a.patch\n\t+ fs/dax_rs/mod.rs\n\t~ mm/gup.c\n")
        self.assertEqual(model.read_series(), [("0001-a.patch", ["fs/dax_rs/mod.rs"])])
        self.assertEqual(model.series_patches(),
                         [os.path.join(settings.SERIES_DIR, "0001-a.patch")])

    def test_rejects_combined_marker(self):
        # "+~" is neither '+' nor '~' (it used to pass a substring test)
        self.write("0001-a.patch\n\t+~ fs/dax_rs/mod.rs\n")
        with self.assertRaisesRegex(Fail, "expected '\\+ path' or '~ path'"):
            model.read_series()

    def test_rejects_paths_outside_the_tree(self):
        for path in ("../outside.rs", "fs/../../outside.rs", "/etc/passwd",
                     "./fs/dax_rs/mod.rs", "project/daxrs.py", "daxrs"):
            with self.subTest(path=path):
                self.write(f"0001-a.patch\n\t+ {path}\n")
                with self.assertRaisesRegex(Fail, "not a kernel-tree path"):
                    model.read_series()

    def test_rejects_marker_before_any_patch_and_missing_files(self):
        self.write("\t+ fs/dax_rs/mod.rs\n")
        with self.assertRaises(Fail):
            model.read_series()
        self.write("0002-missing.patch\n")
        with self.assertRaisesRegex(Fail, "not in project/series"):
            model.read_series()
        self.write("0001-a.patch\n\t+ fs/dax_rs/absent.rs\n")
        with self.assertRaisesRegex(Fail, "has no file at"):
            model.read_series()

    def test_cover_from_needs_an_email(self):
        with open(settings.COVER, "w") as f:
            f.write("From: A Maintainer\nSubject: s\nVersion: 2\n\nblurb\n")
        with self.assertRaisesRegex(Fail, "Name <email>"):
            model.read_cover()
        with open(settings.COVER, "w") as f:
            f.write("From: A Maintainer <a@example.org>\nSubject: s\nVersion: 2\n\nblurb\n")
        hdr, blurb = model.read_cover()
        self.assertEqual(model.parse_from(hdr["From"]), ("A Maintainer", "a@example.org"))
        self.assertEqual(blurb, "blurb")


class Slug(unittest.TestCase):
    SUBJECTS = ("mm/gup: remove redundant check for PCI P2PDMA page",
                "fs/dax: v2.0... (again)",
                "  --leading and trailing--  ",
                "rust: mm: a subject long enough to be cut where format-patch cuts it off")

    def test_examples(self):
        self.assertEqual(model.slug(self.SUBJECTS[0]),
                         "mm-gup-remove-redundant-check-for-PCI-P2PDMA-page")
        self.assertEqual(model.slug(self.SUBJECTS[1]), "fs-dax-v2.0.-again")
        self.assertEqual(model.slug(self.SUBJECTS[2]), "leading-and-trailing")
        self.assertLessEqual(len(model.slug("x" * 200)), 52)

    def test_same_as_git_format_patch(self):
        with tempfile.TemporaryDirectory() as d:
            git(d, "init", "-q")
            for i, subject in enumerate(self.SUBJECTS):
                with open(os.path.join(d, "f"), "w") as f:
                    f.write(f"{i}\n")
                git(d, "add", "f")
                git(d, "commit", "-q", "-m", subject)
                out = git(d, "format-patch", "-1", "-o", os.path.join(d, "out"), "HEAD")
                with self.subTest(subject=subject):
                    self.assertEqual(os.path.basename(out.strip()),
                                     f"0001-{model.slug(subject)}.patch")


class WorkTree(unittest.TestCase):
    """The series work tree is moved only when clean and at the previous series."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.wt = self.tmp.name
        git(self.wt, "init", "-q", "-b", "main")
        self.file = os.path.join(self.wt, "gup.c")
        self.commit("one\n")
        self.prev = git(self.wt, "rev-parse", "HEAD").strip()
        self.new = self.commit("two\n")
        git(self.wt, "checkout", "-q", "--detach", self.prev)

    def tearDown(self):
        self.tmp.cleanup()

    def commit(self, text):
        with open(self.file, "w") as f:
            f.write(text)
        git(self.wt, "add", "gup.c")
        git(self.wt, "commit", "-q", "-m", text.strip())
        return git(self.wt, "rev-parse", "HEAD").strip()

    def test_clean_at_previous_tip_moves(self):
        self.assertEqual(materialise.worktree_state(self.wt), [])
        self.assertTrue(materialise.check_worktree(self.wt, self.prev, self.new))

    def test_clean_at_new_tip_stays(self):
        git(self.wt, "checkout", "-q", "--detach", self.new)
        self.assertFalse(materialise.check_worktree(self.wt, self.prev, self.new))

    def test_untracked_files_do_not_count(self):
        with open(os.path.join(self.wt, "notes.txt"), "w") as f:
            f.write("mine\n")
        self.assertEqual(materialise.worktree_state(self.wt), [])

    def test_dirty_is_refused(self):
        with open(self.file, "a") as f:
            f.write("an edit\n")
        self.assertEqual(materialise.worktree_state(self.wt), ["gup.c"])
        with self.assertRaisesRegex(Fail, "dirty") as cm:
            materialise.check_worktree(self.wt, self.prev, self.new)
        self.assertIn("gup.c", str(cm.exception))
        self.assertIn("stash", str(cm.exception))
        self.assertIn("series export", str(cm.exception))
        # nothing was thrown away
        with open(self.file) as f:
            self.assertEqual(f.read(), "one\nan edit\n")

    def test_staged_change_is_dirty(self):
        with open(self.file, "a") as f:
            f.write("staged\n")
        git(self.wt, "add", "gup.c")
        self.assertEqual(materialise.worktree_state(self.wt), ["gup.c"])

    def test_commits_not_exported_are_refused(self):
        mine = self.commit("my own work\n")
        with self.assertRaisesRegex(Fail, "not exported") as cm:
            materialise.check_worktree(self.wt, self.prev, self.new)
        self.assertIn("checkout --detach series", str(cm.exception))
        self.assertEqual(git(self.wt, "rev-parse", "HEAD").strip(), mine)


PATCH = """\
From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
From: A U Thor <author@example.org>
Date: Mon, 1 Jan 2024 00:00:00 +0000
Subject: [PATCH] mm/gup: say {new}

Signed-off-by: A U Thor <author@example.org>
---
diff --git a/mm/gup.c b/mm/gup.c
--- a/mm/gup.c
+++ b/mm/gup.c
@@ -1 +1 @@
-old
+{new}
"""


class Materialise(unittest.TestCase):
    """materialise_series on a toy base: commits, memo, and the work-tree policy."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        root = self.tmp.name
        self.base = os.path.join(root, "base")
        os.makedirs(os.path.join(self.base, "mm"))
        with open(os.path.join(self.base, "mm", "gup.c"), "w") as f:
            f.write("old\n")
        git(self.base, "init", "-q", "-b", "pristine")
        git(self.base, "add", "-A")
        git(self.base, "commit", "-q", "-m", "base")
        git(self.base, "tag", "base")
        self.patch = Patched(os.path.join(root, "repo"))
        self.patch.__enter__()
        self.saved = (settings.CACHE, materialise.say)
        settings.CACHE = os.path.join(root, "cache")
        materialise.say = lambda msg: None
        os.makedirs(settings.SERIES_DIR)
        with open(settings.SERIES_FILE, "w") as f:
            f.write("0001-gup.patch\n\t+ fs/dax_rs/new.rs\n\t~ mm/gup.c\n")
        self.define("new", "// v1\n")
        self.wt = os.path.join(settings.CACHE, "src", "series")

    def tearDown(self):
        settings.CACHE, materialise.say = self.saved
        self.patch.__exit__()
        self.tmp.cleanup()

    def define(self, word, added):
        with open(os.path.join(settings.SERIES_DIR, "0001-gup.patch"), "w") as f:
            f.write(PATCH.format(new=word))
        path = os.path.join(settings.REPO, "fs", "dax_rs", "new.rs")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(added)

    def read(self, path):
        with open(os.path.join(self.wt, path)) as f:
            return f.read()

    def head(self):
        return git(self.wt, "rev-parse", "HEAD").strip()

    def branch(self):
        return git(self.base, "rev-parse", "refs/heads/series").strip()

    def test_commits_and_memo(self):
        src = materialise.materialise_series(self.base)
        self.assertEqual((src.variant, src.path, src.npatches), ("series", self.wt, 1))
        self.assertEqual(self.head(), src.tip)
        self.assertEqual(self.branch(), src.tip)
        self.assertEqual(git(self.wt, "rev-parse", "HEAD^{tree}").strip(), src.tree)
        self.assertEqual((self.read("mm/gup.c"), self.read("fs/dax_rs/new.rs")),
                         ("new\n", "// v1\n"))
        self.assertEqual(materialise.series_commits(self.wt, src.tip), [src.tip])
        self.assertIs(materialise.materialise_series(self.base), src)

    def test_follows_the_repository_when_clean(self):
        first = materialise.materialise_series(self.base)
        self.define("newer", "// v2\n")
        second = materialise.materialise_series(self.base)
        self.assertNotEqual(first.tip, second.tip)
        self.assertEqual(self.head(), second.tip)
        self.assertEqual(self.read("fs/dax_rs/new.rs"), "// v2\n")

    def test_dirty_work_tree_stops_and_keeps_everything(self):
        first = materialise.materialise_series(self.base)
        with open(os.path.join(self.wt, "mm", "gup.c"), "a") as f:
            f.write("an edit\n")
        self.define("newer", "// v2\n")
        with self.assertRaisesRegex(Fail, "dirty"):
            materialise.materialise_series(self.base)
        # nothing moved: the branch still names the series the work tree is on
        self.assertEqual((self.head(), self.branch()), (first.tip, first.tip))
        self.assertEqual(self.read("mm/gup.c"), "new\nan edit\n")
        git(self.wt, "stash", "-q")
        second = materialise.materialise_series(self.base)
        self.assertEqual(self.head(), second.tip)

    def test_unexported_commits_stop(self):
        materialise.materialise_series(self.base)
        with open(os.path.join(self.wt, "mm", "gup.c"), "w") as f:
            f.write("mine\n")
        git(self.wt, "commit", "-q", "-a", "-m", "mine")
        mine = self.head()
        self.define("newer", "// v2\n")
        with self.assertRaisesRegex(Fail, "not exported"):
            materialise.materialise_series(self.base)
        self.assertEqual(self.head(), mine)

    def test_emit_takes_the_table_of_exactly_this_tree(self):
        src = materialise.materialise_series(self.base)
        with open(settings.COVER, "w") as f:
            f.write("From: A Maintainer <m@example.org>\nSubject: the series\n"
                    "Version: 2\n\nWhat it does.\n")
        saved = (settings.RESULTS, emit.say)
        settings.RESULTS = os.path.join(settings.CACHE, "results")
        emit.say = lambda msg: None
        try:
            out = os.path.join(self.tmp.name, "out")
            with self.assertRaisesRegex(Fail, f"tree {src.tree[:12]}.*--no-table"):
                emit.emit(out, src, check=False)
            patches = emit.emit(out, src, check=False, table=False)
            with open(patches[0]) as f:
                cover = f.read()
            self.assertIn("(no test results in this mail)", cover)
            self.assertIn("Subject: [PATCH v2 0/1] the series", cover)
            self.assertIn("From: A Maintainer <m@example.org>", cover)
            self.assertEqual(len(patches), 2)
            table = os.path.join(settings.RESULTS, "by-tree", src.tree + ".md")
            os.makedirs(os.path.dirname(table))
            with open(table, "w") as f:
                f.write("| suite | base | series |\n")
            with open(emit.emit(out, src, check=False)[0]) as f:
                self.assertIn("| suite | base | series |", f.read())
        finally:
            settings.RESULTS, emit.say = saved


class SeriesConfigSymbols(unittest.TestCase):
    """The series fragment's symbols must exist in the series tree."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.src = self.tmp.name
        for path, text in (
                ("samples/rust/Kconfig", "config SAMPLE_RUST_DAX_ABSTRACTIONS\n"
                                         "\ttristate \"DAX abstractions\"\n"),
                ("mm/Kconfig.debug", "menuconfig ZONE_DEVICE_FOLIO_KUNIT_TEST\n\tbool\n"),
                ("mm/notkconfig.txt", "config NOT_A_KCONFIG_FILE\n"),
                ("mm/Kconfig", "\tdepends on SOMETHING_ELSE\n# config COMMENTED_OUT\n")):
            os.makedirs(os.path.dirname(os.path.join(self.src, path)), exist_ok=True)
            with open(os.path.join(self.src, path), "w") as f:
                f.write(text)

    def tearDown(self):
        self.tmp.cleanup()

    def test_missing_symbols(self):
        frag = {"CONFIG_SAMPLE_RUST_DAX_ABSTRACTIONS": "m",
                "CONFIG_GONE": "y",
                "CONFIG_ZONE_DEVICE_FOLIO_KUNIT_TEST": "y",
                "CONFIG_NOT_A_KCONFIG_FILE": "y",
                "CONFIG_SOMETHING_ELSE": "y",
                "CONFIG_COMMENTED_OUT": "y"}
        self.assertEqual(kconfig.missing_series_symbols(self.src, frag),
                         ["CONFIG_GONE", "CONFIG_NOT_A_KCONFIG_FILE",
                          "CONFIG_SOMETHING_ELSE", "CONFIG_COMMENTED_OUT"])
        self.assertTrue(kconfig.kconfig_defines(self.src, "CONFIG_SAMPLE_RUST_DAX_ABSTRACTIONS"))
        self.assertFalse(kconfig.kconfig_defines(self.src, "CONFIG_SAMPLE_RUST_DAX"))

    def test_required_at_the_tip_dropped_in_the_middle(self):
        with Patched(self.src):
            os.makedirs(os.path.dirname(settings.SERIES_FRAGMENT))
            with open(settings.SERIES_FRAGMENT, "w") as f:
                f.write("# ours\nCONFIG_SAMPLE_RUST_DAX_ABSTRACTIONS=m\nCONFIG_GONE=y\n")
            with self.assertRaisesRegex(Fail, "no longer defines CONFIG_GONE") as cm:
                kconfig._series_fragment(self.src, require_series=True)
            self.assertIn("fix the fragment or the series", str(cm.exception))
            self.assertEqual(kconfig._series_fragment(self.src, require_series=False),
                             {"CONFIG_SAMPLE_RUST_DAX_ABSTRACTIONS": "m"})


if __name__ == "__main__":
    unittest.main()


class KunitModules(unittest.TestCase):
    """lint: the KUnit tests the series adds must be built as modules."""

    def setUp(self):
        from daxrs.series import lint
        self.rows = lint.kunit_module_rows
        self.tmp = tempfile.TemporaryDirectory()
        self.src = os.path.join(self.tmp.name, "src")
        self.out = os.path.join(self.tmp.name, "out")
        os.makedirs(os.path.join(self.src, "mm"))
        os.makedirs(os.path.join(self.out, "mm"))
        with open(os.path.join(self.src, "mm", "Makefile"), "w") as f:
            f.write("obj-y += memory.o\nobj-$(CONFIG_FOO_KUNIT_TEST) += foo_kunit.o\n")

    def tearDown(self):
        self.tmp.cleanup()

    def config(self, value):
        with open(os.path.join(self.out, ".config"), "w") as f:
            f.write(f"CONFIG_MMU=y\nCONFIG_FOO_KUNIT_TEST={value}\n")

    def status(self):
        rows = self.rows(["mm/foo_kunit.c", "mm/other.c"], self.src, self.out)
        self.assertEqual(len(rows), 1)
        return rows[0].status.name, rows[0].detail

    def test_module_built_passes(self):
        self.config("m")
        open(os.path.join(self.out, "mm", "foo_kunit.ko"), "w").close()
        self.assertEqual(self.status()[0], "PASS")

    def test_built_in_fails(self):
        self.config("y")
        open(os.path.join(self.out, "mm", "foo_kunit.ko"), "w").close()
        status, detail = self.status()
        self.assertEqual(status, "FAIL")
        self.assertIn("CONFIG_FOO_KUNIT_TEST is not =m", detail)

    def test_missing_ko_fails(self):
        self.config("m")
        self.assertEqual(self.status()[0], "FAIL")

    def test_no_makefile_line_fails(self):
        self.config("m")
        with open(os.path.join(self.src, "mm", "Makefile"), "w") as f:
            f.write("obj-y += memory.o\n")
        self.assertIn("no 'obj-", self.status()[1])

    def test_no_kunit_file_skips(self):
        rows = self.rows(["mm/other.c"], self.src, self.out)
        self.assertEqual([r.status.name for r in rows], ["SKIP"])
