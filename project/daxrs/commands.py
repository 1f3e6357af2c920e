# SPDX-License-Identifier: GPL-2.0
"""The commands: each runs the pipeline's stages in order, passing the
state of the run explicitly (Source -> Kernel -> Boot -> rows -> Verdict)."""

import contextlib
import dataclasses
import datetime
import io
import json
import os
import shlex
import sys
import unittest

from daxrs import baseline, report, settings, verdict
from daxrs.base import ensure_base
from daxrs.host import ensure_host
from daxrs.kernel import kconfig
from daxrs.kernel.kbuild import build
from daxrs.kernel.testmods import build_helpers
from daxrs.parse import kernel_log
from daxrs.proc import Fail, fmt_secs, now, read_text, say
from daxrs.results import Kind, Result, RunMeta, Status, to_json, write_tsv
from daxrs.series.materialise import source_tree
from daxrs.suites import collect, registry
from daxrs.suites.user import suites_plan
from daxrs.vm import boot as vm


@dataclasses.dataclass
class VariantRun:
    meta: RunMeta
    rows: list
    reports: list          # kernel reports (parse.kernel_log.Report)
    res: str               # the test guest's results dir
    kern: object


def tooling_rows():
    """The tooling's own unit tests (project/tests), one row each."""
    suite = unittest.defaultTestLoader.discover(settings.TESTS_DIR,
                                                top_level_dir=settings.TESTS_DIR)
    rows = []

    class Collect(unittest.TestResult):
        def addSuccess(self, test):
            rows.append(Result("tooling", test.id(), Status.PASS))

        def addFailure(self, test, err):
            msg = (str(err[1]).splitlines() or [""])[0][:200]
            rows.append(Result("tooling", test.id(), Status.FAIL, msg))

        def addError(self, test, err):
            self.addFailure(test, err)

        def addSkip(self, test, reason):
            rows.append(Result("tooling", test.id(), Status.SKIP, reason))

    # the tests' own progress lines (a fake guest boots) are not the run's
    with contextlib.redirect_stdout(io.StringIO()):
        suite.run(Collect())
    if not rows:
        rows.append(Result("tooling", "unit tests found", Status.FAIL,
                           f"no test in {settings.TESTS_DIR}", Kind.INFRA))
    return rows


def _timeout(name, default):
    try:
        return int(os.environ.get(name, "") or default)
    except ValueError as e:
        raise Fail(f"{name} must be a number of seconds") from e


def test_guest(kern, pmem, selected, variant, bindir):
    """The test guest: the `test` suites, KUnit from its log, its log scan.
    The debug kernel (KASAN, page poisoning, ...) runs several times slower
    under TCG: its suites get four times their timeouts.

    A guest that crashes or hangs in a suite fails the run, but the suites
    after it still run: a new guest boots for the suites the last one did
    not reach, as long as each gets further than the one before.  (A base
    kernel that panics in one selftest must not leave every later suite
    out of its baseline.)"""
    suites = registry.planned(selected, "log", variant, pmem) + \
        registry.planned(selected, "test", variant, pmem)
    guest_suites = [s for s in suites if s.boot == "test"]
    if not suites and "kernel-log" not in selected:
        return [], [], None
    scale = 4 if kern.debug else 1
    timeout = _timeout("DAXRS_BOOT_TIMEOUT", 2400 * scale)
    rows, boots = [], []
    todo, collect_now = guest_suites, suites  # KUnit: the first boot's log
    while True:
        label = "test suites" if not boots else \
            f"the test suites from {todo[0].name} on (boot {len(boots) + 1})"
        b = vm.boot(kern, "test", pmem, timeout, label, bindir,
                    plan=registry.guest_plan(todo, scale))
        left = [s for s in todo if not os.path.exists(os.path.join(b.res, f"{s.name}.ktap"))]
        resume = (b.crashed or b.timed_out) and left and len(left) < len(todo)
        mine = [s for s in collect_now if s not in left] if resume else collect_now
        with open(os.path.join(b.res, "plan.json"), "w") as f:
            json.dump({"boot": "test", "variant": variant, "debug": kern.debug, "pmem": pmem,
                       "suites": [s.name for s in mine],
                       "after": boots[-1].res if boots else None}, f)
        rows += collect.test_boot(b.res, mine, variant) + vm.failure_rows(b, todo)
        boots.append(b)
        if not resume:
            break
        say(f"the guest {'hung' if b.timed_out else 'crashed'} in "
            f"{todo[len(todo) - len(left) - 1].name}: booting another for the "
            f"{len(left)} suite(s) it did not reach: {' '.join(s.name for s in left)}")
        todo = collect_now = left
    reps = []
    if "kernel-log" in selected:
        lr, reps = collect.kernel_log_rows_of([b.res for b in boots], "test guest")
        rows += lr
    return rows, reps, boots[0].res


