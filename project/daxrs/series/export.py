# SPDX-License-Identifier: GPL-2.0
"""`./daxrs series export`: the commits of the series work tree written back
into project/series (one mail-format patch each) and the files they add
(whole, at their kernel-tree paths in the repository)."""

import os
import subprocess

from daxrs import settings
from daxrs.base import ensure_base
from daxrs.proc import Fail, git, say
from daxrs.series.materialise import series_commits, series_worktree, worktree_state
from daxrs.series.model import SERIES_HEADER, TOOLING, read_series, slug


def commit_patch(wt: str, c: str, added: list[str], changed: list[str]) -> str:
    """The mail-format patch of commit c: message and the diff of `changed`;
    the `added` files are only named."""
    fmt = "%an%x00%ae%x00%aD%x00%s%x00%b"
    an, ae, ad, subject, body = git(wt, "log", "-1", f"--format={fmt}", c).split("\x00")
    out = ["From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001",
           f"From: {an} <{ae}>", f"Date: {ad}", f"Subject: [PATCH] {subject}",
           "MIME-Version: 1.0", "Content-Type: text/plain; charset=UTF-8",
           "Content-Transfer-Encoding: 8bit", "", body.strip(), "---"]
    if added:
        out.append("Adds (whole files, at their kernel-tree paths in the repository):")
        out += [f"  {p}" for p in added]
    if changed:
        out.append(git(wt, "diff", "--no-renames", "--stat=72", f"{c}^", c, "--",
                       *changed).rstrip())
        out.append("")
        out.append(git(wt, "diff", "--no-renames", "--binary", "--full-index", f"{c}^", c,
                       "--", *changed).rstrip("\n"))
    return "\n".join(out) + "\n"


def _blob(wt: str, c: str, path: str) -> bytes:
    p = subprocess.run(["git", "-C", wt, "cat-file", "blob", f"{c}:{path}"],
                       capture_output=True)
    if p.returncode != 0:
        raise Fail(f"cannot read {path} of commit {c[:12]} in {wt}: "
                   f"{p.stderr.decode(errors='replace').strip()}")
    return p.stdout


def _split_commit(wt: str, c: str, subject: str) -> tuple[list[str], list[str]]:
    """(added, changed) paths of commit c."""
    added, changed = [], []
    raw = git(wt, "diff-tree", "-r", "--no-renames", "--name-status", "-z",
              f"{c}^", c).split("\x00")
    for st, path in zip(raw[0::2], raw[1::2]):
        if st == "A":
            if path.startswith(TOOLING):
                raise Fail(f"commit {c[:12]} ({subject}) adds {path}, a path the "
                           f"repository keeps for its tooling: the series cannot add it")
            added.append(path)
        else:
            changed.append(path)
    return added, changed


def _remove_added(path: str) -> None:
    """Remove a file the series no longer adds, and the directories it empties."""
    full = os.path.join(settings.REPO, path)
    if not os.path.exists(full):
        return
    os.unlink(full)
    d = os.path.dirname(full)
    while d != settings.REPO and os.path.isdir(d) and not os.listdir(d):
        os.rmdir(d)
        d = os.path.dirname(d)


def export() -> int:
    """Write the commits of the series work tree back into project/series
    and the added files, replacing what was there; 0."""
    base = ensure_base()
    wt = series_worktree(base)
    dirty = worktree_state(wt)
    if dirty:
        raise Fail(f"{wt} has uncommitted changes ({', '.join(dirty[:10])}"
                   f"{', ...' if len(dirty) > 10 else ''}): commit them (git commit "
                   f"--fixup, --amend, ...) before exporting")
    commits = series_commits(wt)
    old = read_series()
    entries, files = [], {}
    for i, c in enumerate(commits, 1):
        subject = git(wt, "log", "-1", "--format=%s", c).strip()
        added, changed = _split_commit(wt, c, subject)
        name = f"{i:04d}-{slug(subject)}.patch"
        files[name] = commit_patch(wt, c, added, changed)
        entries.append((name, added, changed, c))
    # Files the old definition added and the new one does not: remove them.
    new_added = {p for e in entries for p in e[1]}
    for _, adds in old:
        for p in adds:
            if p not in new_added:
                _remove_added(p)
    for name, _ in old:
        if name not in files:
            os.unlink(os.path.join(settings.SERIES_DIR, name))
    for name, added, changed, c in entries:
        with open(os.path.join(settings.SERIES_DIR, name), "w") as f:
            f.write(files[name])
        for p in added:
            dst = os.path.join(settings.REPO, p)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            mode = git(wt, "ls-tree", c, "--", p).split()[0]
            with open(dst, "wb") as f:
                f.write(_blob(wt, c, p))
            os.chmod(dst, 0o755 if mode == "100755" else 0o644)
    with open(settings.SERIES_FILE, "w") as f:
        f.write(SERIES_HEADER)
        for name, added, changed, _ in entries:
            f.write("\n" + name + "\n")
            f.writelines(f"\t+ {p}\n" for p in added)
            f.writelines(f"\t~ {p}\n" for p in changed)
    git(base, "update-ref", "refs/heads/series", git(wt, "rev-parse", "HEAD").strip())
    n = len(entries)
    say(f"exported {n} patch{'es' if n != 1 else ''} to project/series "
        f"({len(new_added)} added files at their kernel-tree paths); "
        f"review with `git -C {settings.REPO} diff --stat`")
    return 0
