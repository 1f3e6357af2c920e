# SPDX-License-Identifier: GPL-2.0
"""The result record every stage produces, and how runs are stored.

A run is a list of Result rows plus a RunMeta saying what produced them.
Rows are written as TSV (rows.tsv, one per line, the format of the committed
baseline) and, with the metadata, as JSON (results.json)."""

import dataclasses
import enum
import json


class Status(enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"
    # a failure the verdict matched with a declared known gap
    GAP = "gap"


class Kind(enum.Enum):
    """What a row stands for; the verdict treats each kind differently."""
    CASE = "case"            # one test case
    AGGREGATE = "aggregate"  # a program or suite whose children are cases
    INFRA = "infra"          # the run itself: kernel log, timeout, crash, exit
                             # status, plan, a missing suite; never a gap


@dataclasses.dataclass
class Result:
    suite: str
    test: str
    status: Status
    detail: str = ""
    kind: Kind = Kind.CASE
    # AGGREGATE rows: the test names of their children (same suite)
    children: tuple = ()

    @property
    def key(self):
        return (self.suite, self.test)

    def replace(self, **kw):
        return dataclasses.replace(self, **kw)


def _clean(s):
    return s.replace("\t", " ").replace("\r", " ").replace("\n", " | ")


def to_tsv(rows):
    """suite, test, status, detail, kind, children (joined by \\x1f)."""
    return "".join("\t".join((_clean(r.suite), _clean(r.test), r.status.value,
                              _clean(r.detail), r.kind.value,
                              "\x1f".join(_clean(c) for c in r.children))) + "\n"
                   for r in rows)


def from_tsv(text):
    rows = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) < 3:
            continue
        try:
            status = Status(parts[2])
        except ValueError:
            status = Status.FAIL
        kind = Kind.CASE
        if len(parts) > 4 and parts[4]:
            try:
                kind = Kind(parts[4])
            except ValueError:
                pass
        children = tuple(x for x in parts[5].split("\x1f") if x) if len(parts) > 5 else ()
        rows.append(Result(parts[0], parts[1], status, parts[3] if len(parts) > 3 else "",
                           kind, children))
    return rows


def write_tsv(path, rows):
    with open(path, "w") as f:
        f.write(to_tsv(rows))


@dataclasses.dataclass
class RunMeta:
    """What produced a set of rows."""
    variant: str
    pmem: str
    release: str = ""
    tree: str = ""          # git tree id of the source that was built
    fingerprint: str = ""   # see baseline.fingerprint()
    date: str = ""
    command: str = ""


def counts(rows):
    n = {s: 0 for s in Status}
    for r in rows:
        n[r.status] += 1
    return n


def to_json(meta, rows, extra=None):
    d = {"meta": dataclasses.asdict(meta),
         "rows": [{"suite": r.suite, "test": r.test, "status": r.status.value,
                   "detail": r.detail, "kind": r.kind.value,
                   "children": list(r.children)} for r in rows]}
    if extra:
        d.update(extra)
    return json.dumps(d, indent=1) + "\n"