def suites_guest(kern, pmem, selected, variant, bindir, args):
    """The second guest: the user's ndctl/fstests, or the stand-ins."""
    suites = registry.planned(selected, "suites", variant, pmem)
    if not suites:
        return [], []
    env, dirs, names, expected = suites_plan(args.ndctl, args.ndctl_args, args.fstests,
                                             args.fstests_args, args.fstests_fs,
                                             vm.kvm_works(kern.bzimage))
    if "ndctl" not in selected:
        env = {k: v for k, v in env.items() if not k.startswith("NDCTL")}
    if "fstests" not in selected:
        env = {k: v for k, v in env.items() if not k.startswith("FSTESTS")}
    user = bool(args.ndctl or args.fstests)
    timeout = _timeout("DAXRS_SUITES_TIMEOUT", 43200 if user else 1800)
    res = vm.results_dir("suites", kern.label)
    with open(os.path.join(res, "suites.env"), "w") as f:
        f.writelines(f"{k}={shlex.quote(v)}\n" for k, v in env.items())
    # per-suite timeouts inside the guest: the whole budget for each
    plan = "".join(f"{s.name} {timeout}\n" for s in suites)
    b = vm.boot(kern, "suites", pmem, timeout + 600, "ndctl and fstests",
                bindir, plan=plan,
                overlays=dirs, res=res)
    with open(os.path.join(res, "plan.json"), "w") as f:
        json.dump({"boot": "suites", "variant": variant, "pmem": pmem,
                   "suites": [s.name for s in suites], "names": names,
                   "expected": {k: list(v) for k, v in expected.items()}}, f)
    rows = collect.suites_boot(res, suites, names, expected) + vm.failure_rows(b, suites)
    for s in suites:
        rows += collect.exit_rows(res, names[s.name] if s.name in names else s.name,
                                  s.name, rows, timeout)
    reps = []
    if "kernel-log" in selected:
        lr, reps = collect.kernel_log_rows(res, "suites guest")
        rows += lr
    return rows, reps


def run_variant(variant, tools, args, selected, bindir, flavour=None):
    """Build and run one kernel: variant's tree with flavour (default: the
    debug one with --debug, else none)."""
    t0 = now()
    src = source_tree(variant)
    if flavour is None:
        flavour = "debug" if args.debug else ""
    lint = variant == "series" and "lint" in selected and flavour in ("", "debug")
    kern = build(src, tools, lint=lint, flavour=flavour)
    rows, reps, res = test_guest(kern, args.pmem, selected, variant, bindir)
    if args.pmem == "all":
        r2, p2 = suites_guest(kern, args.pmem, selected, variant, bindir, args)
        rows += r2
        reps += p2
    if lint:
        from daxrs.series import lint as series_lint
        say("linting the series: checkpatch --strict, rustfmtcheck, clippy, rustdoc, "
            "KUnit tests as modules, other configs")
        rows += series_lint.checkpatch_results(ensure_base(), src) + \
            series_lint.rustfmt_results(kern, tools, src) + \
            series_lint.clippy_results(kern, src) + \
            series_lint.rustdoc_results(kern, tools, src) + \
            series_lint.kunit_module_results(kern, src) + \
            series_lint.other_config_results(src, tools)
    meta = RunMeta(kern.label, args.pmem, release=kern.release, tree=src.tree,
                   fingerprint=baseline.fingerprint(),
                   date=datetime.datetime.now().isoformat(timespec="seconds"),
                   command="./daxrs " + shlex.join(sys.argv[1:]))
    res = res or vm.results_dir("host", kern.label)
    write_tsv(os.path.join(res, "rows.tsv"), rows)
    with open(os.path.join(res, "results.json"), "w") as f:
        f.write(to_json(meta, rows))
    say(f"{variant}: {report.summary_line(rows)} before the verdict ({fmt_secs(now() - t0)})")
    return VariantRun(meta, rows, reps, res, kern)


