# SPDX-License-Identifier: GPL-2.0
"""The committed baseline: the unpatched base's results, tied to what
produced them.

project/baseline/base-<pmem>.tsv holds the rows, after a header line that
records the fingerprint of everything that decides how the base's rows are
produced and read: the pin, the config fragments, the guest scripts and
probe, the tooling's parsers and suite declarations.  (The selftests come
with the series and change with it; a changed selftest is judged by the
gap declarations, which match each failure's detail.)  A baseline whose
fingerprint differs from the current one still shows what was lost, but
cannot make a failure a gap."""

import datetime
import hashlib
import os

from daxrs import settings
from daxrs.proc import say
from daxrs.results import Kind, Status, counts, from_tsv, to_tsv

# repository paths (files or directories) the fingerprint covers
FINGERPRINTED = (
    "project/base.pin",
    "project/config/test-kernel.config",
    "project/config/test-kernel.series.config",
    "project/guest",
    "project/daxrs/parse",
    "project/daxrs/suites/registry.py",
    "project/daxrs/suites/collect.py",
)
# files under those that no test guest reads: the benchmark's own guest
# script and program (`daxrs bench` compares variants within one run and
# never uses the baseline)
NOT_FINGERPRINTED = frozenset({
    "project/guest/bench.sh",
    "project/guest/daxbench.c",
})
HEADER = "# daxrs-baseline"


def _files(root, rel):
    path = os.path.join(root, rel)
    if os.path.isfile(path):
        return [rel]
    found = []
    for d, dirs, files in os.walk(path):
        dirs[:] = sorted(x for x in dirs if x != "__pycache__")
        found += [os.path.relpath(os.path.join(d, f), root) for f in sorted(files)
                  if not f.endswith(".pyc")]
    return found


def fingerprint(root=settings.REPO, paths=FINGERPRINTED, skip=NOT_FINGERPRINTED):
    """sha256 (16 hex) over the names and contents of the fingerprinted files."""
    h = hashlib.sha256()
    for rel in paths:
        for f in _files(root, rel):
            if f in skip:
                continue
            h.update(f.encode() + b"\0")
            with open(os.path.join(root, f), "rb") as fh:
                h.update(hashlib.sha256(fh.read()).digest())
    return h.hexdigest()[:16]


def path_for(pmem):
    return os.path.join(settings.BASELINE_DIR, f"base-{pmem}.tsv")


def load(pmem):
    """(rows, recorded fingerprint, header fields) or (None, None, {})."""
    p = path_for(pmem)
    if not os.path.exists(p):
        return None, None, {}
    with open(p, errors="replace") as f:
        text = f.read()
    fields = {}
    first = text.splitlines()[0] if text else ""
    if first.startswith(HEADER):
        for tok in first[len(HEADER):].split():
            k, _, v = tok.partition("=")
            fields[k] = v
    return from_tsv(text), fields.get("fingerprint"), fields


def record(pmem, meta, rows):
    """Write the base run into project/baseline/ (asked for explicitly)."""
    os.makedirs(settings.BASELINE_DIR, exist_ok=True)
    date = datetime.date.today().isoformat()
    header = (f"{HEADER} fingerprint={meta.fingerprint} release={meta.release} "
              f"tree={meta.tree[:12]} date={date} pmem={pmem}\n")
    with open(path_for(pmem), "w") as f:
        f.write(header + to_tsv(rows))
    n = counts(rows)
    md = os.path.join(settings.BASELINE_DIR, f"base-{pmem}.md")
    with open(md, "w") as f:
        f.write(f"# Baseline: the unpatched base, `./daxrs test` with {pmem} pmem\n\n"
                f"Kernel {meta.release}, recorded {date} with `./daxrs test "
                f"--record-baseline{'' if pmem == 'all' else ' --pmem ' + pmem}`; "
                f"fingerprint `{meta.fingerprint}` (see project/daxrs/baseline.py).\n"
                f"Every later run of the series is compared with `base-{pmem}.tsv`.\n\n"
                f"**{n[Status.PASS]} passed, {n[Status.FAIL]} failed, "
                f"{n[Status.SKIP]} skipped**\n\n"
                "| suite | test | result | detail |\n|---|---|---|---|\n")
        for r in rows:
            if r.suite == "kunit" and r.kind is not Kind.INFRA and r.test.count("/") > 0:
                continue
            f.write(f"| {r.suite} | {r.test} | {r.status.value} | {r.detail[:120]} |\n")
    say(f"baseline recorded in {os.path.relpath(settings.BASELINE_DIR, settings.REPO)}/"
        f"base-{pmem}.{{tsv,md}} (fingerprint {meta.fingerprint})")
