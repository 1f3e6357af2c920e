# SPDX-License-Identifier: GPL-2.0
"""What is built against a kernel build besides the kernel: the mocked test
modules (nfit_test, cxl_test), the dax kselftests; and the user-space
helpers the guest runs, built on the host."""

import os
import re
import shutil
import subprocess

from daxrs import settings
from daxrs.base import sha256
from daxrs.kernel import kbuild, kconfig
from daxrs.proc import Fail, read_text, run, say

# The kernel's mocked test buses, built against each variant and staged in
# modroot's extra/, where depmod prefers them to the in-tree modules they
# relink (ndctl's contrib/nfit_test_depmod.conf, plus the search order).
# ndctl's test/core.c refuses modules not loaded from extra/ or updates/.
#   nfit_test: tools/testing/nvdimm, the nfit_test.0/1 buses (ndctl's
#     daxdev-errors.sh, multi-dax.sh, most of its ndctl suite)
#   cxl_test: tools/testing/cxl, a mocked CXL topology (ndctl's
#     daxctl-create.sh and cxl suite); built when the config has CXL
MOCK_MODULES = {
    "nfit_test": {
        "dir": "tools/testing/nvdimm",
        "sources": ("tools/testing/nvdimm", "drivers/nvdimm", "drivers/acpi/nfit", "drivers/dax"),
        "overrides": ("nfit", "device_dax", "dax_pmem", "dax_pmem_core", "dax_pmem_compat",
                      "libnvdimm", "nd_btt", "nd_e820", "nd_pmem", "dax"),
        "staged": ("nfit_test", "nfit", "libnvdimm", "nd_pmem", "device_dax", "dax_pmem"),
        "config": None,
    },
    "cxl_test": {
        "dir": "tools/testing/cxl",
        "sources": ("tools/testing/cxl", "drivers/cxl"),
        "overrides": ("cxl_acpi", "cxl_pmem", "cxl_port", "cxl_mem", "cxl_core"),
        "staged": ("cxl_test", "cxl_mock", "cxl_mock_mem", "cxl_acpi", "cxl_core", "cxl_mem"),
        "config": "CONFIG_CXL_BUS",
        # linked with GNU ld, as upstream tests it: ld.lld also applies
        # --wrap to the references in cxl_core's own .export_symbol
        # section, and modpost refuses the result ("cxl_core: .export_symbol
        # section references '__wrap_devm_cxl_setup_hdm'").  The objects
        # are clang's, as for every other module.
        "make": ["LD=ld.bfd"],
    },
}


def _build_mock(name: str, m: dict, src: str, out: str, tools: dict, env: dict) -> str:
    """Build one mocked module set in a copy of its directories; its dir."""
    scratch = os.path.join(out, "mock-modules")
    for d in m["sources"]:
        dst = os.path.join(scratch, d)
        os.makedirs(dst, exist_ok=True)
        # sources only in, stale sources out; objects of the last build stay
        run(["rsync", "-a", "--delete", "--exclude=*.o", "--exclude=*.ko",
             "--exclude=.*.cmd", "--exclude=*.mod*", "--exclude=modules.order",
             "--exclude=Module.symvers", "--exclude=*.a", "--exclude=.tmp*",
             os.path.join(src, d) + "/", dst + "/"])
    mdir = os.path.join(scratch, m["dir"])
    say(f"building {name} ({m['dir']}) against this build")
    logp = os.path.join(out, f"{name}.log")
    p = subprocess.run(kbuild.make_cmd(src, out, tools, f"M={mdir}", *m.get("make", []),
                                       "modules"), env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       errors="replace")
    with open(logp, "w") as f:
        f.write(p.stdout)
    if p.returncode != 0:
        lines = p.stdout.splitlines()
        errs = [x for x in lines if re.search(r"error[:\[]|Error \d|undefined", x)]
        raise Fail(f"{m['dir']} ({name}) does not build against this tree "
                   f"(make exit {p.returncode}):\n" +
                   "\n".join("    " + x for x in (errs or lines[-20:])[:20]) +
                   f"\n    full log: {logp}")
    return mdir


