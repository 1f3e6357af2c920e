# SPDX-License-Identifier: GPL-2.0
"""The emulated pmem a guest boots with (--pmem), and whether KVM can run
a guest on this host."""

import os
import subprocess

from daxrs import settings
from daxrs.proc import read_text, say

PMEM_LAYOUTS = {
    # Three legacy e820 regions (gaps between them so they stay separate)
    # carved from guest RAM above 4 GiB: q35 puts 2 GiB of RAM below 4 GiB.
    "memmap": {"memory": "6G", "append": "memmap=768M!4G memmap=768M!5G memmap=768M!6G",
               "qemu": ""},
    # QEMU NVDIMMs with label space: an ACPI.NFIT bus, labelled namespaces.
    "nvdimm": {"memory": "3G", "append": "",
               "qemu": "-machine nvdimm=on -m 3G,slots=4,maxmem=16G "
                       "-object memory-backend-file,id=nvmem0,share=on,"
                       "mem-path={img0},size=2050M,align=2M "
                       "-device nvdimm,id=nv0,memdev=nvmem0,label-size=2M "
                       "-object memory-backend-file,id=nvmem1,share=on,"
                       "mem-path={img1},size=1026M,align=2M "
                       "-device nvdimm,id=nv1,memdev=nvmem1,label-size=2M"},
    # All three kinds at once, as ndctl's dax suite needs them (see README):
    # e820 regions (the first 3 GiB, 1 GiB aligned, for ndctl's dax-dev and
    # device-dax), two labelled QEMU NVDIMMs of 4 GiB (their fsdax namespaces
    # are fstests' TEST_DEV and SCRATCH_DEV; sparse host files, so host page
    # cache rather than pinned guest RAM), and the nfit_test bus (modules).
    # The e820 regions start at 8 GiB: nfit_test hands out its emulated
    # "physical" ranges from [4 GiB, 8 GiB) and its request_region wrapper
    # claims (and WARNs about) anything there.  RAM is 2 GiB below 4 GiB and
    # 4 to 13 GiB, so about 6 GiB remain RAM.
    "all": {"memory": "11G",
            "append": "memmap=3G!8G memmap=768M!11392M memmap=768M!12416M",
            "qemu": "-machine nvdimm=on -m {memory},slots=4,maxmem=32G "
                    "-object memory-backend-file,id=nvmem0,share=on,"
                    "mem-path={img0},size=4098M,align=2M "
                    "-device nvdimm,id=nv0,memdev=nvmem0,label-size=2M "
                    "-object memory-backend-file,id=nvmem1,share=on,"
                    "mem-path={img1},size=4098M,align=2M "
                    "-device nvdimm,id=nv1,memdev=nvmem1,label-size=2M"},
}
NVDIMM_SIZES = {"nvdimm": ("2050M", "1026M"), "all": ("4098M", "4098M")}

# The test and bench guests also get a 3 GiB e820 region at a 1 GiB
# aligned address, above the others, for a device-DAX namespace with
# 1 GiB alignment (PUD faults; the info block costs the first GiB, 2 GiB
# remain).  RAM grows by as much, so what the other regions leave is the
# same.  ndctl's own suites (the suites guest) keep the layout they were
# set up for.
PUD_REGION = {"memmap": ("9G", "memmap=3G!8G"), "all": ("14G", "memmap=3G!13G")}
PUD_MODES = ("test", "bench")


def layout(pmem: str, mode: str) -> dict:
    """The layout a guest of this mode boots with: PMEM_LAYOUTS[pmem], plus
    the PUD region in the test and bench guests."""
    lay = dict(PMEM_LAYOUTS[pmem])
    if mode in PUD_MODES and pmem in PUD_REGION:
        lay["memory"], extra = PUD_REGION[pmem]
        lay["append"] = f"{lay['append']} {extra}"
    lay["qemu"] = lay["qemu"].replace("{memory}", lay["memory"])
    return lay


def _probe(kernel: str) -> bool:
    """Boot kernel under KVM until it prints its banner (30 s at most)."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    say("probing whether KVM can run a guest here (30 s at most)")
    try:
        p = subprocess.run(["qemu-system-x86_64", "-accel", "kvm", "-machine", "q35",
                            "-m", "512M", "-nographic", "-no-reboot", "-kernel", kernel,
                            "-append", "console=ttyS0 panic=-1 root=/dev/nonexistent"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=30, text=True, errors="replace")
        return "Linux version" in p.stdout
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) \
            else (e.stdout or "")
        return "Linux version" in out
    except OSError:
        return False


def kvm_works(kernel: str) -> bool:
    """Whether KVM really runs a guest here: probed once per host kernel
    (the answer is cached with the host's release, so a cache reused on
    another host, or after a host kernel update, probes again)."""
    stamp = os.path.join(settings.CACHE, "kvm-probe")
    host = os.uname().release
    answer, _, release = read_text(stamp, "").strip().partition(" ")
    if release == host and answer in ("yes", "no"):
        return answer == "yes"
    ok = _probe(kernel)
    os.makedirs(settings.CACHE, exist_ok=True)
    with open(stamp, "w") as f:
        f.write(f"{'yes' if ok else 'no'} {host}\n")
    say("KVM " + ("works: guests use it" if ok else "cannot run a guest here: using TCG"))
    return ok
