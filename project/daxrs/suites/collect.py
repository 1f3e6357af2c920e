# SPDX-License-Identifier: GPL-2.0
"""From a guest's results directory to Result rows: each planned suite's
output parsed, and what it failed to report turned into failing rows.

Per suite the guest leaves NAME.ktap (stdout), NAME.err (stderr) and
NAME.rc (the exit status; 124/137: its timeout).  A suite in the plan with
no output, an exit status other than 0/1, an exit 1 without a failing row,
a short or missing plan, a KUnit suite that did not report: each is an
INFRA row that fails the run."""

import json
import os
import re

from daxrs.parse import fstests, kernel_log, ktap, ndctl
from daxrs.proc import read_text
from daxrs.results import Kind, Result, Status

_SELFTEST = re.compile(r"^selftests: [\w-]+: ")


def _infra(suite, test, detail):
    return Result(suite, test, Status.FAIL, detail, Kind.INFRA)


def _err_tail(res, name):
    lines = [x for x in read_text(os.path.join(res, f"{name}.err"), "").splitlines() if x.strip()]
    return (": " + " | ".join(lines[-3:])[:300]) if lines else ""


def exit_rows(res, suite, name, rows, timeout):
    """Rows for the exit status of a guest suite's script."""
    rc_text = read_text(os.path.join(res, f"{name}.rc"), "").strip()
    if not rc_text:
        return [_infra(suite, f"{name}: exit status", "the script did not finish (the guest "
                       "stopped or timed out while it ran)")]
    try:
        rc = int(rc_text)
    except ValueError:
        return [_infra(suite, f"{name}: exit status", f"unreadable exit status {rc_text!r}")]
    failing = any(r.status is Status.FAIL for r in rows)
    if rc in (124, 137):
        return [_infra(suite, f"{name}: TIMEOUT", f"killed after its {timeout} s timeout"
                       + _err_tail(res, name))]
    if rc == 127:
        return [_infra(suite, f"{name}: exit status", "no such guest suite script"
                       + _err_tail(res, name))]
    if rc not in (0, 1):
        return [_infra(suite, f"{name}: exit status", f"suite exited {rc}"
                       + _err_tail(res, name))]
    if rc == 1 and not failing:
        return [_infra(suite, f"{name}: exit status", "suite exited 1 without a failing "
                       "result" + _err_tail(res, name))]
    return []


def ktap_suite(res, s, variant):
    path = os.path.join(res, f"{s.name}.ktap")
    if not os.path.exists(path):
        return [_infra(s.name, "suite ran", "no output: the guest did not run it")]
    rename = (lambda n: _SELFTEST.sub("", n)) if s.parser == "kselftest" else None
    rows = ktap.parse_rows(s.name, read_text(path), top_name=s.name, rename=rename)
    return rows + exit_rows(res, s.name, s.name, rows, s.timeout)


def kunit_suite(log_text, s, variant):
    """KUnit and the doctests ran at boot: their KTAP is in the kernel log,
    before the first suite marker of the runner."""
    boot = "\n".join(body for where, body in kernel_log.kernel_lines(log_text)
                     if where == "boot")
    docs = ktap.parse(boot)
    rows = ktap.rows(s.name, docs, top_name="kernel log", plan_depth=2)
    want = s.expect_series if variant == "series" else s.expect
    have = {n.name for d in docs for n in d.results}
    rows += [_infra(s.name, f"{w}: reported", "this KUnit suite did not report: not "
                    "built, or its init failed before KTAP") for w in want if w not in have]
    return rows


def log_text(res):
    """The kernel log the guest saved (raw records if it could)."""
    for name in ("dmesg.raw", "dmesg.txt", "console.log"):
        text = read_text(os.path.join(res, name), "")
        if text.strip():
            return text
    return ""


def test_boot(res, suites, variant):
    """Rows of the test guest: each planned suite, in order."""
    rows = []
    text = log_text(res)
    for s in suites:
        if s.parser == "kunit":
            rows += kunit_suite(text, s, variant)
        else:
            rows += ktap_suite(res, s, variant)
    return rows


def suites_boot(res, suites, names, expected):
    """Rows of the suites guest (ndctl, fstests): names maps a suite to the
    row suite name (standin-ndctl or ndctl, ...), expected to the tests
    each must report."""
    rows = []
    env = {}
    for line in read_text(os.path.join(res, "suites.env"), "").splitlines():
        k, _, v = line.partition("=")
        env[k] = v.strip("'\"")
    for s in suites:
        if s.name == "ndctl":
            rows += ndctl.rows(res, names["ndctl"], expected.get("ndctl", ()))
        elif s.name == "fstests":
            for fs in env.get("FSTESTS_FS", "").split():
                rows += fstests.rows(res, fs, f"{names['fstests']}-{fs}")
    return rows


def kernel_log_rows(res, what):
    return kernel_log.log_rows("kernel-log", what, log_text(res))


def kernel_log_rows_of(resdirs, what):
    """One row for the logs of the guests that ran one plan in turn (the
    next one booted for the suites the last did not reach): it fails if
    any log has a report, and names which."""
    if len(resdirs) == 1:
        return kernel_log_rows(resdirs[0], what)
    rows, reps = [], []
    for n, res in enumerate(resdirs, 1):
        (row,), r = kernel_log_rows(res, what)
        rows.append((n, row))
        reps += r
    bad = [(n, row) for n, row in rows if row.status is not Status.PASS]
    if not bad:
        return [Result("kernel-log", what, Status.PASS, f"{len(rows)} boots", Kind.INFRA)], reps
    detail = "; ".join(f"boot {n} of {len(rows)}: {row.detail}" for n, row in bad)
    return [Result("kernel-log", what, Status.FAIL, detail[:1500], Kind.INFRA)], reps


def load_plan(res):
    try:
        with open(os.path.join(res, "plan.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
