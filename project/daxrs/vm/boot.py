# SPDX-License-Identifier: GPL-2.0
"""Booting a built kernel under virtme-ng with pmem, running the guest
runner (project/guest/run.sh) in it, and getting out whatever happens.

The guest's whole process group is killed on every way out of boot():
normal end, timeout, error, Ctrl-C (KeyboardInterrupt) or SIGTERM (turned
into KeyboardInterrupt by the command line).  A timeout or a crash does not
throw the results away: boot() returns what it saw and the caller turns it
into failing rows next to the rows the guest wrote before."""

import dataclasses
import datetime
import os
import shlex
import shutil
import signal
import subprocess
import time

from daxrs import settings
from daxrs.proc import Fail, fmt_secs, now, read_text, run, say, tail
from daxrs.results import Kind, Result, Status
from daxrs.vm.layouts import NVDIMM_SIZES, kvm_works, layout as pmem_layout

# an oops (a task dead with its locks held), a hung task or a soft lockup
# panics, and a panic ends the guest at once: the run stops with the trace
# instead of waiting for the host's timeout behind a stuck task
PANIC_ON = "oops=panic panic=-1 hung_task_panic=1 softlockup_panic=1"


@dataclasses.dataclass
class Boot:
    res: str
    rc: int | None = None      # the runner's exit code (None: it did not finish)
    timed_out: bool = False
    crashed: bool = False      # the guest stopped before the runner finished
    progress: str = ""         # the last step the guest reported
    seconds: float = 0.0

    @property
    def console(self):
        return os.path.join(self.res, "console.log")


def results_dir(mode, variant):
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = os.path.join(settings.RESULTS, f"{stamp}-{mode}-{variant}")
    res, n = base, 1
    while True:
        try:
            os.makedirs(res)
            break
        except FileExistsError:
            n += 1
            res = f"{base}.{n}"
    latest = os.path.join(settings.RESULTS, f"latest-{mode}-{variant}")
    if os.path.islink(latest) or os.path.exists(latest):
        os.unlink(latest)
    os.symlink(res, latest)
    return res


def _nvdimm_opts(pmem, qemu_opts):
    if pmem not in NVDIMM_SIZES:
        return qemu_opts
    imgs = []
    for i, size in enumerate(NVDIMM_SIZES[pmem]):
        img = os.path.join(settings.CACHE, f"nvdimm{i}.img")
        if os.path.exists(img):
            os.unlink(img)  # fresh, label-less every boot
        run(["truncate", "-s", size, img])
        imgs.append(img)
    return qemu_opts.format(img0=imgs[0], img1=imgs[1])


@dataclasses.dataclass(frozen=True)
class Machine:
    """What a guest gets besides its pmem: vCPUs, and extra QEMU options and
    kernel parameters (the benchmark's instruction-counting clock)."""
    cpus: int = 2
    qemu: str = ""
    append: str = ""
    tcg: bool = False       # TCG even where KVM works (-icount needs it)


def command(kern, res, pmem, kvm, overlays=(), mode="test", machine=Machine()):
    """The vng command line that boots kern and runs the guest runner."""
    layout = pmem_layout(pmem, mode)
    qemu_opts = _nvdimm_opts(pmem, layout["qemu"])
    # Every layout also gets an NVMe controller with a 64 MiB controller
    # memory buffer, which nvme registers as PCI P2PDMA memory (p2pmem).
    nvme = os.path.join(settings.CACHE, "nvme-cmb.img")
    if not os.path.exists(nvme):
        run(["truncate", "-s", "64M", nvme])
    qemu_opts = (f"{qemu_opts} -drive file={nvme},if=none,id=nvm,format=raw "
                 "-device nvme,serial=daxrs-p2pmem,drive=nvm,cmb_size_mb=64").strip()
    script = shlex.join(["bash", os.path.join(res, "guest", "run.sh"), res])
    cmd = [settings.tool_paths()["vng"], "--run", kern.bzimage, "--disable-microvm",
           "--force-9p", "--cpus", str(machine.cpus), "--memory", layout["memory"],
           "--verbose",
           # no vng module dir (.virtme_mods, the in-tree modules only): udev
           # would load the in-tree libnvdimm at boot, before the guest
           # script mounts the staged modules with nfit_test's in extra/
           "--skip-modules",
           "--append", f"{layout['append']} log_buf_len=8M printk.devkmsg=on "
                       f"{PANIC_ON} {machine.append}".strip(),
           "--rwdir", res, "--exec", script]
    for d in overlays:
        # writable in the guest (meson-logs, fstests' own files), untouched
        # on the host
        cmd += ["--overlay-rwdir", d]
    if not kvm:
        cmd.insert(3, "--disable-kvm")
        # Multi-threaded TCG runs a vCPU into a stale int3 while another one
        # patches kernel text (seen here: "Oops: int3" in sched_clock_cpu when
        # the sched_clock static key flips at boot, about one boot in eight).
        # One TCG thread for both vCPUs keeps SMP and loses the race.
        qemu_opts = f"{qemu_opts} -accel tcg,thread=single".strip()
    qemu_opts = f"{qemu_opts} {machine.qemu}".strip()
    if qemu_opts:
        cmd.append(f"--qemu-opts={qemu_opts}")  # it starts with "-"
    return cmd


