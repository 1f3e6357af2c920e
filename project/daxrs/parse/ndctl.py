# SPDX-License-Identifier: GPL-2.0
"""ndctl's meson test log (meson-logs/testlog.json, one JSON object per
test) as rows; the tests meson was asked to run and did not are failures."""

import json
import os

from daxrs.proc import read_text
from daxrs.results import Kind, Result, Status

_STATUS = {"OK": Status.PASS, "EXPECTEDFAIL": Status.PASS, "SKIP": Status.SKIP}


def parse_testlog(text, suite):
    rows = []
    for line in text.splitlines():
        try:
            t = json.loads(line)
        except ValueError:
            continue
        if not isinstance(t, dict) or "name" not in t:
            continue
        res = str(t.get("result", ""))
        st = _STATUS.get(res, Status.FAIL)
        detail = ""
        if st is not Status.PASS:
            out = [x for x in str(t.get("stdout") or "").splitlines() if x.strip()]
            detail = f"{res}, exit {t.get('returncode')}" + \
                (f": {out[-1].strip()[:160]}" if out else "")
        rows.append(Result(suite, t["name"], st, detail))
    return rows


def rows(res, suite, expected=()):
    log = os.path.join(res, "ndctl-testlog.json")
    got = parse_testlog(read_text(log, ""), suite)
    out = list(got)
    if not got:
        meson = read_text(os.path.join(res, "ndctl-meson.txt"), "")
        tail = " | ".join(x for x in meson.splitlines()[-3:] if x.strip())
        out.append(Result(suite, "meson test", Status.FAIL, tail[:300] or "no test log",
                          Kind.INFRA))
    have = {r.test for r in got}
    # meson names a test "suite:name" or "name" depending on the project
    short = {t.split(":", 1)[-1].strip() for t in have}
    for want in expected:
        if want not in have and want.split(":", 1)[-1].strip() not in short:
            out.append(Result(suite, want, Status.FAIL, "missing: meson was to run it and "
                              "the test log has no result for it", Kind.INFRA))
    return out