def cmd_test(args):
    t0 = now()
    selected = registry.select(args.suite, args.exclude)
    if args.record_baseline and (args.suite or args.exclude):
        raise Fail("--record-baseline records every suite: drop --suite/--exclude")
    if (args.ndctl or args.fstests) and args.record_baseline:
        raise Fail("--record-baseline records this repository's suites only: "
                   "run it without --ndctl/--fstests")
    if args.record_baseline and args.debug:
        raise Fail("--record-baseline records the default test kernel: drop --debug (a "
                   "--debug run is judged against the same baseline)")
    if (args.ndctl or args.fstests) and args.pmem != "all":
        raise Fail("--ndctl/--fstests need the guest with all pmem kinds: --pmem all")
    gaps = verdict.load_gaps(settings.KNOWN_GAPS)
    tools = ensure_host()
    pre = []
    if "tooling" in selected:
        pre = tooling_rows()
        say(f"tooling tests: {report.summary_line(pre)}")
    if args.ndctl or args.fstests:
        # a wrong path fails now, not after two builds
        suites_plan(args.ndctl, args.ndctl_args, args.fstests, args.fstests_args,
                    args.fstests_fs, True)
    with_base = args.with_base or args.record_baseline or bool(args.ndctl or args.fstests)
    series_flavour, c_flavour = _selections(args)
    both = c_flavour is not None and verdict.compares_selections(selected)
    bindir = build_helpers()
    runs = {}
    runs["series"] = run_variant("series", tools, args, selected, bindir,
                                 flavour=series_flavour)
    if both:
        runs["series-c"] = run_variant("series", tools, args, selected, bindir,
                                       flavour=c_flavour)
    if with_base:
        runs["base"] = run_variant("base", tools, args, selected, bindir)
    series = runs["series"]
    fp = baseline.fingerprint()
    if with_base:
        base_rows, valid, what = runs["base"].rows, True, "base (this run)"
    else:
        base_rows, recorded, _ = baseline.load(args.pmem)
        valid = recorded == fp
        what = "base (project/baseline)"
        if base_rows is None:
            what = None
        elif not valid:
            say(f"the committed baseline's fingerprint {recorded} is not this tooling's {fp}")
    v = verdict.judge(pre + series.rows, base_rows, gaps, valid,
                      suites=lambda s: registry.owner(s) in selected)
    agree, v_c = [], None
    if both:
        v_c = verdict.judge(runs["series-c"].rows, base_rows, gaps, valid,
                            suites=lambda s: registry.owner(s) in selected)
        agree = verdict.agreement(v.rows, v_c.rows)
    if args.record_baseline:
        baseline.record(args.pmem, runs["base"].meta, runs["base"].rows)
    for name in sorted(runs):
        r = runs[name]
        shown = v.rows if name == "series" else v_c.rows if name == "series-c" else r.rows
        print(f"\n######## {name}: {r.meta.release} tree {r.meta.tree[:12]} (results: {r.res})")
        print(report.tables(shown))
        if r.reports:
            print("\n" + report.reports_text(r.reports))
    write_tsv(os.path.join(series.res, "verdict.tsv"), v.rows)
    with open(os.path.join(series.res, "verdict.json"), "w") as f:
        f.write(to_json(series.meta, v.rows, {
            "fixed": [f"{r.suite}: {r.test}" for _, r in v.fixed],
            "notes": v.notes, "baseline": what, "baseline_valid": valid}))
    if base_rows is not None:
        # the comparison covers the suites this run selected
        base_rows = [r for r in base_rows if registry.owner(r.suite) in selected]
        print(f"\n######## {what} vs series\n" + report.compare(base_rows, v.rows))
        heading = (f"Test results of `./daxrs test{' --with-base' if with_base else ''}` "
                   f"({datetime.date.today().isoformat()}, {args.pmem} pmem, series tree "
                   f"{series.meta.tree[:12]}; base: {what}):")
        table = report.summary_table(base_rows, v.rows, heading)
        with open(os.path.join(settings.RESULTS, "base-vs-series.md"), "w") as f:
            f.write(report.compare(base_rows, v.rows) + "\n")
        if with_base and args.pmem == "all" and not (args.suite or args.exclude or args.debug):
            # the cover letter's table, for exactly this series tree: from a
            # full run on the default pmem layout only
            d = os.path.join(settings.RESULTS, "by-tree")
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, series.meta.tree + ".md"), "w") as f:
                f.write(table)
    lines = report.verdict_lines(v)
    if lines:
        print("\n" + lines)
    failed = bool(v.failed)
    if both:
        lines = report.verdict_lines(v_c)
        if lines:
            print("\n(C selection)\n" + lines)
        print("\n######## the Rust and C selections, row by row\n" + report.tables(agree))
        write_tsv(os.path.join(runs["series-c"].res, "verdict.tsv"), v_c.rows)
        write_tsv(os.path.join(series.res, "selections.tsv"), agree)
        failed = failed or bool(v_c.failed) or any(r.status is Status.FAIL for r in agree)
        print(f"\nC selection: {report.summary_line(v_c.rows)}")
        print(f"selections: {report.summary_line(agree)}")
    print(f"\n(total time {fmt_secs(now() - t0)}; verdict: {series.res}/verdict.json)")
    print(report.summary_line(v.rows + agree + (v_c.rows if v_c else [])))
    return 1 if failed else 0


