# SPDX-License-Identifier: GPL-2.0
"""fstests' ./check output as rows: every section's Ran/Not run/Failures
lines (not only the last), the tests a dry run (./check -n) listed and no
section reported, and the "not run" reasons from RESULT_BASE."""

import os
import re

from daxrs.proc import read_text
from daxrs.results import Kind, Result, Status

_SECTION = re.compile(r"^SECTION\s+--\s+(\S+)")
_TEST = re.compile(r"^\s*([A-Za-z0-9_-]+/\d+)\b")


def parse_summary(text):
    """{section: {"Ran:": [...], "Not run:": [...], "Failures:": [...]}};
    output without SECTION lines is one section named ""."""
    sections = {}
    cur = ""
    for line in text.splitlines():
        m = _SECTION.match(line)
        if m:
            cur = m.group(1)
            continue
        for key in ("Ran:", "Not run:", "Failures:"):
            if line.startswith(key):
                lists = sections.setdefault(cur, {})
                lists.setdefault(key, [])
                lists[key] += [t for t in line[len(key):].split() if t not in lists[key]]
    return sections


def parse_list(text):
    return list(dict.fromkeys(m.group(1) for m in map(_TEST.match, text.splitlines()) if m))


def rows_of(text, result_base, suite, expected=()):
    sections = parse_summary(text)
    if not sections:
        tail = " | ".join(x for x in text.splitlines()[-3:] if x.strip())
        return [Result(suite, "./check summary", Status.FAIL, tail[:200] or "no output",
                       Kind.INFRA)]
    out = []
    many = len(sections) > 1
    seen = set()
    for sec, lists in sections.items():
        prefix = f"{sec}/" if many else ""
        failed = set(lists.get("Failures:", []))
        notrun = set(lists.get("Not run:", []))
        base = os.path.join(result_base, sec) if many else result_base
        # ./check lists a test it did not run under "Ran:" too: it is a skip
        ran = [x for x in lists.get("Ran:", []) if x not in notrun or x in failed]
        for t in ran + [x for x in failed if x not in ran]:
            seen.add(t)
            bad = t in failed
            out.append(Result(suite, prefix + t, Status.FAIL if bad else Status.PASS,
                              f"see {os.path.join(base, t)}.out.bad / .full" if bad else ""))
        for t in lists.get("Not run:", []):
            seen.add(t)
            why = read_text(os.path.join(base, t + ".notrun"), "").strip()
            out.append(Result(suite, prefix + t, Status.SKIP,
                              (why.splitlines() or [""])[0][:160]))
    for t in expected:
        if t not in seen:
            out.append(Result(suite, t, Status.FAIL, "missing: ./check -n listed it and no "
                              "section reported it", Kind.INFRA))
    return out


def rows(res, fs, suite):
    out = os.path.join(res, f"fstests-{fs}.txt")
    if not os.path.exists(out):
        return [Result(suite, "./check ran", Status.FAIL, "the guest did not run it",
                       Kind.INFRA)]
    expected = parse_list(read_text(os.path.join(res, f"fstests-{fs}.list"), ""))
    return rows_of(read_text(out), os.path.join(res, f"fstests-{fs}"), suite, expected)
