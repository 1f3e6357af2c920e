# SPDX-License-Identifier: GPL-2.0
"""Lints of the series: checkpatch --strict on the emitted patches,
rustfmt, clippy and rustdoc on the Rust files the series adds or changes,
and builds in configs unlike the test kernel's.  Findings in the base's own
files are not the series' and do not fail."""

import os
import re
import subprocess
import tempfile
from typing import NamedTuple

from daxrs import settings
from daxrs.kernel import kbuild, kconfig
from daxrs.proc import fmt_secs, git, now, read_text, say
from daxrs.results import Kind, Result, Status
from daxrs.series.emit import emit
from daxrs.series.materialise import Source
from daxrs.series.model import read_series

CLIPPY_RE = re.compile(r"^(warning|error)(\[\w+\])?: (.*)\n(?:.*\n){0,3}?\s*--> ([^:\s]+):(\d+)",
                       re.M)


class OtherConfig(NamedTuple):
    """A config the series must build in besides the test kernel's."""
    name: str           # out/series-<name>, and the lint row
    arch: str           # ARCH=
    target: str         # the config target it starts from
    what: str           # how it differs from the test kernel, for the row
    fragment: str = ""  # merged over the target; each symbol must resolve
    make: tuple = ()    # extra make arguments
    every_patch: bool = True    # series bisect builds it after every patch


# The test kernel has every option the series touches; a header helper
# defined only under an option, or code that builds on x86 only, is caught
# here.  The arm64 build is the Rust selection on an architecture other
# than x86 (LLVM cross build, clippy): the Rust code builds there from
# patch 57 on, so bisect checks it at the tip only.
OTHER_CONFIGS = (
    OtherConfig("x86_64-allnoconfig", "x86_64", "allnoconfig",
                "no ZONE_DEVICE, THP, FS_DAX, MEMORY_FAILURE or Rust"),
    OtherConfig("arm64-rust", "arm64", "allnoconfig",
                "arm64 LLVM cross build of the Rust selection (DAX_RUST), CLIPPY=1",
                fragment=os.path.join(settings.PROJECT, "config", "arm64-rust.config"),
                make=("CLIPPY=1",), every_patch=False),
)


def _row(test: str, status: Status, detail: str = "") -> Result:
    return Result(suite="lint", test=test, status=status, detail=detail, kind=Kind.CASE)


def series_files(src: Source) -> tuple[list[str], list[str]]:
    """(added, changed): the kernel-tree paths the series adds and changes."""
    added: list[str] = []
    for _, adds in read_series():
        added += adds
    changed = [p for p in git(src.path, "diff", "--no-renames", "--name-only",
                              "refs/tags/base", src.tip).split("\n")
               if p and p not in added]
    return added, changed


def _rust_files(src: Source) -> set[str]:
    added, changed = series_files(src)
    return {p for p in added + changed if p.endswith(".rs")}


def checkpatch_results(base: str, src: Source) -> list[Result]:
    """checkpatch --strict, run from the base tree, on every patch as
    emitted (without the git am check or test table)."""
    rows = []
    patches: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        if src.npatches:
            patches = emit(os.path.join(tmp, "out"), src, check=False, table=False)[1:]
        # /usr/bin first: spdxcheck.py needs the python3 that has ply and git
        env = dict(os.environ, PATH="/usr/bin:" + os.environ.get("PATH", ""))
        for p in patches:
            test = f"checkpatch --strict {os.path.basename(p)}"
            r = subprocess.run(["perl", "scripts/checkpatch.pl", "--strict", "--no-color",
                                "--show-types", p], cwd=base, capture_output=True,
                               text=True, env=env)
            if "Traceback" in r.stderr:
                rows.append(_row(test, Status.FAIL, "checkpatch's helper crashed: " +
                                 r.stderr.strip()[-200:]))
                continue
            m = re.search(r"total: (\d+) errors, (\d+) warnings, (\d+) checks", r.stdout)
            if not m:
                rows.append(_row(test, Status.FAIL, "checkpatch did not run: " +
                                 (r.stderr or r.stdout)[-200:]))
                continue
            findings = [x for x in r.stdout.splitlines()
                        if re.match(r"(ERROR|WARNING|CHECK):", x)]
            if m.groups() == ("0", "0", "0"):
                rows.append(_row(test, Status.PASS))
            else:
                rows.append(_row(test, Status.FAIL,
                                 f"{m.group(1)} errors, {m.group(2)} warnings, "
                                 f"{m.group(3)} checks: " + " | ".join(findings[:4])))
    if not patches:
        rows.append(_row("checkpatch --strict (the series is empty)", Status.SKIP))
    return rows