def _selections(args):
    """(the flavour of the "series" run, the flavour of the C selection's
    run or None): see selection_plan()."""
    has_choice = kconfig.kconfig_defines(source_tree("series").path,
                                         settings.C_SELECTION_SYMBOL)
    return selection_plan(getattr(args, "selection", "both"), args.debug,
                          args.record_baseline, has_choice)


def selection_plan(sel, debug, record_baseline, has_choice):
    """Which kernels of the series a test run builds: (the flavour of the
    "series" run, the flavour of a second run with the C selection, or None
    for no second run).  --selection both (the default) runs both where the
    series has the choice, --debug in the debug configuration each
    (out/series-debug, out/series-debug-c); --record-baseline runs the
    default (Rust) selection only."""
    flavour = "debug" if debug else ""
    if not has_choice:
        if sel == "c":
            raise Fail(f"--selection c: the series tree does not define "
                       f"{settings.C_SELECTION_SYMBOL}, it has one implementation only")
        return flavour, None
    c_flavour = "debug-c" if debug else "c"
    if sel == "c":
        return c_flavour, None
    if sel == "rust" or record_baseline:
        return flavour, None
    return flavour, c_flavour


def cmd_report(args):
    """Re-parse a results directory into the same tables and verdict."""
    res = os.path.abspath(args.dir)
    plan = collect.load_plan(res)
    if plan is None:
        raise Fail(f"{res} has no plan.json: not a results directory of this tooling "
                   "(or of a run that did not start its guest)")
    suites = [registry.BY_NAME[n] for n in plan["suites"] if n in registry.BY_NAME]
    if plan["boot"] == "test":
        rows = collect.test_boot(res, suites, plan["variant"])
    else:
        rows = collect.suites_boot(res, suites, plan.get("names", {}),
                                   plan.get("expected", {}))
    lr, reps = collect.kernel_log_rows(res, f"{plan['boot']} guest")
    rows += lr
    base_rows, recorded, _ = baseline.load(plan["pmem"])
    v = verdict.judge(rows, base_rows, verdict.load_gaps(settings.KNOWN_GAPS),
                      recorded == baseline.fingerprint(),
                      suites=lambda s: registry.owner(s) in plan["suites"])
    print(report.tables(v.rows))
    if reps:
        print("\n" + report.reports_text(reps))
    lines = report.verdict_lines(v)
    if lines:
        print("\n" + lines)
    if args.json:
        meta = RunMeta(plan["variant"], plan["pmem"])
        with open(args.json, "w") as f:
            f.write(to_json(meta, v.rows))
    print(report.summary_line(v.rows))
    return 1 if v.failed else 0


def cmd_setup(args):
    ensure_host()
    ensure_base()
    say("host ready")
    return 0


def cmd_build(args):
    if args.debug and args.bench:
        raise Fail("--debug and --bench are two kernels: build one, then the other")
    flavour = "debug" if args.debug else "bench" if args.bench else ""
    tools = ensure_host()
    for v in settings.VARIANTS if args.variant == "all" else [args.variant]:
        build(source_tree(v), tools, flavour=flavour)
    return 0


def cmd_demo(args):
    tools = ensure_host()
    kern = build(source_tree(args.variant), tools,
                 flavour="debug" if args.debug else "")
    b = vm.boot(kern, "demo", args.pmem, _timeout("DAXRS_BOOT_TIMEOUT", 1200), "DAX demo",
                build_helpers())
    text = read_text(os.path.join(b.res, "report.txt"), "")
    print(text, end="")
    if b.timed_out or b.crashed:
        raise Fail(f"the demo guest {'timed out' if b.timed_out else 'crashed'}; last "
                   f"console lines:\n{read_text(b.console, '')[-2000:]}")
    reps = kernel_log.scan(collect.log_text(b.res))
    if reps:
        print("\nThe kernel log has problems:\n" + report.reports_text(reps))
        return 1
    return 0 if b.rc == 0 and "demo completed" in text else 1
