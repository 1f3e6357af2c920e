# SPDX-License-Identifier: GPL-2.0
"""The test kernel's configuration: allnoconfig, the fragment
(project/config/test-kernel.config) and, on the series, the series fragment
(test-kernel.series.config), each symbol checked to resolve as written."""

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterable

from daxrs import settings
from daxrs.kernel import kbuild
from daxrs.proc import Fail, run


def parse_config(path: str) -> dict[str, str]:
    """{CONFIG_X: value} of a .config or fragment; "is not set" is "n"."""
    vals = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            m = re.match(r"(CONFIG_\w+)=(.*)", line)
            if m:
                vals[m.group(1)] = m.group(2)
            m = re.match(r"# (CONFIG_\w+) is not set", line)
            if m:
                vals[m.group(1)] = "n"
    return vals


def merge_cmd(src: str, out_dir: str, base: str, fragments: list[str]) -> list[str]:
    """The kernel's own scripts/kconfig/merge_config.sh in merge-only mode
    (-m): the symbols of each fragment written over base, into
    out_dir/.config (base may be that file).  Run it with cwd=src, then
    olddefconfig to resolve, then unresolved() to check."""
    return [os.path.join(src, "scripts", "kconfig", "merge_config.sh"), "-m", "-O", out_dir,
            base] + list(fragments)


def unresolved(want: dict[str, str], config: str) -> list[str]:
    """The symbols of want (parse_config() of the fragments) that the
    resolved .config at config does not have as asked, each as
    "CONFIG_X: asked v, got w" (a symbol the .config lacks is n)."""
    got = parse_config(config)
    return [f"{k}: asked {v}, got {got.get(k, 'n')}" for k, v in want.items()
            if got.get(k, "n") != v]


def defined_symbols(src: str, symbols: Iterable[str]) -> set[str]:
    """Those of the CONFIG_ symbols that a Kconfig file of the tree at src
    defines (`config X` or `menuconfig X`)."""
    names = sorted({s[len("CONFIG_"):] for s in symbols if s.startswith("CONFIG_")})
    if not names:
        return set()
    r = subprocess.run(["grep", "-rhosE", "--include=Kconfig*",
                        rf"^(menu)?config ({'|'.join(map(re.escape, names))})[[:space:]]*$",
                        src], capture_output=True, text=True)
    return {"CONFIG_" + line.split()[1] for line in r.stdout.splitlines() if line.split()}


def kconfig_defines(src: str, symbol: str) -> bool:
    """Whether a Kconfig file of the tree at src defines CONFIG_<symbol>."""
    return symbol in defined_symbols(src, [symbol])


def missing_series_symbols(src: str, fragment_values: dict[str, str]) -> list[str]:
    """The symbols of the series fragment that no Kconfig of the tree at src
    defines, in fragment order."""
    have = defined_symbols(src, fragment_values)
    return [k for k in fragment_values if k not in have]


def _series_fragment(src: str, require_series: bool) -> dict[str, str]:
    """What of the series fragment applies to the tree at src."""
    if not os.path.exists(settings.SERIES_FRAGMENT):
        return {}
    vals = parse_config(settings.SERIES_FRAGMENT)
    missing = missing_series_symbols(src, vals)
    if missing and require_series:
        raise Fail(f"the series no longer defines {', '.join(missing)}: "
                   f"{os.path.relpath(settings.SERIES_FRAGMENT, settings.REPO)} asks for "
                   f"{'it' if len(missing) == 1 else 'them'} and no Kconfig of the series "
                   f"tree defines {'it' if len(missing) == 1 else 'them'}.\n    fix the "
                   f"fragment or the series")
    return {k: v for k, v in vals.items() if k not in missing}


def configure(src: str, out: str, tools: dict, require_series: bool = True,
              with_series: bool = True, flavour: str = "") -> str:
    """allnoconfig + the fragment(s), checked symbol by symbol, into out/.config;
    the short hash (12 hex of its sha256) of the resolved .config.

    with_series=False (the base): the series fragment is skipped.  Else
    require_series (the series at its tip): each of its symbols must be
    defined by the tree's Kconfig; without it (a patch in the middle of the
    series) the undefined ones are left out.  The .config in the build dir
    is only replaced when it changes, to keep builds incremental.  flavour
    ("debug", "bench", "c", ...): that flavour's fragments too
    (settings.FLAVOURS)."""
    kdir = out + ".kconfig"
    os.makedirs(kdir, exist_ok=True)
    env = kbuild.build_env()
    run(kbuild.make_cmd(src, kdir, tools, "allnoconfig"), env=env)
    fragments = [settings.CONFIG_FRAGMENT]
    want = parse_config(settings.CONFIG_FRAGMENT)
    extra = _series_fragment(src, require_series) if with_series else {}
    if extra:
        frag = os.path.join(kdir, "series.config")
        with open(frag, "w") as f:
            f.writelines(f"{k}={v}\n" for k, v in extra.items())
        fragments.append(frag)
        want.update(extra)
    for frag in settings.FLAVOURS[flavour] if flavour else []:
        fragments.append(frag)
        want.update(parse_config(frag))
    new = os.path.join(kdir, ".config")
    run(merge_cmd(src, kdir, new, fragments), env=env, cwd=src)
    run(kbuild.make_cmd(src, kdir, tools, "olddefconfig"), env=env)
    bad = unresolved(want, new)
    if bad:
        raise Fail("the config fragment does not resolve as written "
                   "(a dependency is missing or a symbol is misspelt):\n" +
                   "\n".join("    " + b for b in bad))
    with open(new, "rb") as f:
        resolved = f.read()
    os.makedirs(out, exist_ok=True)
    cur = os.path.join(out, ".config")
    current = None
    if os.path.exists(cur):
        with open(cur, "rb") as f:
            current = f.read()
    if current != resolved:
        shutil.copy(new, cur)
    return hashlib.sha256(resolved).hexdigest()[:12]
