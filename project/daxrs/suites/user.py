# SPDX-License-Identifier: GPL-2.0
"""The user's own ndctl and fstests (test --ndctl / --fstests), or the
stand-ins of project/tests/standin that check the same plumbing: checked on
the host before any build, and planned for the suites guest."""

import fnmatch
import json
import os
import shlex
import shutil

from daxrs import settings
from daxrs.base import sha256
from daxrs.proc import Fail, read_text, run, say


def _load_json(path: str, what: str):
    """A JSON file meson wrote; Fail when it is missing or not JSON."""
    try:
        with open(path) as f:
            return json.load(f)
    except OSError as e:
        raise Fail(f"{what}: cannot read {path}: {e.strerror}") from e
    except ValueError as e:
        raise Fail(f"{what}: {path} is not valid JSON ({e}): reconfigure the build "
                   f"(meson setup --reconfigure)") from e


def ndctl_dirs(path: str) -> tuple[str, str]:
    """(source, build) of an ndctl checkout or of its meson build dir."""
    path = os.path.abspath(os.path.expanduser(path))
    for b in (path, os.path.join(path, "build")):
        info = os.path.join(b, "meson-info", "meson-info.json")
        if os.path.exists(info):
            d = _load_json(info, f"--ndctl {path}")
            dirs = d.get("directories", {}) if isinstance(d, dict) else {}
            return os.path.abspath(dirs.get("source", path)), os.path.abspath(b)
    raise Fail(f"--ndctl {path}: neither it nor {path}/build is a meson build directory.\n"
               "    build ndctl first: meson setup build -Dtest=enabled -Ddestructive=enabled"
               " && meson compile -C build")


def _split_suite(suite: str) -> tuple[str, str]:
    """meson's split of "project:suite" (or "suite")."""
    prj, sep, st = suite.partition(":")
    return (prj, st) if sep else (suite, "")


def _in_suites(test: dict, suites: list[str]) -> bool:
    """meson test's --suite / --no-suite match (mtest's test_in_suites)."""
    for suite in suites:
        prj_match, st_match = _split_suite(suite)
        for prjst in test.get("suite", []):
            prj, st = _split_suite(prjst)
            if not st_match and st == prj_match:
                return True
            if prj_match and prj != prj_match:
                continue
            if st_match and st != st_match:
                continue
            return True
    return False


def _option_values(argv: list[str], opt: str) -> list[str]:
    """The values of `opt X` and `opt=X` in argv."""
    vals = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == opt]
    return vals + [a[len(opt) + 1:] for a in argv if a.startswith(opt + "=")]


# meson test's options that take a value (meson 1.0's mtest.add_arguments);
# the rest are flags, and what is neither an option nor a value is a test name.
_MESON_TEST_VALUED = ("--maxfail", "--repeat", "--gdb-path", "--wrapper", "-C", "--suite",
                      "--no-suite", "--logbase", "--num-processes", "-t",
                      "--timeout-multiplier", "--setup", "--test-args")
_MESON_TEST_FLAGS = ("--no-rebuild", "--gdb", "--list", "--no-stdsplit", "--print-errorlogs",
                     "--benchmark", "--verbose", "--quiet", "--help")


def _meson_test_positionals(argv: list[str]) -> list[str]:
    """The test names of a `meson test` command line: its positional
    arguments.  Long options may be abbreviated, as argparse allows."""
    names, i = [], 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if a == "--":
            names += argv[i:]
            break
        if not a.startswith("-") or a == "-":
            names.append(a)
            continue
        if "=" in a or (a[:2] in ("-t", "-C") and len(a) > 2):
            continue
        if a.startswith("--"):
            long_opts = [o for o in _MESON_TEST_VALUED + _MESON_TEST_FLAGS if o.startswith("--")]
            hits = [o for o in long_opts if o == a] or [o for o in long_opts if o.startswith(a)]
            valued = len(hits) == 1 and hits[0] in _MESON_TEST_VALUED
        else:
            valued = a in _MESON_TEST_VALUED
        i += 1 if valued else 0
    return names


