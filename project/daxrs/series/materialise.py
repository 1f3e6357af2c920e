# SPDX-License-Identifier: GPL-2.0
"""The series as git commits on the base, checked out in the series work
tree ($DAXRS_CACHE/src/series), where it is edited with git.

The work tree is never changed behind the user's back: uncommitted edits or
commits that were not exported stop the run with what to do instead."""

import dataclasses
import hashlib
import os
import re
import shutil
import subprocess
import tempfile

from daxrs import settings
from daxrs.base import ensure_base
from daxrs.proc import Fail, git, say
from daxrs.series.model import mailinfo, read_series


@dataclasses.dataclass(frozen=True)
class Source:
    """A kernel source tree to build."""
    variant: str    # "base" or "series"
    path: str       # where it is checked out
    tree: str       # git tree id of what is checked out
    tip: str        # its commit id, or ""
    npatches: int   # series patches on the base (0 for the base)


def worktree_state(wt: str) -> list[str]:
    """The tracked paths of a git work tree with uncommitted changes
    (staged or not); untracked files do not count."""
    out = git(wt, "status", "--porcelain", "-z", "--untracked-files=no")
    paths = []
    fields = out.split("\0")
    i = 0
    while i < len(fields):
        entry = fields[i]
        i += 1
        if len(entry) < 4:
            continue
        paths.append(entry[3:])
        if entry[0] in "RC":
            i += 1  # the original path of a rename or copy
    return paths


def _rev(repo: str, ref: str) -> str:
    """The commit id of ref, or "" when it does not exist."""
    return subprocess.run(["git", "-C", repo, "rev-parse", "-q", "--verify",
                           ref + "^{commit}"], capture_output=True,
                          text=True).stdout.strip()


def check_worktree(wt: str, prev_tip: str, new_tip: str) -> bool:
    """Whether the series work tree at wt may (True) or need not (False)
    be moved to new_tip; prev_tip is what branch 'series' was before.

    Fails when it has uncommitted changes, or commits that are neither the
    previous nor the new series (work that was not exported)."""
    dirty = worktree_state(wt)
    if dirty:
        shown = "\n".join("    " + p for p in dirty[:10])
        more = f"\n    ... and {len(dirty) - 10} more" if len(dirty) > 10 else ""
        raise Fail(f"the series work tree {wt} is dirty: uncommitted changes to\n"
                   f"{shown}{more}\n    commit them there and run `./daxrs series "
                   f"export`, or put them aside with `git -C {wt} stash`")
    head = git(wt, "rev-parse", "HEAD").strip()
    if head == new_tip:
        return False
    if prev_tip and head == prev_tip:
        return True
    raise Fail(f"the series work tree {wt} is at {head[:12]}, which is neither "
               f"project/series as last materialised ({prev_tip[:12] or 'none'}) nor "
               f"as it is now ({new_tip[:12]}): commits made there were not exported.\n"
               f"    keep them: `./daxrs series export` (it rewrites project/series)\n"
               f"    drop them: `git -C {wt} checkout --detach series`")


def _commit_series(base: str, entries: list) -> str:
    """Commit the patches onto tag 'base' in a private index; the tip.

    The author's date is the committer date, so the same series gives the
    same commit ids."""
    tip = git(base, "rev-parse", "refs/tags/base^{commit}").strip()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
        git(base, "read-tree", tip, env=env)
        for name, adds in entries:
            hdr, body, difff = mailinfo(os.path.join(settings.SERIES_DIR, name), tmp)
            if os.path.getsize(difff):
                p = subprocess.run(["git", "-C", base, "apply", "--cached",
                                    "--whitespace=nowarn", difff],
                                   env=dict(os.environ, **env), capture_output=True, text=True)
                if p.returncode != 0:
                    files = sorted(set(re.findall(r"error: (?:patch failed: )?([^:\s]+)",
                                                  p.stderr)))
                    raise Fail(
                        f"patch {name} does not apply to the pinned base + the patches "
                        f"before it\n    files: {', '.join(files) or '?'}\n" +
                        "\n".join("    " + x for x in p.stderr.strip().splitlines()[:10]) +
                        f"\n    rebase it: in {os.path.join(settings.CACHE, 'src', 'series')}"
                        f", `git am -3 {os.path.join(settings.SERIES_DIR, name)}` on the "
                        f"commit of the patch before it, fix, then `./daxrs series export`")
            for path in adds:
                if git(base, "ls-files", "--", path, env=env).strip():
                    raise Fail(f"patch {name} adds {path}, which the base + the patches "
                               f"before it already have: list it as changed, not added")
                src = os.path.join(settings.REPO, path)
                sha = git(base, "hash-object", "-w", "--path", path, src).strip()
                mode = "100755" if os.access(src, os.X_OK) else "100644"
                git(base, "update-index", "--add", "--cacheinfo", f"{mode},{sha},{path}",
                    env=env)
            tree = git(base, "write-tree", env=env).strip()
            ident = {"GIT_AUTHOR_NAME": hdr["Author"], "GIT_AUTHOR_EMAIL": hdr["Email"],
                     "GIT_AUTHOR_DATE": hdr["Date"], "GIT_COMMITTER_NAME": hdr["Author"],
                     "GIT_COMMITTER_EMAIL": hdr["Email"], "GIT_COMMITTER_DATE": hdr["Date"]}
            msg = hdr["Subject"] + ("\n\n" + body if body else "") + "\n"
            tip = git(base, "commit-tree", tree, "-p", tip, "-m", msg,
                      env=dict(env, **ident)).strip()
    return tip


