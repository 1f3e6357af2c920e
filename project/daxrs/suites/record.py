# SPDX-License-Identifier: GPL-2.0
"""The record of a run of the real ndctl and fstests (test --ndctl/--fstests)
on base and series: every test's result and duration side by side, as
Markdown (project/baseline/real-suites.md keeps the last recorded one).

    python3 -m daxrs.suites.record BASE_RES SERIES_RES [OUT]

BASE_RES and SERIES_RES are the suites guests' results directories."""

import json
import os
import re
import sys

from daxrs.proc import read_text
from daxrs.results import Status
from daxrs.suites import collect, registry

_FST_LINE = re.compile(r"^([A-Za-z0-9_-]+/\d+)\s+(?:\d+s \.\.\.\s+)?(\d+)s\s*$")


def durations(res: str) -> dict[tuple[str, str], float]:
    """{(row suite, test): seconds} from ndctl's test log and fstests' output."""
    out = {}
    for line in read_text(os.path.join(res, "ndctl-testlog.json"), "").splitlines():
        try:
            t = json.loads(line)
        except ValueError:
            continue
        if isinstance(t, dict) and "name" in t and "duration" in t:
            out[("ndctl", t["name"])] = float(t["duration"])
    for fs in ("ext4", "xfs"):
        for line in read_text(os.path.join(res, f"fstests-{fs}.txt"), "").splitlines():
            m = _FST_LINE.match(line)
            if m:
                out[(f"fstests-{fs}", m.group(1))] = float(m.group(2))
    return out


def guest_seconds(res: str) -> float | None:
    """How long the suites guest's suites ran, from its log ("exit N after S s")."""
    secs = [int(m.group(1)) for m in
            re.finditer(r"^suite \S+: exit \d+ after (\d+) s$",
                        read_text(os.path.join(res, "guest.log"), ""), re.M)]
    return float(sum(secs)) if secs else None


def rows_of(res: str):
    plan = collect.load_plan(res)
    if plan is None:
        raise SystemExit(f"{res}: no plan.json, not a suites results directory")
    suites = [registry.BY_NAME[n] for n in plan["suites"] if n in registry.BY_NAME]
    return collect.suites_boot(res, suites, plan.get("names", {}), plan.get("expected", {}))


def _cell(row, secs):
    if row is None:
        return "-"
    t = f" {secs:.0f} s" if secs is not None else ""
    return f"{row.status.value}{t}"


def table(base_res: str, series_res: str) -> str:
    base, series = rows_of(base_res), rows_of(series_res)
    bd, sd = durations(base_res), durations(series_res)
    bidx = {(r.suite, r.test): r for r in base}
    sidx = {(r.suite, r.test): r for r in series}
    keys = list(dict.fromkeys([(r.suite, r.test) for r in base] +
                              [(r.suite, r.test) for r in series]))
    lines = []
    for label, res in (("base", base_res), ("series", series_res)):
        s = guest_seconds(res)
        lines.append(f"- {label}: `{res}`" + (f", suites ran {s / 60:.0f} min" if s else ""))
    lines += ["", "| suite | test | base | series | why not run (base / series) |",
              "|---|---|---|---|---|"]
    for k in keys:
        b, s = bidx.get(k), sidx.get(k)
        why = " / ".join(dict.fromkeys(r.detail for r in (b, s)
                                       if r is not None and r.status is not Status.PASS
                                       and r.detail)) or ""
        lines.append(f"| {k[0]} | {k[1]} | {_cell(b, bd.get(k))} | "
                     f"{_cell(s, sd.get(k))} | {why.replace('|', '/')} |")
    counts = []
    for label, rows in (("base", base), ("series", series)):
        c: dict[str, dict[str, int]] = {}
        for r in rows:
            c.setdefault(r.suite, {}).setdefault(r.status.value, 0)
            c[r.suite][r.status.value] += 1
        counts.append(f"- {label}: " + "; ".join(
            f"{suite} " + ", ".join(f"{n} {st}" for st, n in sorted(v.items()))
            for suite, v in sorted(c.items())))
    return "\n".join(counts + [""] + lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    text = table(argv[0], argv[1])
    if len(argv) == 3:
        with open(argv[2], "w") as f:
            f.write(text)
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