def _label(kern):
    return getattr(kern, "label", kern.variant)


def _kill(p):
    """The guest's process group: TERM, then KILL."""
    if p.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 10)):
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            return
        try:
            p.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def boot(kern, mode, pmem, timeout, label, bindir, plan="", overlays=(), res=None,
         machine=Machine(), env_extra=None):
    """Boot kern and run the guest runner in MODE with the given plan (the
    `plan` file: NAME TIMEOUT per line); bindir holds daxprobe and daxbench.
    env_extra: more guest.env assignments (BENCH_ROUNDS)."""
    res = res or results_dir(mode, _label(kern))
    # a copy of the scripts: bash reads a script as it runs it, and the
    # repository's copy may be edited while a guest runs
    shutil.copytree(settings.GUEST_DIR, os.path.join(res, "guest"),
                    ignore=shutil.ignore_patterns("*.c"))
    env = {"MODE": mode, "MODROOT": kern.modroot, "BINDIR": bindir, "PMEM": pmem,
           "KSELFTEST": kern.kselftest or "", "SETUP_TIMEOUT": "600",
           "VARIANT": f"variant {_label(kern)}, tree {kern.tree[:12]}", **(env_extra or {})}
    with open(os.path.join(res, "guest.env"), "w") as f:
        f.writelines(f"{k}={shlex.quote(str(v))}\n" for k, v in env.items())
    with open(os.path.join(res, "plan"), "w") as f:
        f.write(plan)
    kvm = not machine.tcg and kvm_works(kern.bzimage)
    cmd = command(kern, res, pmem, kvm, overlays, mode, machine)
    with open(os.path.join(res, "vng-command.txt"), "w") as f:
        f.write(shlex.join(cmd) + "\n")
    say(f"booting {kern.release} ({_label(kern)}) under {'KVM' if kvm else 'QEMU TCG'} "
        f"with {pmem} pmem: {label} (results: {res})")
    out = Boot(res)
    t0 = now()
    progress = os.path.join(res, "progress")
    venv_bin = os.path.dirname(settings.tool_paths()["vng"])
    penv = dict(os.environ, PATH=venv_bin + os.pathsep + os.environ.get("PATH", ""))
    with open(out.console, "w") as con:
        try:
            p = subprocess.Popen(cmd, stdout=con, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, cwd=settings.REPO,
                                 start_new_session=True, env=penv)
        except OSError as e:
            raise Fail(f"cannot start virtme-ng ({cmd[0]}): {e}; run ./daxrs setup") from e
        try:
            while p.poll() is None:
                time.sleep(2)
                cur = read_text(progress, "").strip()
                if cur and cur != out.progress:
                    out.progress = cur
                    say(f"  guest [{fmt_secs(now() - t0)}]: {cur}")
                if now() - t0 > timeout:
                    out.timed_out = True
                    say(f"  guest: no end after {fmt_secs(timeout)} (at: "
                        f"{out.progress or 'boot'}): killing it")
                    break
        finally:
            _kill(p)
    out.seconds = now() - t0
    rc_text = read_text(os.path.join(res, "exit-code"), "").strip()
    if rc_text:
        try:
            out.rc = int(rc_text)
        except ValueError:
            out.rc = None
    err = read_text(os.path.join(res, "error"), "").strip()
    if err:
        raise Fail(f"{err}\n    guest log: {res}/guest.log\n    console: {out.console}")
    if out.rc is None and not out.timed_out:
        out.crashed = True
    what = ("timed out" if out.timed_out else "crashed or panicked" if out.crashed
            else f"finished (runner exit {out.rc})")
    say(f"guest {what} after {fmt_secs(out.seconds)}")
    return out


def failure_rows(b, suites):
    """INFRA rows for a guest that timed out or crashed: the suite that was
    running fails by name, with the console tail; the suites after it did
    not run."""
    if b.rc not in (None, 0) and not (b.timed_out or b.crashed):
        return [Result("guest", "runner exit status", Status.FAIL,
                       f"the guest's runner exited {b.rc}: see {b.res}/guest.log", Kind.INFRA)]
    if not (b.timed_out or b.crashed):
        return []
    what = "TIMEOUT (the host's guest timeout)" if b.timed_out else \
        "the guest crashed or panicked"
    rows = []
    running = None
    for s in suites:
        rc = os.path.join(b.res, f"{s.name}.rc")
        started = os.path.exists(os.path.join(b.res, f"{s.name}.ktap"))
        if started and not os.path.exists(rc) and running is None:
            running = s.name
    con = tail(b.console, 12).replace("\n", " | ")
    rows.append(Result("guest", what, Status.FAIL,
                       f"during {running or b.progress or 'boot'}: {con}"[:1500], Kind.INFRA))
    return rows
