# SPDX-License-Identifier: GPL-2.0
"""`daxrs series ACTION`: dispatch to the series stages."""

import os

from daxrs import settings
from daxrs.proc import git, say


def run(args):
    if args.action == "materialise":
        from daxrs.series.materialise import source_tree
        src = source_tree("series")
        print(git(src.path, "log", "--oneline", "refs/tags/base~0..HEAD").rstrip()
              or "(no patches)")
        say(f"series work tree: {src.path} (tag 'base' is the pinned base). Edit with git "
            "there, then `./daxrs series export`.")
        return 0
    if args.action == "export":
        from daxrs.series.export import export
        return export()
    if args.action == "emit":
        from daxrs.series.emit import emit
        from daxrs.series.materialise import source_tree
        from daxrs.series.model import read_cover
        hdr, _ = read_cover()
        out = args.output or os.path.join(settings.CACHE, "outgoing", f"v{hdr['Version']}")
        for p in emit(out, source_tree("series"), check=not args.no_check,
                      table=not args.no_table):
            print("  " + p)
        return 0
    if args.action == "lint":
        from daxrs import report
        from daxrs.base import ensure_base
        from daxrs.host import ensure_host
        from daxrs.kernel.kbuild import build
        from daxrs.results import Status
        from daxrs.series import lint
        from daxrs.series.materialise import source_tree
        tools = ensure_host()
        src = source_tree("series")
        kern = build(src, tools, lint=True)
        rows = lint.checkpatch_results(ensure_base(), src) + \
            lint.rustfmt_results(kern, tools, src) + lint.clippy_results(kern, src) + \
            lint.rustdoc_results(kern, tools, src) + lint.kunit_module_results(kern, src) + \
            lint.other_config_results(src, tools)
        print(report.tables(rows))
        print(report.summary_line(rows))
        return 1 if any(r.status is Status.FAIL for r in rows) else 0
    if args.action == "bisect":
        from daxrs.series.bisect import check_builds
        return check_builds(args.first, args.last)
    raise AssertionError(args.action)
