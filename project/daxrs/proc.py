# SPDX-License-Identifier: GPL-2.0
"""Processes, git, messages and the errors a user can act on."""

import os
import shlex
import subprocess
import time


class Fail(Exception):
    """An error the user can act on: printed as one `daxrs: error:` message
    without a traceback; the exit status is 2 (usage or environment)."""


def now():
    return time.monotonic()


def fmt_secs(s):
    s = int(s)
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


_T0 = time.monotonic()


def say(msg):
    """A progress line, with the time since the command started."""
    print(f"[daxrs {fmt_secs(now() - _T0):>6}] {msg}", flush=True)


def run(cmd, **kw):
    """Run a command, failing with its output on a non-zero exit."""
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.STDOUT)
    kw.setdefault("text", True)
    try:
        p = subprocess.run(cmd, **kw)
    except OSError as e:
        raise Fail(f"cannot run {shlex.join(cmd)}: {e}") from e
    if p.returncode != 0:
        out = ((p.stdout or "") + (p.stderr or "")).strip().splitlines()[-25:]
        raise Fail(f"command failed ({p.returncode}): {shlex.join(cmd)}\n"
                   + "\n".join("    " + line for line in out))
    return p.stdout or ""


def git(repo, *args, env=None, **kw):
    """git in `repo` with a fixed identity and no user or system config."""
    e = dict(os.environ, GIT_AUTHOR_NAME="daxrs", GIT_AUTHOR_EMAIL="daxrs@localhost",
             GIT_COMMITTER_NAME="daxrs", GIT_COMMITTER_EMAIL="daxrs@localhost",
             GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null")
    if env:
        e.update(env)
    kw.setdefault("stderr", subprocess.PIPE)
    return run(["git", "-C", repo] + list(args), env=e, **kw)


def read_text(path, default=None):
    """A file's text; `default` (if given) when it cannot be read."""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        if default is None:
            raise
        return default


def tail(path, n=30):
    """The last n lines of a file, indented, for an error message."""
    text = read_text(path, "")
    if not text:
        return "    (no output recorded)"
    return "\n".join("    " + line for line in text.splitlines()[-n:])
