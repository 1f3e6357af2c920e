# SPDX-License-Identifier: GPL-2.0
"""The verdict: which failures fail the run.

A failure passes as a known GAP only when all of these hold:
  * it is a CASE row (kernel-log, timeout, crash, exit-status, plan and
    missing-suite rows are INFRA rows: never gaps);
  * a declaration in project/baseline/known-gaps.toml names its suite and
    test (shell-style patterns) and its `detail` regular expression matches
    the failure's detail: a different failure of the same test is no gap;
  * the baseline (the unpatched base) is the one recorded by this very
    tooling (its fingerprint matches) and does not pass the test: a test the
    base passes and the series fails is a regression, declared or not.
An AGGREGATE row (a program, a KUnit suite) is no result of its own: it
passes when it passed, or when it failed only through children that are
declared gaps; a timeout, a crash or an undeclared child failure fails it.
Against the baseline, a test that passed there and is skipped or missing
here fails the run.  A declared gap whose test now passes is reported as
fixed, so its declaration can be removed."""

import dataclasses
import fnmatch
import re
import tomllib

from daxrs.proc import Fail
from daxrs.results import Kind, Result, Status


@dataclasses.dataclass(frozen=True)
class Gap:
    suite: str
    test: str
    detail: str
    fixed_by: str
    line: int = 0

    def names(self, row):
        return fnmatch.fnmatchcase(row.suite, self.suite) and \
            fnmatch.fnmatchcase(row.test, self.test)

    def matches(self, row):
        return self.names(row) and re.search(self.detail, row.detail) is not None