def _by_name(tests: list[dict], patterns: list[str]) -> list[dict]:
    """The tests `meson test PATTERN...` selects by name (mtest's
    tests_from_args): "name", "project:name", "project:" or ":name", with
    shell wildcards; the project is that of the test's suites."""
    pats = []
    for arg in patterns:
        prj, sep, name = arg.partition(":")
        pats.append((prj or "*", name or "*") if sep else ("*", arg))
    picked = []
    for t in tests:
        prj = _split_suite(t["suite"][0])[0] if t.get("suite") else ""
        if any(fnmatch.fnmatchcase(prj, p) and fnmatch.fnmatchcase(t["name"], n)
               for p, n in pats):
            picked.append(t)
    return picked


def meson_test_names(tests: list[dict], argv: list[str]) -> tuple[list[dict], list[str]]:
    """(tests, names) that `meson test ARGV` runs of intro-tests.json: the
    --suite / --no-suite selection, then the test names given (all tests
    when none is), named as meson names them in its log ("project:suite /
    name" when the build has more than one suite)."""
    include = _option_values(argv, "--suite")
    exclude = _option_values(argv, "--no-suite")
    picked = [t for t in tests if not _in_suites(t, exclude)
              and (not include or _in_suites(t, include))]
    wanted = _meson_test_positionals(argv)
    if wanted:
        picked = _by_name(picked, wanted)
    all_suites = {s for t in tests for s in t.get("suite", [])}
    names = []
    for t in picked:
        suites = t.get("suite", [])
        if len(all_suites) > 1 and suites:
            rv = _split_suite(suites[0])[0]
            s = "+".join(_split_suite(x)[1] for x in suites)
            names.append(rv + (":" + s if s else "") + " / " + t["name"])
        else:
            names.append(t["name"])
    return picked, names


def check_ndctl(path: str, args: str) -> tuple[dict, list[str], list[str]]:
    """What the guest needs to run `meson test ARGS` in an ndctl build:
    (env, directories to share, the names of the tests it runs)."""
    src, bdir = ndctl_dirs(path)
    tests = _load_json(os.path.join(bdir, "meson-info", "intro-tests.json"),
                       f"--ndctl {path}")
    if not isinstance(tests, list) or not all(isinstance(t, dict) and "name" in t
                                              for t in tests):
        raise Fail(f"--ndctl {path}: {bdir}/meson-info/intro-tests.json is not meson's "
                   f"list of tests: reconfigure the build (meson setup --reconfigure)")
    try:
        argv = shlex.split(args)
    except ValueError as e:
        raise Fail(f"--ndctl-args {args!r}: {e}") from e
    picked, names = meson_test_names(tests, argv)
    unknown = [n for n in _meson_test_positionals(argv) if not _by_name(tests, [n])]
    if unknown:
        raise Fail(f"--ndctl-args: no test of {bdir} is named {unknown[0]!r} "
                   f"(meson test --list -C {bdir} lists them)")
    if not picked:
        suites = _option_values(argv, "--suite")
        raise Fail(f"--ndctl {path}: no test in {' '.join(suites) or 'the build'} "
                   f"({len(tests)} tests registered): was ndctl configured with "
                   "-Dtest=enabled?")
    missing = [t["cmd"][0] for t in picked if t.get("cmd") and not os.path.exists(t["cmd"][0])]
    if missing:
        raise Fail(f"--ndctl {path}: not built ({missing[0]} is missing): "
                   f"meson compile -C {bdir}")
    opts = os.path.join(bdir, "meson-info", "intro-buildoptions.json")
    if os.path.exists(opts):
        options = _load_json(opts, f"--ndctl {path}")
        destr = [o.get("value") for o in options if isinstance(o, dict)
                 and o.get("name") == "destructive"] if isinstance(options, list) else []
        if destr and destr[0] != "enabled":
            say(f"note: {bdir} was configured without -Ddestructive=enabled, so most of "
                "the dax suite is not built (meson configure -Ddestructive=enabled)")
    if not shutil.which("meson"):
        raise Fail("--ndctl needs meson on this machine (the guest runs the host's): "
                   "apt-get install meson")
    env = {"NDCTL_SRC": src, "NDCTL_BUILD": bdir, "NDCTL_ARGS": args}
    return env, [src] + ([] if bdir.startswith(src + "/") else [bdir]), names


