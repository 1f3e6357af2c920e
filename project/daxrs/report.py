# SPDX-License-Identifier: GPL-2.0
"""What a run prints: a table per suite, the base-vs-series table, the
list of gaps and fixed declarations, the kernel reports, and the summary
line "N passed, N failed, N skipped"."""

import re

from daxrs.results import Kind, Status, counts

_MARK = {Status.PASS: "PASS", Status.FAIL: "FAIL", Status.SKIP: "SKIP", Status.GAP: "GAP"}


def suite_order(rows):
    return list(dict.fromkeys(r.suite for r in rows))


def tables(rows):
    """One table per suite; KUnit as one line per KUnit suite plus its
    non-passing cases."""
    out = []
    for s in suite_order(rows):
        sr = [r for r in rows if r.suite == s]
        n = counts(sr)
        gaps = f", {n[Status.GAP]} known gaps" if n[Status.GAP] else ""
        out.append(f"\n== {s}: {n[Status.PASS]} passed, {n[Status.FAIL]} failed, "
                   f"{n[Status.SKIP]} skipped{gaps}")
        if s == "kunit":
            per = {}
            for r in sr:
                if r.kind is Kind.CASE:
                    per.setdefault(r.test.split("/")[0], []).append(r)
            out.append(f"   {'KUnit suite':<44} {'pass':>5} {'fail':>5} {'skip':>5}")
            for k, v in per.items():
                c = counts(v)
                out.append(f"   {k:<44} {c[Status.PASS]:>5} {c[Status.FAIL] + c[Status.GAP]:>5}"
                           f" {c[Status.SKIP]:>5}")
            sr = [r for r in sr if r.status is not Status.PASS]
        for r in sr:
            show = r.detail and r.status is not Status.PASS
            out.append(f"   {_MARK[r.status]:<5} {r.test}" + (f"  ({r.detail[:200]})" if show
                                                               else ""))
    return "\n".join(out)


def compare(base_rows, series_rows):
    """Markdown: every test with its base and series result (KUnit counted)."""
    b = {r.key: r.status.value for r in base_rows}
    s = {r.key: r.status.value for r in series_rows}
    keys = list(dict.fromkeys([r.key for r in base_rows + series_rows]))
    lines = ["| suite | test | base | series |", "|---|---|---|---|"]
    lines += [f"| {k[0]} | {k[1]} | {b.get(k, '-')} | {s.get(k, '-')} |"
              for k in keys if k[0] != "kunit"]
    kb = counts([r for r in base_rows if r.suite == "kunit" and r.kind is Kind.CASE])
    ks = counts([r for r in series_rows if r.suite == "kunit" and r.kind is Kind.CASE])
    lines.append(f"| kunit | all cases (pass/fail/skip) | {kb[Status.PASS]}/{kb[Status.FAIL]}/"
                 f"{kb[Status.SKIP]} | {ks[Status.PASS]}/{ks[Status.FAIL]}/{ks[Status.SKIP]} |")
    return "\n".join(lines)


def summary_table(base_rows, series_rows, heading):
    """The cover letter's table: counts per suite, then each test that does
    not pass on both."""
    out = [heading, "", "| suite | base pass/fail/skip | series pass/fail/skip/gap |",
           "|---|---|---|"]
    for su in suite_order(base_rows + series_rows):
        b = counts([r for r in base_rows if r.suite == su])
        s = counts([r for r in series_rows if r.suite == su])
        out.append(f"| {su} | {b[Status.PASS]}/{b[Status.FAIL]}/{b[Status.SKIP]} | "
                   f"{s[Status.PASS]}/{s[Status.FAIL]}/{s[Status.SKIP]}/{s[Status.GAP]} |")
    b = {r.key: r.status.value for r in base_rows}
    s = {r.key: r.status.value for r in series_rows}
    odd = [k for k in dict.fromkeys([r.key for r in base_rows + series_rows])
           if (b.get(k), s.get(k)) != ("pass", "pass") and k[0] not in ("tooling", "lint")]
    if odd:
        out += ["", "Tests that do not pass on both (gap: a declared known gap, failing on "
                "the base too):", "", "| suite | test | base | series |", "|---|---|---|---|"]
        out += [f"| {k[0]} | {k[1]} | {b.get(k, '-')} | {s.get(k, '-')} |" for k in odd]
    return "\n".join(out) + "\n"


def verdict_lines(v):
    out = [f"note: {n}" for n in v.notes]
    gaps = [r for r in v.rows if r.status is Status.GAP]
    if gaps:
        out.append(f"{len(gaps)} known gap(s), each matching its declaration in "
                   "project/baseline/known-gaps.toml:")
        out += [f"    GAP {r.suite}: {r.test}" for r in gaps]
    for g, r in v.fixed:
        out.append(f"fixed: {r.suite}: {r.test} passes: remove the declaration "
                   f"(known-gaps.toml gap #{g.line}, fixed by: {g.fixed_by})")
    for r in v.proposals:
        out.append(f"the base fails {r.suite}: {r.test} too; if the series is to deliver it, "
                   "declare it in known-gaps.toml:\n    [[gap]]\n"
                   f"    suite = \"{r.suite}\"\n    test = \"{r.test}\"\n"
                   f"    detail = '{re.escape(r.detail[-60:])}$'\n"
                   "    fixed_by = \"<the patch or behaviour that makes it pass>\"")
    for g in v.unused:
        out.append(f"unused declaration: known-gaps.toml gap #{g.line} ({g.suite}: {g.test}) "
                   "names no test of this run")
    return "\n".join(out)


def reports_text(reports, limit=1):
    """The first kernel report(s) with their context."""
    out = []
    for rep in reports[:limit]:
        out.append(f"kernel report during suite {rep.suite}:")
        out += ["    " + x for x in rep.context]
    if len(reports) > limit:
        out.append(f"    ... and {len(reports) - limit} more report(s): see dmesg.txt")
    return "\n".join(out)


def summary_line(rows):
    n = counts(rows)
    return f"{n[Status.PASS]} passed, {n[Status.FAIL]} failed, {n[Status.SKIP]} skipped"