def rustfmt_results(kern: "kbuild.Kernel", tools: dict, src: Source) -> list[Result]:
    """make rustfmtcheck on the series tree; findings in files the series
    adds or changes fail, the base's own are only counted."""
    test = "make rustfmtcheck (Rust files of the series)"
    mine = _rust_files(src)
    r = subprocess.run(kbuild.make_cmd(kern.src, kern.out, tools, "rustfmtcheck"),
                       env=kbuild.build_env(), capture_output=True, text=True)
    diffs = set()
    for m in re.finditer(r"^Diff in (\S+?)(?::\d+|\s+at line \d+)", r.stdout + r.stderr, re.M):
        diffs.add(os.path.relpath(m.group(1), kern.src))
    bad = sorted(diffs & mine)
    other = len(diffs - mine)
    note = f" (the base itself has {other} file(s) rustfmt would change)" if other else ""
    if not mine:
        return [_row(test, Status.SKIP, "the series has no Rust files yet" + note)]
    return [_row(test, Status.FAIL if bad else Status.PASS,
                 ("not formatted: " + ", ".join(bad) if bad else
                  f"{len(mine)} file(s) formatted") + note)]


def _rust_findings(log: str, src: str, out: str, mine: set[str]) -> list[str]:
    """rustc and clippy warnings and errors of a build log that are in the
    files of mine (paths relative to the tree src, built in out)."""
    found = []
    for m in CLIPPY_RE.finditer(log):
        where = m.group(4)
        path = os.path.relpath(where, src) if where.startswith("/") else \
            os.path.relpath(os.path.normpath(os.path.join(out, where)), src)
        if path in mine:
            found.append(f"{path}:{m.group(5)}: {m.group(3)}")
    return found


def clippy_results(kern: "kbuild.Kernel", src: Source) -> list[Result]:
    """Clippy findings (the series builds with CLIPPY=1) in the series' Rust
    files, from the build log of a build that recompiled them."""
    test = "CLIPPY=1 (Rust files of the series)"
    mine = _rust_files(src)
    if not mine:
        return [_row(test, Status.SKIP, "the series has no Rust files yet")]
    logf = os.path.join(kern.out, "build.log")
    if not os.path.exists(logf):
        return [_row(test, Status.FAIL, f"no build log at {logf}")]
    found = _rust_findings(read_text(logf), kern.src, kern.out, mine)
    return [_row(test, Status.FAIL if found else Status.PASS,
                 " | ".join(sorted(set(found))[:5]) if found else
                 f"{len(mine)} file(s) clean")]


def _tail_lines(text: str, n: int) -> list[str]:
    return [x for x in text.splitlines() if x.strip()][-n:]


def rustdoc_results(kern: "kbuild.Kernel", tools: dict, src: Source) -> list[Result]:
    """make rustdoc: warnings (broken intra-doc links, bad markup) in the
    series' Rust files fail; a failed rustdoc run fails."""
    test = "make rustdoc (Rust files of the series)"
    mine = _rust_files(src)
    if not mine:
        return [_row(test, Status.SKIP, "the series has no Rust files yet")]
    r = subprocess.run(kbuild.make_cmd(kern.src, kern.out, tools, "rustdoc"),
                       env=kbuild.build_env(), capture_output=True, text=True)
    found = []
    for m in CLIPPY_RE.finditer(r.stdout + r.stderr):
        path = os.path.relpath(m.group(4), kern.src) if m.group(4).startswith("/") \
            else m.group(4)
        if path in mine:
            found.append(f"{path}:{m.group(5)}: {m.group(3)}")
    if r.returncode != 0:
        found.append("make rustdoc failed: " + " ".join(_tail_lines(r.stdout + r.stderr, 3)))
    return [_row(test, Status.FAIL if found else Status.PASS,
                 " | ".join(sorted(set(found))[:5]) if found else
                 f"{len(mine)} file(s) clean")]


