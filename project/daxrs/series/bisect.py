# SPDX-License-Identifier: GPL-2.0
"""`./daxrs series bisect`: every patch must build on its own, in the test
config and in the lint's other configs."""

import os
import shutil
import subprocess

from daxrs import settings
from daxrs.base import ensure_base
from daxrs.host import ensure_host
from daxrs.kernel import kbuild, kconfig, testmods
from daxrs.proc import Fail, fmt_secs, git, now, say
from daxrs.series import lint
from daxrs.series.materialise import materialise_series, series_commits


def _build_step(wt: str, out: str, tools: dict, log: str) -> int:
    """make CLIPPY=1 and the mock test modules at the checked-out commit,
    into log; the exit status."""
    env = kbuild.build_env()
    with open(log, "w") as logf:
        rc = subprocess.run(kbuild.make_cmd(wt, out, tools, "CLIPPY=1"), env=env,
                            stdout=logf, stderr=subprocess.STDOUT).returncode
    if rc == 0:
        try:
            testmods.build_test_modules(wt, out, tools, env)
        except Fail as e:
            rc = 1
            with open(log, "a") as logf:
                logf.write(f"\n{e}\n")
    return rc


def patch_range(first: int, last: int | None, n: int) -> tuple[int, int]:
    """The 1-based patch range [first, last] of a series of n patches, or
    Fail saying what is wrong with it."""
    last = n if last is None else last
    if not 1 <= first <= last <= n:
        raise Fail(f"bisect: --from {first} --to {last} is not a range of the series' "
                   f"{n} patches (1 <= from <= to <= {n})")
    return first, last


def check_builds(first: int = 1, last: int | None = None) -> int:
    """Build the test config and the mock test modules (nfit_test, cxl_test)
    after each patch from `first` to `last` (1-based, default all), and the
    lint's other configs (lint.OTHER_CONFIGS); 0, or Fail naming the
    patches that do not build.  A range lets the check be split over
    several runs of the same tree; each names the tree's tip.

    It walks the series work tree from the first patch to the last and
    builds each in the series build dir, so each step recompiles only what
    that patch changed; the work tree ends at the tip again.  The series
    fragment's symbols are required at the tip only: before the patch that
    adds a symbol's Kconfig it is left out."""
    tools = ensure_host()
    src = materialise_series(ensure_base())
    wt = src.path
    commits = series_commits(wt, src.tip)
    first, last = patch_range(first, last, len(commits))
    out = os.path.join(settings.CACHE, "out", "series")
    failed = []
    say(f"bisect: patches {first}-{last} of {len(commits)}, series tip {src.tip[:12]}")
    try:
        for i, c in enumerate(commits, 1):
            if not first <= i <= last:
                continue
            subject = git(wt, "log", "-1", "--format=%s", c).strip()
            git(wt, "checkout", "-q", "--detach", c)
            say(f"bisect check {i}/{len(commits)}: {subject}")
            kconfig.configure(wt, out, tools, require_series=(c == src.tip))
            log = os.path.join(out, f"bisect-{i:04d}.log")
            t0 = now()
            rc = _build_step(wt, out, tools, log)
            say(f"  {'builds' if rc == 0 else 'does NOT build'} ({fmt_secs(now() - t0)}, "
                f"log {log})")
            if rc != 0:
                failed.append(f"{i:04d} {subject} (log: {log})")
            for cfg in lint.OTHER_CONFIGS:
                if not (cfg.every_patch or c == src.tip):
                    continue
                t0 = now()
                rc, olog = lint.other_config_build(wt, tools, cfg)
                say(f"  {cfg.name}: {'builds' if rc == 0 else 'does NOT build'} "
                    f"({fmt_secs(now() - t0)}, log {olog})")
                if rc != 0:
                    kept = f"{out}-{cfg.name}-bisect-{i:04d}.log"
                    shutil.copyfile(olog, kept)
                    failed.append(f"{i:04d} {subject} in {cfg.name} (log: {kept})")
    finally:
        git(wt, "checkout", "-q", "--detach", src.tip)
    if failed:
        raise Fail("patches that do not build on their own:\n" +
                   "\n".join("    " + x for x in failed))
    say(f"patches {first}-{last} of {len(commits)} build on their own "
        f"(series tip {src.tip[:12]})")
    return 0
