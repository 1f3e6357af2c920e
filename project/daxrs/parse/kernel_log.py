# SPDX-License-Identifier: GPL-2.0
"""The kernel-log scan: any report of a kernel problem fails the run.

The guest saves the log twice: dmesg.txt for people and dmesg.raw
(`dmesg -r`, "<prio>[time] text") for this scan, which keeps only the
kernel's own records (facility 0): a user-space line written to /dev/kmsg
that happens to say "WARNING" is not a kernel report.  The guest's runner
writes "daxrs: suite NAME begin" markers (user space) so that each report
is attributed to the suite that was running."""

import dataclasses
import re

from daxrs.results import Kind, Result, Status

# Reports of the kernel itself: oopses, WARN, BUG, sanitizers, lockdep, RCU,
# hangs.  "Call Trace:" catches the reports that only dump a stack.
KERNEL_REPORT = re.compile(
    r"(\bOops\b|\bBUG:|kernel BUG at|WARNING:|\bKASAN\b|\bUBSAN\b|\bKFENCE\b|"
    r"possible (recursive|circular) locking|inconsistent lock state|"
    r"DEBUG_LOCKS_WARN_ON|possible irq lock inversion|bad unlock balance|"
    r"lock held when returning|trying to register non-static key|"
    r"turning off the locking correctness validator|suspicious RCU usage|"
    r"rcu: INFO: .*stall|self-detected stall|"
    r"blocked for more than \d+ seconds|soft lockup|hard LOCKUP|"
    r"Kernel panic|general protection fault|Call Trace:)")

# Data-integrity reports of the file systems and of memory failure handling:
# a DAX bug shows up here before it shows up as a crash.  Not applied while
# fstests runs: its tests corrupt file systems and fail their I/O on purpose
# and check the log themselves (a test whose dmesg has a kernel report fails
# in fstests).  XFS dumps the stack with an "Internal error" report
# (xfs_error_report()): that stack is part of the file system's report, not
# one of the kernel's.
FS_REPORT = re.compile(
    r"(EXT4-fs error|EXT4-fs \(\S+\): .*(corrupt|error count)|"
    r"XFS \(\S+\): (Corruption|Metadata corruption|Internal error|"
    r".*[Ss]hutting down filesystem|"
    r"Filesystem has been shut down|.*xfs_do_force_shutdown)|"
    r"Memory failure: .*recovery action for .*: Failed|"
    r"Page cache invalidation failure on direct I/O)")

# the lines dump_stack() prints above "Call Trace:"
_STACK_HEADER = re.compile(r"^(?:\[\s*[\d.]+\] ?)?(CPU: \d+ |Tainted: |Hardware name: )")
_CALL_TRACE = re.compile(r"^(?:\[\s*[\d.]+\] ?)?Call Trace:")
_RAW = re.compile(r"^<(\d+)>(.*)$")
_MARK = re.compile(r"daxrs: suite (\S+) (begin|end)")
# where a report's trace ends: the "---[ end trace" line, or the next
# line that is clearly not part of it
_END = re.compile(r"---\[ end trace|---\[ end Kernel panic")
CONTEXT = 40


@dataclasses.dataclass
class Report:
    suite: str        # the suite that was running ("boot" before any)
    line: str         # the matching line
    context: list     # the report from its header line through its trace


def kernel_lines(text):
    """[(suite, line)] of the kernel's own records in a log; user-space
    records (facility > 0 in dmesg -r output) are dropped, after reading the
    suite markers among them.  A log without <prio> prefixes is kept whole."""
    out, suite = [], "boot"
    for raw in text.splitlines():
        m = _RAW.match(raw)
        body = m.group(2) if m else raw
        mark = _MARK.search(body)
        if mark:
            suite = mark.group(1) if mark.group(2) == "begin" else "between suites"
            continue
        if m and int(m.group(1)) >> 3 != 0:
            continue
        out.append((suite, body))
    return out


def _dumped_by_fs(lines, i):
    """Whether the "Call Trace:" at lines[i] is the stack a file system
    report dumps: the line above dump_stack()'s header is that report."""
    j = i
    while j > 0 and i - j < 4 and _STACK_HEADER.search(lines[j - 1][1]):
        j -= 1
    return j > 0 and j < i and bool(FS_REPORT.search(lines[j - 1][1]))


def scan(text, fs_exempt=("fstests",)):
    """The kernel reports in a log, each with its context."""
    lines = kernel_lines(text)
    reports = []
    i = 0
    while i < len(lines):
        suite, body = lines[i]
        fs = FS_REPORT.search(body) and suite not in fs_exempt
        if _CALL_TRACE.search(body) and _dumped_by_fs(lines, i):
            # the stack of the file system's report just above: a report
            # (the header line's) only where file system reports count
            i += 1
            continue
        if KERNEL_REPORT.search(body) or fs:
            # a report's header sits a line or two above "Call Trace:" etc.
            start = i
            while start > 0 and i - start < 3 and re.search(
                    r"(\bCPU: \d+|Hardware name|RIP:|Modules linked in|WARNING:|BUG:)",
                    lines[start - 1][1]):
                start -= 1
            end = i + 1
            while end < len(lines) and end - start < CONTEXT and not _END.search(lines[end - 1][1]):
                end += 1
            ctx = [b for _, b in lines[start:end]]
            reports.append(Report(suite, body, ctx))
            # the lines of this report's trace are part of it, not new reports
            i = end if not fs else i + 1
            continue
        i += 1
    return reports


def log_rows(suite, name, text):
    """One INFRA row per guest log: it fails on any report; the first one is
    named with the suite that was running."""
    reps = scan(text)
    if not text.strip():
        return [Result(suite, name, Status.FAIL, "no kernel log was saved", Kind.INFRA)], reps
    if not reps:
        return [Result(suite, name, Status.PASS, "", Kind.INFRA)], reps
    first = reps[0]
    where = sorted(set(r.suite for r in reps))
    return [Result(suite, name, Status.FAIL,
                   f"{len(reps)} report(s), during {', '.join(where)}; first: {first.line[:200]}",
                   Kind.INFRA)], reps
