# SPDX-License-Identifier: GPL-2.0
"""One KTAP/TAP parser for every suite: KUnit in the kernel log, kselftest's
runner, the guest suites and daxprobe.

Nesting is recognised both ways it is written: KUnit indents a subtest by
four spaces, kselftest's runner prefixes the output of each program with
"# ".  The parser builds the tree of results and then flattens it:

  * a result with no subtests is a CASE row, named by its path from the top
    ("suite/case/param" for a parameterised KUnit case);
  * a result with subtests is an AGGREGATE row whose children are named;
  * every group of results must carry a plan ("1..N", leading or trailing)
    that matches the number of results, and every subtest group must be
    closed by its parent's result line: a short plan, no plan at all, or a
    subtest cut off (a crash, a killed program) is an INFRA failure row.

A subtest is named by its parent's result line.  A subtest cut off before
that line keeps the name it was announced with, so that its rows are named
as they would have been had it finished (a base kernel that panics in the
middle of a program must give rows a series run can be compared with):
KTAP's "# Subtest: name", written after the subtest's version line (KUnit)
or before it (dax_fs.sh, whose nested program prints its own header), and
kselftest's runner line "# selftests: dir: prog" one level up.
"""

import dataclasses
import re

from daxrs.results import Kind, Result, Status

# printk prefixes: "[    1.234567]" and, with CONFIG_PRINTK_CALLER, "[  T1]"
_PREFIX = re.compile(r"^(?:\[\s*[\d.]+\](?:\[\s*[CT]\d+\])?\s?)?")
_VERSION = re.compile(r"^K?TAP version \d+\s*$")
_PLAN = re.compile(r"^1\.\.(\d+)\s*(?:#\s*(.*))?$")
_RESULT = re.compile(r"^(not ok|ok)\b(?:\s+(\d+))?(?:\s+-)?\s*(.*)$")
_SUBTEST = re.compile(r"^# Subtest: (.*)$")
# kselftest's runner announces each program one level above its output
_RUNNER = re.compile(r"^# (selftests: \S+: \S+)$")
_ASSERT = re.compile(r"\.[ch]:\d+:")


@dataclasses.dataclass
class Node:
    name: str
    ok: bool | None  # None: no result line (the subtest was cut off)
    directive: str = ""
    diag: list = dataclasses.field(default_factory=list)
    group: "Group | None" = None

    @property
    def skipped(self):
        return bool(re.match(r"(SKIP|TODO)\b", self.directive, re.I))


@dataclasses.dataclass
class Group:
    depth: int = 0
    name: str = ""
    plan: int | None = None
    results: list = dataclasses.field(default_factory=list)


def _structural(text):
    return bool(_VERSION.match(text) or _PLAN.match(text) or _RESULT.match(text)
                or _SUBTEST.match(text))


def _depth(line):
    """(nesting depth, text) of a line: four spaces or "# " per level."""
    d = 0
    while True:
        if line.startswith("    "):
            line, d = line[4:], d + 1
        elif line.startswith("\t"):
            line, d = line[1:], d + 1
        elif line.startswith("# ") and (_structural(line[2:].lstrip(" "))
                                        or line[2:].startswith(("# ", "    "))):
            line, d = line[2:], d + 1
        else:
            return d, line