def check_fstests(path: str, args: str, fss: list[str]) -> tuple[dict, list[str]]:
    """What the guest needs to run fstests' ./check ARGS on each of fss:
    (env, directories to share)."""
    d = os.path.abspath(os.path.expanduser(path))
    if not os.access(os.path.join(d, "check"), os.X_OK):
        raise Fail(f"--fstests {d}: no executable ./check there: not an fstests checkout")
    if not os.path.exists(os.path.join(d, "ltp", "fsstress")):
        raise Fail(f"--fstests {d}: not built (no ltp/fsstress): run make in {d}")
    bad = [x for x in fss if x not in ("ext4", "xfs")]
    if bad or not fss:
        raise Fail(f"--fstests-fs: ext4 and/or xfs, not {','.join(bad or fss)!r}")
    return {"FSTESTS_DIR": d, "FSTESTS_ARGS": args, "FSTESTS_FS": " ".join(fss)}, [d]


def standin_ndctl_build() -> str:
    """project/tests/standin/ndctl configured with meson under the cache;
    its build dir."""
    bdir = os.path.join(settings.CACHE, "standin-ndctl")
    src = os.path.join(settings.STANDIN, "ndctl")
    # configured again when the repository moved or the meson.build changed
    stamp = os.path.join(bdir, ".daxrs-source")
    want = src + " " + sha256(os.path.join(src, "meson.build")) + "\n"
    if read_text(stamp, "") != want:
        if os.path.exists(bdir):
            shutil.rmtree(bdir)
        run(["meson", "setup", bdir, src])
        with open(stamp, "w") as f:
            f.write(want)
    return bdir


def suites_plan(ndctl: str | None, ndctl_args: str | None, fstests: str | None,
                fstests_args: str, fstests_fs, kvm: bool
                ) -> tuple[dict, list[str], dict, dict]:
    """The suites boot: the user's ndctl/fstests where given, the stand-ins
    for the rest (so the plumbing is tested on every run).

    fstests_fs: "ext4,xfs" or a list.  Returns (env for the guest,
    directories it shares as overlays, {suite key: row suite name},
    {"ndctl": the test names meson will run})."""
    env: dict = {}
    dirs: list[str] = []
    names: dict = {}
    mult = "" if kvm else " --timeout-multiplier 4"  # TCG, see README
    if ndctl:
        e, d, picked = check_ndctl(ndctl, ndctl_args or "--suite dax" + mult)
        names["ndctl"] = "ndctl"
    else:
        e, d, picked = check_ndctl(standin_ndctl_build(), "--suite dax")
        names["ndctl"] = "standin-ndctl"
    env.update(e)
    dirs += d
    if isinstance(fstests_fs, str):
        fss = [x for x in fstests_fs.split(",") if x]
    else:
        fss = [x for x in fstests_fs if x]
    if fstests:
        e, d = check_fstests(fstests, fstests_args, fss)
        names["fstests"] = "fstests"
    else:
        e, d = check_fstests(os.path.join(settings.STANDIN, "fstests"), "-g dax",
                             ["ext4", "xfs"])
        names["fstests"] = "standin-fstests"
    env.update(e)
    dirs += d
    env["MESON"] = shutil.which("meson") or "meson"
    return env, dirs, names, {"ndctl": picked}
