# SPDX-License-Identifier: GPL-2.0
"""The series definition: project/series/series, its patches, the cover letter.

project/series/series lists the patches in order.  Each entry is a patch
file in this directory (mail format: subject, message with Signed-off-by,
and the diff of the files it changes that exist before it), followed by
indented lines that name the files it adds ("+ path") and, for the reader,
the files its diff changes ("~ path", rewritten by export).  Added files
live whole at their kernel-tree paths in the repository; a later patch
that changes such a file carries a diff against it."""

import os
import re
import subprocess

from daxrs import settings
from daxrs.proc import Fail

# Repository paths that belong to the tooling, never to the kernel tree.
TOOLING = ("README.md", "daxrs", "project/", ".ci/", ".git/", ".gitignore")
SERIES_HEADER = """\
# The FS DAX refcount series, in order; `./daxrs series` materialises,
# exports, emits and lints it (see README.md, "Working on the series").
#
#   NNNN-subject.patch      the patch: mail headers, message, the diff of the
#                           files it changes (git am format)
#       + path              a file the patch adds; it lives whole at that
#                           kernel-tree path in this repository
#       ~ path              a file the patch's diff changes (informational)
"""


def _kernel_path(path: str) -> bool:
    """Whether path names a file of the kernel tree that is not the tooling's."""
    return not (path.startswith(TOOLING) or os.path.isabs(path)
                or path != os.path.normpath(path) or ".." in path.split("/"))


def read_series() -> list[tuple[str, list[str]]]:
    """[(patch file name, [added paths])] from project/series/series."""
    entries: list[tuple[str, list[str]]] = []
    with open(settings.SERIES_FILE) as f:
        for n, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].rstrip()
            if not line.strip():
                continue
            where = f"project/series/series:{n}"
            if not line[0].isspace():
                name = line.strip()
                if not os.path.exists(os.path.join(settings.SERIES_DIR, name)):
                    raise Fail(f"{where} lists {name}, which is not in project/series/")
                entries.append((name, []))
                continue
            parts = line.split(None, 1)
            kind, path = parts[0], (parts[1].strip() if len(parts) > 1 else "")
            if kind not in ("+", "~") or not path or not entries:
                raise Fail(f"{where}: expected '+ path' or '~ path' under a patch, "
                           f"got {line.strip()!r}")
            if kind == "+":
                if not _kernel_path(path):
                    raise Fail(f"{where}: {path} is not a kernel-tree path of its own "
                               f"(it is the tooling's, or leaves the tree)")
                if not os.path.isfile(os.path.join(settings.REPO, path)):
                    raise Fail(f"{where}: {entries[-1][0]} adds {path}, but the "
                               f"repository has no file at {path}")
                entries[-1][1].append(path)
    return entries


def series_patches() -> list[str]:
    """The paths of the patch files, in order."""
    return [os.path.join(settings.SERIES_DIR, name) for name, _ in read_series()]


def mailinfo(patch: str, tmp: str) -> tuple[dict, str, str]:
    """(headers, message, diff file) of a mail-format patch; the message
    and diff files are written into tmp."""
    msgf, difff = os.path.join(tmp, "msg"), os.path.join(tmp, "diff")
    with open(patch) as stdin:
        info = subprocess.run(["git", "mailinfo", "-u", msgf, difff], stdin=stdin,
                              capture_output=True, text=True)
    if info.returncode != 0:
        raise Fail(f"{os.path.basename(patch)} is not a mail-format patch: "
                   f"{info.stderr.strip()}")
    hdr = dict(line.split(": ", 1) for line in info.stdout.splitlines() if ": " in line)
    with open(msgf) as f:
        body = f.read().strip()
    for key in ("Author", "Email", "Subject", "Date"):
        if not hdr.get(key):
            raise Fail(f"{os.path.basename(patch)} has no {key}: it needs From:, Date: "
                       f"and Subject: headers")
    return hdr, body, difff


def slug(subject: str) -> str:
    """git format-patch's file name for a subject."""
    s = re.sub(r"[^A-Za-z0-9._]+", "-", subject).strip("-.")
    return re.sub(r"\.+", ".", s)[:52].rstrip("-.")


def parse_from(value: str) -> tuple[str, str]:
    """(name, email) of a `Name <email>` header value."""
    m = re.fullmatch(r"\s*(.*?)\s*<([^<>\s]+@[^<>\s]+)>\s*", value)
    if not m or not m.group(1):
        raise Fail(f"project/series/cover-letter: 'From: {value}' is not "
                   f"'Name <email>'")
    return m.group(1), m.group(2)


def read_cover() -> tuple[dict, str]:
    """(headers, blurb) of project/series/cover-letter, checked: From is
    `Name <email>`, Version a number from 1."""
    with open(settings.COVER) as f:
        head, _, blurb = f.read().partition("\n\n")
    hdr = dict(line.split(": ", 1) for line in head.splitlines() if ": " in line)
    for key in ("From", "Subject", "Version"):
        if key not in hdr:
            raise Fail(f"project/series/cover-letter has no '{key}:' header")
    parse_from(hdr["From"])
    if not re.fullmatch(r"\s*[1-9]\d*\s*", hdr["Version"]):
        raise Fail(f"project/series/cover-letter: 'Version: {hdr['Version']}' is not "
                   f"a number from 1")
    return hdr, blurb.strip()