def build_test_modules(src: str, out: str, tools: dict, env: dict,
                       modroot: str | None = None, release: str | None = None) -> None:
    """The mocked test modules (MOCK_MODULES) built against this build and,
    with modroot (and release), staged in its extra/ over the in-tree modules.

    6.12's kbuild writes the objects of an M= build next to its sources, and
    these Kbuilds reach the drivers as ../../../drivers: so each builds in a
    copy of those directories under the build dir (the source tree stays
    clean and shared by variants).  A failure fails the build: the series
    changes what nfit_test wraps (devm_memremap_pages, pgmap refs)."""
    cfg = kconfig.parse_config(os.path.join(out, ".config"))
    built = []
    for name, m in MOCK_MODULES.items():
        if m["config"] and cfg.get(m["config"]) != "m":
            continue
        built.append((name, m, _build_mock(name, m, src, out, tools, env)))
    if modroot is None:
        return
    for name, m, mdir in built:
        run(kbuild.make_cmd(src, out, tools, f"M={mdir}", *m.get("make", []),
                            f"INSTALL_MOD_PATH={modroot}", "INSTALL_MOD_DIR=extra",
                            "INSTALL_MOD_STRIP=1", "modules_install"), env=env)
    conf = os.path.join(out, "test-modules-depmod.conf")
    with open(conf, "w") as f:
        f.write("# written by daxrs: the mocked test builds of these modules win\n"
                "search extra updates built-in\n")
        f.writelines(f"override {x} * extra\n" for _, m, _ in built for x in m["overrides"])
    run(["depmod", "-b", modroot, "-C", conf, release])
    mods = os.path.join(modroot, "lib", "modules", release)
    dep = read_text(os.path.join(mods, "modules.dep"))
    for name, m, _ in built:
        for x in m["staged"]:
            if not re.search(rf"^extra/(test/)?{x}\.ko(\.\w+)?:", dep, re.M):
                raise Fail(f"{name} staging: modules.dep under {mods} does not resolve "
                           f"{x} to extra/ (depmod config {conf})")


def build_kselftests(src: str, out: str, tools: dict, env: dict) -> str | None:
    """tools/testing/selftests/dax of the series, installed kselftest-style
    (run_kselftest.sh) under the build dir; None while the suite does not exist."""
    if not os.path.exists(os.path.join(src, "tools", "testing", "selftests", "dax",
                                       "Makefile")):
        return None
    inst = os.path.join(out, "kselftest")
    if os.path.exists(inst):
        shutil.rmtree(inst)
    run(kbuild.make_cmd(src, out, tools, "headers"), env=env)
    p = subprocess.run(["make", "-C", os.path.join(src, "tools", "testing", "selftests"),
                        "TARGETS=dax", f"O={out}/kselftest-build",
                        f"KHDR_INCLUDES=-isystem {out}/usr/include",
                        f"INSTALL_PATH={inst}", "install"],
                       env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise Fail("tools/testing/selftests/dax does not build:\n" +
                   "\n".join("    " + x for x in (p.stdout + p.stderr).splitlines()[-20:]))
    return inst


HELPERS = ("daxprobe", "daxbench")
HELPER_CFLAGS = ["-O2", "-Wall", "-Werror"]


def compile_stamped(srcf: str, dst: str, cflags: list[str]) -> str:
    """gcc cflags -o dst srcf, unless dst exists and the stamp next to it
    records this source's SHA-256 and these flags; dst."""
    stamp = dst + ".sha256"
    want = f"{sha256(srcf)} {' '.join(cflags)}\n"
    if os.path.exists(dst) and read_text(stamp, "") == want:
        return dst
    if os.path.exists(stamp):
        os.unlink(stamp)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    run(["gcc", *cflags, "-o", dst, srcf])
    with open(stamp, "w") as f:
        f.write(want)
    return dst


def build_helpers() -> str:
    """User-space helpers the guest runs (project/guest/<name>.c), compiled
    on the host into $DAXRS_CACHE/bin; the directory.  A helper is rebuilt
    when its source's SHA-256 differs from the stamp next to the binary."""
    bindir = os.path.join(settings.CACHE, "bin")
    for name in HELPERS:
        compile_stamped(os.path.join(settings.GUEST_DIR, name + ".c"),
                        os.path.join(bindir, name), HELPER_CFLAGS)
    return bindir
