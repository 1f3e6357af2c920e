# SPDX-License-Identifier: GPL-2.0
"""Building a variant: configure, make (with a progress line every 30 s),
modules_install into a staging root, the mocked test modules and the
kselftests.  The series is built with CLIPPY=1 (clippy-driver in place of
rustc: the same objects, plus lints)."""

import dataclasses
import os
import re
import shutil
import subprocess
import threading

from daxrs import settings
from daxrs.kernel import kconfig, testmods
from daxrs.proc import Fail, fmt_secs, now, read_text, run, say
from daxrs.series import lint as series_lint
from daxrs.series.materialise import Source

STEP_RE = re.compile(r"^\s+(CC|RUSTC|RUSTC L|CLIPPY|CLIPPY L|LD|AR|AS|BINDGEN|EXPORTS|HOSTCC|"
                     r"CC \[M\]|LD \[M\]|BTF|OBJCOPY|GEN|UPD|CALL)\s+(\S+)")


@dataclasses.dataclass(frozen=True)
class Kernel:
    """A built variant, ready to boot."""
    variant: str
    out: str                # the build dir (O=)
    src: str                # the source tree
    release: str            # `make kernelrelease`
    bzimage: str
    modroot: str            # INSTALL_MOD_PATH of its modules (mocks in extra/)
    kselftest: str | None   # installed kselftests (run_kselftest.sh), if any
    tree: str               # git tree id of the source
    config_hash: str        # 12 hex of the resolved .config's sha256
    flavour: str = ""       # "", or a settings.FLAVOURS key ("debug", "bench", "c", ...)

    @property
    def debug(self):
        """Built with the debug fragment (test --debug)."""
        return settings.DEBUG_FRAGMENT in settings.FLAVOURS.get(self.flavour, ())

    @property
    def label(self):
        """The variant as runs name it: "series", "base-debug", "series-bench", ..."""
        return self.variant + (f"-{self.flavour}" if self.flavour else "")


def make_cmd(src: str, out: str, tools: dict, *targets: str) -> list[str]:
    """make in the tree at src, objects in out, with the pinned toolchain."""
    cc = f"ccache clang{settings.LLVM_SUFFIX}"
    return ["make", "-C", src, f"O={out}", f"-j{settings.JOBS}",
            f"LLVM={settings.LLVM_SUFFIX}", f"CC={cc}", f"RUSTC={settings.RUSTC}",
            f"RUSTDOC={settings.RUSTDOC}", f"CLIPPY_DRIVER={settings.CLIPPY_DRIVER}",
            f"RUSTFMT={settings.RUSTFMT}", f"BINDGEN={tools['bindgen']}"] + list(targets)


def build_env() -> dict:
    """The environment of every kernel make: ccache under the cache,
    libclang for bindgen, a reproducible build identity."""
    return dict(os.environ, CCACHE_DIR=os.path.join(settings.CACHE, "ccache"),
                CCACHE_BASEDIR=settings.CACHE, CCACHE_MAXSIZE="8G",
                LIBCLANG_PATH="/usr/lib/llvm-14/lib",
                KBUILD_BUILD_USER="daxrs", KBUILD_BUILD_HOST="daxrs",
                KBUILD_BUILD_TIMESTAMP="2025-01-01")


def expected_steps(stepsfile: str) -> int:
    try:
        return int(read_text(stepsfile, "0").strip() or 0)
    except ValueError:
        return 0


def make_with_progress(cmd: list[str], env: dict, log: str, variant: str,
                       expected: int) -> tuple[int, int]:
    """Run make into log, with a progress line every 30 s; (exit, steps)."""
    t0 = now()
    state = {"steps": 0, "last": "starting"}
    done = threading.Event()

    def ticker():
        # Every 30 s, whether or not make prints: rustc works silently for
        # minutes on the kernel crate.
        while not done.wait(30):
            st = state["steps"]
            pct = f" ~{min(99, 100 * st // expected)}%" if expected else ""
            say(f"  {variant}: {st} steps{pct}, {fmt_secs(now() - t0)}, at {state['last']}")

    with open(log, "w") as logf:
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, errors="replace")
        tick = threading.Thread(target=ticker, daemon=True)
        tick.start()
        try:
            for line in p.stdout:
                logf.write(line)
                m = STEP_RE.match(line)
                if m:
                    state["steps"] += 1
                    state["last"] = f"{m.group(1)} {m.group(2)}"
            rc = p.wait()
        finally:
            done.set()
            tick.join()
    return rc, state["steps"]