def parse(text):
    """The top-level groups (documents) of the KTAP found in text.  A
    "KTAP version" line at the top level starts a new document; results
    before any version line form one of their own."""
    docs = []
    open_ = {}  # depth -> the Group collecting results at that depth
    pending = []  # (depth, text) of the diagnostics since the last result line

    def group_at(depth):
        if depth not in open_:
            open_[depth] = Group(depth=depth)
            if depth == 0:
                docs.append(open_[0])
        return open_[depth]

    def close_below(depth):
        # groups deeper than `depth` that no result line closed: cut off
        for d in sorted((d for d in open_ if d > depth), reverse=True):
            g = open_.pop(d)
            group_at(d - 1).results.append(Node(g.name or "(unnamed subtest)", None, group=g))

    for raw in text.splitlines():
        line = _PREFIX.sub("", raw.rstrip("\r\n"), count=1)
        depth, body = _depth(line)
        body = body.rstrip()
        if _VERSION.match(body):
            g = open_.get(depth)
            if g is not None and g.name and not g.results and g.plan is None:
                # the header of a subtest announced just before it
                close_below(depth)
                continue
            close_below(depth - 1 if depth else 0)
            open_.pop(depth, None)
            group_at(depth)
            continue
        m = _RUNNER.match(body)
        if m:
            close_below(depth)
            open_.pop(depth + 1, None)
            group_at(depth + 1).name = m.group(1)
        m = _SUBTEST.match(body)
        if m:
            close_below(depth)
            if open_.get(depth) is not None and open_[depth].results:
                close_below(depth - 1) if depth else open_.pop(0)
            group_at(depth).name = m.group(1).strip()
            continue
        m = _PLAN.match(body)
        if m:
            close_below(depth)
            group_at(depth).plan = int(m.group(1))
            continue
        m = _RESULT.match(body)
        if m:
            rest = m.group(3)
            cut = re.search(r"(^|\s)#", rest)
            name, directive = (rest[:cut.start()], rest[cut.end():]) if cut else (rest, "")
            close_below(depth + 1)
            child = open_.pop(depth + 1, None)
            # a result's diagnostics are those of its own level: a nested
            # program's summary ("# Totals: ...") is not its parent's
            node = Node(name.strip(), m.group(1) == "ok", directive.strip(),
                        [t for d, t in pending if d == depth and t], child)
            pending = []
            group_at(depth).results.append(node)
            continue
        if body.startswith("#"):
            pending.append((depth, body.lstrip("# ").strip()))
    close_below(0)
    return [d for d in docs if d.results or d.plan is not None]


def _detail(node):
    if node.ok and not node.skipped:
        return node.directive
    if node.directive and not node.skipped:
        return node.directive
    if node.skipped:
        return re.sub(r"^(SKIP|TODO)\s*", "", node.directive, flags=re.I)
    for x in node.diag:
        if _ASSERT.search(x):
            return x
    return node.diag[-1] if node.diag else ""


def _status(node):
    if node.ok is None:
        return Status.FAIL
    if node.skipped:
        return Status.SKIP
    return Status.PASS if node.ok else Status.FAIL


def _plan_rows(suite, path, group, require):
    n = len(group.results)
    if group.plan is None:
        if n == 0:
            return [Result(suite, f"{path}: results", Status.FAIL,
                           "no KTAP results", Kind.INFRA)]
        if not require:
            return []
        return [Result(suite, f"{path}: KTAP plan", Status.FAIL,
                       f"no plan (1..N) with its {n} results: cut short?", Kind.INFRA)]
    if group.plan != n:
        return [Result(suite, f"{path}: KTAP plan", Status.FAIL,
                       f"plan 1..{group.plan}, {n} results", Kind.INFRA)]
    return []


def rows(suite, docs, top_name="", rename=None, plan_depth=99):
    """Result rows of parsed docs (see the module docstring).

    top_name names the top level in its plan row; rename(name) may shorten
    a result's own name (kselftest's "selftests: dax: prog" -> "prog");
    groups nested less than plan_depth deep must carry a plan (KUnit prints
    none for the cases of a parameterised test: 2 for the kernel log)."""
    out = []
    top = top_name or suite

    def walk(group, prefix, depth):
        for node in group.results:
            name = rename(node.name) if rename else node.name
            path = f"{prefix}/{name}" if prefix else name
            sub = node.group
            if node.ok is None:
                if sub is not None and sub.results:
                    walk(sub, path, depth + 1)
                out.append(Result(suite, path, Status.FAIL, "ended without a result line "
                                  "(crashed, killed or timed out)", Kind.INFRA))
                continue
            if sub is not None and (sub.results or sub.plan):
                walk(sub, path, depth + 1)
                out.extend(_plan_rows(suite, path, sub, depth + 1 < plan_depth))
                kids = tuple(f"{path}/{rename(c.name) if rename else c.name}"
                             for c in sub.results)
                out.append(Result(suite, path, _status(node), _detail(node),
                                  Kind.AGGREGATE, kids))
            else:
                out.append(Result(suite, path, _status(node), _detail(node)))

    if not docs:
        return [Result(suite, f"{top}: results", Status.FAIL, "no KTAP output", Kind.INFRA)]
    for doc in docs:
        walk(doc, "", 0)
        out.extend(_plan_rows(suite, top, doc, plan_depth > 0))
    return out


def parse_rows(suite, text, top_name="", rename=None, plan_depth=99):
    return rows(suite, parse(text), top_name, rename, plan_depth)