def load_gaps(path):
    """The declarations of a known-gaps file ([[gap]] tables)."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        return []
    except tomllib.TOMLDecodeError as e:
        raise Fail(f"{path}: {e}") from e
    gaps = []
    for i, g in enumerate(data.get("gap", []), 1):
        missing = [k for k in ("suite", "test", "detail", "fixed_by") if not g.get(k)]
        if missing:
            raise Fail(f"{path}: gap #{i} lacks {', '.join(missing)}: each declaration "
                       "names suite, test, the detail its failure must match, and what "
                       "will fix it (fixed_by)")
        try:
            re.compile(g["detail"])
        except re.error as e:
            raise Fail(f"{path}: gap #{i} ({g['test']}): bad detail pattern: {e}") from e
        gaps.append(Gap(g["suite"], g["test"], g["detail"], g["fixed_by"], i))
    return gaps


# An aggregate's own failure that only reports its children's (kselftest's
# "exit=1", KSFT_FAIL; our probe wrapper's "exit 1"), as opposed to a
# timeout, a signal or another exit status.
_BENIGN = re.compile(r"^(|.*\bexit[= ]1)$")


@dataclasses.dataclass
class Verdict:
    rows: list             # the rows with gaps marked and lost tests added
    fixed: list            # (Gap, Result): declared gaps that now pass
    unused: list           # Gaps that matched no row at all
    notes: list            # what the reader must know (stale baseline, ...)
    # undeclared failures the base shares: candidates for a declaration,
    # which only a person can make (with the behaviour that will fix it)
    proposals: list = dataclasses.field(default_factory=list)

    @property
    def failed(self):
        return any(r.status is Status.FAIL for r in self.rows)


def judge(rows, baseline=None, gaps=(), baseline_valid=True, suites=None):
    """The verdict on a run's rows (see the module docstring).

    baseline: the base's rows (None: no comparison); baseline_valid: its
    fingerprint matches (else no failure can be a gap); suites: the row
    suite names this run selected (a set, or a predicate; None: all), for
    the missing-test check."""
    notes = []
    base = {r.key: r for r in baseline or ()}
    if baseline is not None and not baseline_valid:
        notes.append("the baseline was recorded by other guest scripts, parsers or "
                     "config (fingerprint mismatch): no failure can be a known gap until "
                     "it is re-recorded with `./daxrs test --record-baseline`")
    if baseline is None and gaps:
        notes.append("no baseline to compare with: no failure can be a known gap")
    out, used, fixed, proposals = [], set(), [], []
    for r in rows:
        if r.kind is Kind.CASE:
            decl = [g for g in gaps if g.names(r)]
            used.update(decl)
            if r.status is Status.FAIL:
                hit = next((g for g in decl if g.matches(r)), None)
                b = base.get(r.key)
                if hit is None:
                    if not decl and b is not None and b.status is Status.FAIL:
                        proposals.append(r)
                    if decl:
                        r = r.replace(detail=f"{r.detail} [not the declared gap: its detail "
                                      f"must match /{decl[0].detail}/]")
                elif baseline is None or not baseline_valid:
                    pass
                elif b is not None and b.status is Status.PASS:
                    r = r.replace(detail=f"{r.detail} [declared as a gap, but the base "
                                  "passes it: a regression]")
                else:
                    r = r.replace(status=Status.GAP)
            elif r.status is Status.PASS:
                fixed += [(g, r) for g in decl]
        out.append(r)
    # aggregates, innermost first: their children's verdicts are final
    by_key = {r.key: i for i, r in enumerate(out)}
    via_gaps = set()  # aggregates that passed only through declared gaps
    for i, r in enumerate(out):
        if r.kind is not Kind.AGGREGATE or r.status is not Status.FAIL:
            continue
        kids = [out[by_key[(r.suite, c)]] for c in r.children if (r.suite, c) in by_key]
        if kids and _BENIGN.match(r.detail.strip()) and \
                all(k.status is not Status.FAIL for k in kids) and \
                any(k.status is Status.GAP or k.key in via_gaps for k in kids):
            via_gaps.add(r.key)
            out[i] = r.replace(status=Status.PASS,
                               detail=f"{r.detail} (only declared gaps failed)".strip())
        elif kids and all(k.status is not Status.FAIL for k in kids) and \
                not _BENIGN.match(r.detail.strip()):
            out[i] = r.replace(detail=f"{r.detail} [the program itself failed]")
        elif not kids or all(k.status is not Status.FAIL for k in kids):
            out[i] = r.replace(detail=f"{r.detail} [failed with no failing case]".strip())
    # what the base passed and this run skipped or lost
    if baseline is not None:
        have = {r.key: i for i, r in enumerate(out)}
        for b in baseline:
            if b.status is not Status.PASS or b.kind is Kind.INFRA:
                continue
            if suites is not None and not (suites(b.suite) if callable(suites)
                                           else b.suite in suites):
                continue
            i = have.get(b.key)
            if i is None:
                out.append(Result(b.suite, b.test, Status.FAIL,
                                  "lost: passes on the base, missing here", Kind.INFRA))
            elif out[i].status is Status.SKIP:
                out[i] = out[i].replace(status=Status.FAIL, kind=Kind.INFRA,
                                        detail=f"pass -> skip: {out[i].detail}")
    unused = [g for g in gaps if g not in used and
              (suites is None or any(fnmatch.fnmatchcase(r.suite, g.suite) for r in rows))]
    return Verdict(out, fixed, unused, notes, proposals)


# Suites run once per `./daxrs test`, not per selection: nothing to compare.
SELECTION_NEUTRAL = frozenset({"tooling", "lint"})


def compares_selections(selected):
    """Whether a run of these suites builds and compares both selections:
    not when every one of them runs once whatever the selection (a second
    build would have nothing to compare, and an empty comparison fails)."""
    return not set(selected) <= SELECTION_NEUTRAL


def agreement(first, second, names=("Rust", "C")):
    """Rows saying whether two selections' runs agree: one failing row per
    common test whose status differs, and a summary row.  Tests that only
    one run has are counted in the summary; whether they should be there
    is each run's own verdict's business.  first/second: the verdict rows
    of each run."""
    a = {r.key: r for r in first if r.suite not in SELECTION_NEUTRAL}
    b = {r.key: r for r in second if r.suite not in SELECTION_NEUTRAL}
    rows, differ = [], 0
    common = [k for k in a if k in b]
    for k in common:
        sa, sb = a[k].status, b[k].status
        if sa is not sb:
            differ += 1
            rows.append(Result("selections", f"{k[0]}: {k[1]}", Status.FAIL,
                               f"{names[0]}: {sa.value}, {names[1]}: {sb.value}"))
    only_a = sum(1 for k in a if k not in b)
    only_b = sum(1 for k in b if k not in a)
    detail = (f"{len(common)} common rows, {differ} differ; only {names[0]}: {only_a}, "
              f"only {names[1]}: {only_b}")
    ok = differ == 0 and common
    rows.append(Result("selections", f"{names[0]} and {names[1]} selections agree",
                       Status.PASS if ok else Status.FAIL, detail))
    return rows