def _definition_digest(entries: list) -> str:
    """sha256 of project/series/series and every file it names."""
    h = hashlib.sha256()
    paths = [settings.SERIES_FILE]
    for name, adds in entries:
        paths.append(os.path.join(settings.SERIES_DIR, name))
        paths += [os.path.join(settings.REPO, p) for p in adds]
    for p in paths:
        with open(p, "rb") as f:
            h.update(p.encode() + b"\0" + f.read() + b"\0")
    return h.hexdigest()


# materialised once per process: (base, definition digest) -> Source
_MATERIALISED: dict = {}


def materialise_series(base: str) -> Source:
    """Commit the series onto the base (branch 'series') and check it out in
    the series work tree.

    The commits are made in a private index (no work tree is touched), and
    the checkout at the end rewrites only the files whose content changed:
    incremental builds stay incremental.  The work tree is moved only when
    it is clean and at the previous series (see check_worktree)."""
    entries = read_series()
    memo = (base, _definition_digest(entries))
    if memo in _MATERIALISED:
        return _MATERIALISED[memo]
    tip = _commit_series(base, entries)
    prev = _rev(base, "refs/heads/series")
    wt = os.path.join(settings.CACHE, "src", "series")
    if os.path.exists(os.path.join(wt, ".git")):
        move = check_worktree(wt, prev, tip)
        git(base, "update-ref", "refs/heads/series", tip)
        if move:
            git(wt, "checkout", "-q", "-f", "--detach", tip)
    else:
        git(base, "update-ref", "refs/heads/series", tip)
        wt = series_worktree(base)
    n = len(entries)
    say(f"series: {n} patch{'es' if n != 1 else ''} on the base, tip {tip[:12]}")
    src = Source("series", wt, git(base, "rev-parse", tip + "^{tree}").strip(), tip, n)
    _MATERIALISED[memo] = src
    return src


def series_worktree(base: str) -> str:
    """The series work tree, created at branch 'series' when missing."""
    wt = os.path.join(settings.CACHE, "src", "series")
    if not os.path.exists(os.path.join(wt, ".git")):
        if os.path.exists(wt):
            shutil.rmtree(wt)
        git(base, "worktree", "prune")
        say("creating the series work tree")
        git(base, "worktree", "add", "-q", "--detach", wt, "refs/heads/series")
    return wt


def series_commits(wt: str, head: str = "HEAD") -> list[str]:
    """The commits from tag 'base' to head in the work tree, oldest first,
    checked to be a straight line on the base."""
    base = git(wt, "rev-parse", "refs/tags/base^{commit}").strip()
    if subprocess.run(["git", "-C", wt, "merge-base", "--is-ancestor", base, head]
                      ).returncode != 0:
        raise Fail(f"{head} of {wt} is not on the base (tag 'base'): rebase it onto 'base'")
    if git(wt, "rev-list", "--merges", f"{base}..{head}").strip():
        raise Fail(f"the series in {wt} has merge commits: a patch series is a line")
    return [c for c in git(wt, "rev-list", "--reverse", f"{base}..{head}").split() if c]


def source_tree(variant: str) -> Source:
    """The source of a variant: the pinned base, or the series materialised on it."""
    if variant not in settings.VARIANTS:
        raise Fail(f"unknown variant {variant!r}: one of {', '.join(settings.VARIANTS)}")
    base = ensure_base()
    if variant == "series":
        return materialise_series(base)
    tip = git(base, "rev-parse", "refs/tags/base^{commit}").strip()
    return Source("base", base, git(base, "rev-parse", tip + "^{tree}").strip(), tip, 0)
