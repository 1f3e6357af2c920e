# SPDX-License-Identifier: GPL-2.0
"""`./daxrs series emit`: git format-patch of the series with a cover
letter, checked with git am onto a fresh extraction of the base."""

import os
import re
import shutil
import subprocess
import tempfile

from daxrs import settings
from daxrs.base import base_tarball, commit_base, extract_base, read_pin
from daxrs.proc import Fail, git, read_text, say
from daxrs.series.materialise import Source, series_commits
from daxrs.series.model import parse_from, read_cover

NO_TABLE = "(no test results in this mail)\n"


def results_table(src: Source) -> str | None:
    """The test table of a `./daxrs test --with-base` run of exactly this
    source tree, or None."""
    path = os.path.join(settings.RESULTS, "by-tree", src.tree + ".md")
    return read_text(path) if os.path.exists(path) else None


def _cover_body(blurb: str, table: str) -> str:
    pin = read_pin()
    return (blurb + "\n\n" + f"Base: Linux {pin.kernelversion} as Debian ships it "
            f"({pin.package} {pin.version},\n{os.path.basename(pin.tarball)} "
            f"sha256 {pin.sha256}).\n\n" + table).rstrip()


def emit(out: str, src: Source, check: bool = True, table: bool = True) -> list[str]:
    """git format-patch of the series src into `out` (emptied first), with a
    cover letter; [cover, patches...].  table: the cover letter carries the
    test table of a run of this very tree (Fail when there is none), else a
    line saying it has none.  check: git am onto a fresh base (check_am)."""
    commits = series_commits(src.path, src.tip)
    if not commits:
        raise Fail("the series is empty: nothing to emit")
    hdr, blurb = read_cover()
    if table:
        text = results_table(src)
        if text is None:
            raise Fail(f"no `./daxrs test --with-base` run of this series tree (tree "
                       f"{src.tree[:12]}): run it first, or emit with --no-table")
    else:
        text = NO_TABLE
    version = int(hdr["Version"])
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    cmd = ["format-patch", "-q", "-o", out, "--cover-letter", "--base=refs/tags/base",
           "--thread=shallow", "--no-renames", f"--subject-prefix={hdr.get('Prefix', 'PATCH')}"]
    if version > 1:
        cmd.append(f"-v{version}")
    # The cover letter is from the series' maintainer (cover-letter's From:)
    name, email = parse_from(hdr["From"])
    git(src.path, *cmd, f"refs/tags/base..{src.tip}",
        env={"GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email,
             "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email})
    patches = sorted(os.path.join(out, x) for x in os.listdir(out) if x.endswith(".patch"))
    cover = patches[0]
    letter = read_text(cover)
    if "Change-Id" in hdr:
        letter = re.sub(r"^(base-commit: \w+)$", f"\\1\nchange-id: {hdr['Change-Id']}",
                        letter, flags=re.M)
    letter = letter.replace("*** SUBJECT HERE ***", hdr["Subject"]) \
        .replace("*** BLURB HERE ***", _cover_body(blurb, text))
    with open(cover, "w") as f:
        f.write(letter)
    say(f"emitted {len(patches) - 1} patches and a cover letter (v{version}) into {out}")
    if check:
        check_am(patches[1:], src.tree)
    return patches


def check_am(patches: list[str], want_tree: str) -> None:
    """git am the patches onto a fresh extraction of the base tarball (the
    one in use: DAXRS_BASE_TARBALL or the pin's); the result must be
    want_tree, the series tree that was built and tested."""
    pin = read_pin()
    tarball = base_tarball(pin)
    os.makedirs(settings.CACHE, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=settings.CACHE) as tmp:
        say(f"checking: git am onto a fresh extraction of {tarball}")
        extract_base(tarball, tmp)
        commit_base(tmp, pin)
        git(tmp, "reset", "-q")
        p = subprocess.run(["git", "-C", tmp, "am", "-q"] + list(patches),
                           capture_output=True, text=True,
                           env=dict(os.environ, GIT_COMMITTER_NAME="daxrs",
                                    GIT_COMMITTER_EMAIL="daxrs@localhost"))
        if p.returncode != 0:
            raise Fail("the emitted series does not apply with git am onto a fresh base:\n" +
                       "\n".join("    " + x for x in (p.stdout + p.stderr).splitlines()[:15]))
        got = git(tmp, "rev-parse", "HEAD^{tree}").strip()
        if got != want_tree:
            raise Fail(f"git am gave tree {got}, the series tree is {want_tree}: the "
                       f"emitted mail loses something (binary files? modes?)")
    say(f"git am: {len(patches)} patches applied cleanly; the tree is the series tree "
        f"({want_tree[:12]})")