def counted_make(out: str, cmd: list[str], env: dict, log: str,
                 variant: str) -> tuple[int, int]:
    """make_with_progress() scaled by the steps of out's last good build,
    which a good build records; (exit, steps)."""
    stepsfile = os.path.join(out, ".daxrs-steps")
    expected = expected_steps(stepsfile)
    rc, steps = make_with_progress(cmd, env, log, variant, expected)
    if rc == 0:
        with open(stepsfile, "w") as f:
            f.write(str(max(steps, expected)))  # the cold build sets the scale
    return rc, steps


def first_errors(log: str) -> list[str]:
    """The lines around the first errors of a failed build (or its last lines)."""
    lines = read_text(log, "").splitlines()
    errs = [i for i, x in enumerate(lines)
            if re.search(r"error[:\[]|Error \d|\*\*\*", x) and "warning" not in x]
    shown: list[str] = []
    for i in errs[:6]:
        for x in lines[max(0, i - 2):i + 3]:
            if x not in shown:
                shown.append(x)
    return (shown or lines[-25:])[:40]


def _touch_series_rust(src: Source) -> None:
    """Make the series' own Rust files recompile, so that their clippy
    findings are in this build's log."""
    added, changed = series_lint.series_files(src)
    for p in added + changed:
        if p.endswith(".rs") and os.path.exists(os.path.join(src.path, p)):
            os.utime(os.path.join(src.path, p))


def build(src: Source, tools: dict, lint: bool = False, flavour: str = "") -> Kernel:
    """Build a variant in $DAXRS_CACHE/out/<variant> (<variant>-<flavour>
    with a flavour: its fragment too, see settings.FLAVOURS).  lint:
    recompile the series' own Rust files so that their clippy findings are
    in the log."""
    variant = src.variant
    name = variant + (f"-{flavour}" if flavour else "")
    series = variant == "series"
    extra = ["CLIPPY=1"] if series else []
    if lint and series:
        _touch_series_rust(src)
    out = os.path.join(settings.CACHE, "out", name)
    log = os.path.join(out, "build.log")
    say(f"configuring {name} (allnoconfig + project/config/test-kernel.config"
        f"{' + test-kernel.series.config' if series else ''}"
        f"{''.join(' + ' + os.path.basename(f) for f in settings.FLAVOURS.get(flavour, []))})")
    config_hash = kconfig.configure(src.path, out, tools, require_series=series,
                                    with_series=series, flavour=flavour)
    say(f"building {name} in {out} with {settings.JOBS} jobs (log: {log})")
    t0 = now()
    env = build_env()
    rc, steps = counted_make(out, make_cmd(src.path, out, tools, *extra), env, log, name)
    if rc != 0:
        raise Fail(f"the {name} kernel does not build (make exit {rc}); first errors:\n" +
                   "\n".join("    " + x for x in first_errors(log)) +
                   f"\n    full log: {log}")
    # Modules staged for the guest (it bind-mounts this over /lib/modules).
    modroot = os.path.join(out, "modroot")
    if os.path.exists(modroot):
        shutil.rmtree(modroot)
    run(make_cmd(src.path, out, tools, f"INSTALL_MOD_PATH={modroot}", "INSTALL_MOD_STRIP=1",
                 "modules_install"), env=env)
    release = run(make_cmd(src.path, out, tools, "-s", "kernelrelease"), env=env).strip()
    testmods.build_test_modules(src.path, out, tools, env, modroot, release)
    # The selftests come with the series; the base runs the series' build.
    if series:
        kst = testmods.build_kselftests(src.path, out, tools, env)
    else:
        # the series of the same flavour first (its build dir exists when
        # a --with-base run built it just before), else the default one
        kst = None
        for d in dict.fromkeys([name.replace(variant, "series", 1), "series"]):
            borrowed = os.path.join(settings.CACHE, "out", d, "kselftest")
            if os.path.exists(os.path.join(borrowed, "run_kselftest.sh")):
                kst = borrowed
                break
    say(f"{name} built: {release} ({steps} steps, {fmt_secs(now() - t0)})")
    return Kernel(variant=variant, out=out, src=src.path, release=release,
                  bzimage=os.path.join(out, "arch", "x86", "boot", "bzImage"),
                  modroot=modroot, kselftest=kst, tree=src.tree, config_hash=config_hash,
                  flavour=flavour)