def kunit_module_rows(added: list[str], src_root: str, out: str) -> list[Result]:
    """For each KUnit test file among the series' added files, whether the
    test kernel built it as a module: its Makefile's obj-$(CONFIG_X) line
    names the symbol, which must be =m in out/.config, and the .ko must be
    there.  A =m build runs modpost, which fails on a test that calls
    symbols the kernel does not export; a built-in test would hide that."""
    tests = sorted(p for p in added if p.endswith(".c") and "kunit" in os.path.basename(p))
    if not tests:
        return [_row("KUnit tests of the series build as modules", Status.SKIP,
                     "the series adds no KUnit test file")]
    config = set(read_text(os.path.join(out, ".config"), "").splitlines())
    rows = []
    for path in tests:
        where, name = os.path.split(path)
        name = name[:-2]
        test = f"KUnit test {path} builds as a module"
        mk = read_text(os.path.join(src_root, where, "Makefile"), "")
        m = re.search(rf"^obj-\$\((CONFIG_\w+)\)\s*\+=\s*{re.escape(name)}\.o\b", mk, re.M)
        if not m:
            rows.append(_row(test, Status.FAIL, f"no 'obj-$(CONFIG_...) += {name}.o' in "
                             f"{where}/Makefile"))
        elif f"{m.group(1)}=m" not in config:
            rows.append(_row(test, Status.FAIL, f"{m.group(1)} is not =m in {out}/.config: "
                             "set it to m in project/config/test-kernel.series.config"))
        elif not os.path.exists(os.path.join(out, where, name + ".ko")):
            rows.append(_row(test, Status.FAIL, f"{m.group(1)}=m but {where}/{name}.ko "
                             "was not built"))
        else:
            rows.append(_row(test, Status.PASS, f"{m.group(1)}=m, {where}/{name}.ko linked "
                             "(modpost found every symbol it uses)"))
    return rows


def kunit_module_results(kern: "kbuild.Kernel", src: Source) -> list[Result]:
    """kunit_module_rows() for the series tree and its build."""
    added, _ = series_files(src)
    return kunit_module_rows(added, kern.src, kern.out)


def other_config_build(src_path: str, tools: dict, cfg: OtherConfig,
                       env: dict | None = None) -> tuple[int, str]:
    """Configure and build src_path in out/series-<cfg.name>, with a
    progress line every 30 s; (exit status, log of the failing step)."""
    out = os.path.join(settings.CACHE, "out", f"series-{cfg.name}")
    os.makedirs(out, exist_ok=True)
    log = os.path.join(out, "build.log")
    clog = os.path.join(out, "config.log")
    env = env or kbuild.build_env()
    arch = f"ARCH={cfg.arch}"
    config = os.path.join(out, ".config")
    with open(clog, "w") as logf:
        steps = [kbuild.make_cmd(src_path, out, tools, arch, cfg.target)]
        if cfg.fragment:
            # The target's .config with the fragment over it, resolved.
            steps += [kconfig.merge_cmd(src_path, out, config, [cfg.fragment]),
                      kbuild.make_cmd(src_path, out, tools, arch, "olddefconfig")]
        for cmd in steps:
            rc = subprocess.run(cmd, env=env, cwd=src_path, stdout=logf,
                                stderr=subprocess.STDOUT).returncode
            if rc != 0:
                return rc, clog
        if cfg.fragment:
            bad = kconfig.unresolved(kconfig.parse_config(cfg.fragment), config)
            if bad:
                logf.write(f"error: {os.path.basename(cfg.fragment)} does not resolve as "
                           "written (a dependency is missing or a symbol is misspelt): " +
                           "; ".join(bad) + "\n")
                return 1, clog
    rc, _ = kbuild.counted_make(out, kbuild.make_cmd(src_path, out, tools, arch, *cfg.make),
                                env, log, f"series-{cfg.name}")
    return rc, log


def other_config_results(src: Source, tools: dict) -> list[Result]:
    """One row per OTHER_CONFIGS entry: the series tip builds in it."""
    rows = []
    for cfg in OTHER_CONFIGS:
        say(f"building the series in {cfg.name} ({cfg.what})")
        t0 = now()
        rc, log = other_config_build(src.path, tools, cfg)
        test = f"builds in {cfg.name}"
        # the series' Rust files were touched for the test kernel's
        # clippy build: this build compiled them again
        found = _rust_findings(read_text(log, ""), src.path,
                               os.path.join(settings.CACHE, "out", f"series-{cfg.name}"),
                               _rust_files(src)) if rc == 0 and cfg.make else []
        if found:
            rows.append(_row(test, Status.FAIL, f"{cfg.what}: " +
                             " | ".join(sorted(set(found))[:5]) + f" (log: {log})"))
        elif rc == 0:
            rows.append(_row(test, Status.PASS, f"{cfg.what}; {fmt_secs(now() - t0)}"))
        else:
            errs = [x for x in kbuild.first_errors(log) if "error" in x][:3]
            rows.append(_row(test, Status.FAIL, f"{cfg.what}: " + " | ".join(errs) +
                             f" (log: {log})"))
    return rows
