# SPDX-License-Identifier: GPL-2.0
"""The guest's ways out, with a fake virtme-ng: a hang is killed at the
timeout with its whole process group and the rows written so far are kept;
Ctrl-C kills the guest too; the guest scripts are valid shell."""

import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import types
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from daxrs import settings  # noqa: E402
from daxrs.results import Status  # noqa: E402
from daxrs.suites import registry  # noqa: E402
from daxrs.vm import boot as vm  # noqa: E402

# The fake vng: a guest that writes the first suite's output, then hangs in
# a child process (as QEMU is vng's child).
FAKE_VNG = """#!/bin/sh
echo "suite smoke" > "$DAXRS_FAKE_RES/progress"
printf 'KTAP version 1\\nok 1 first\\n' > "$DAXRS_FAKE_RES/smoke.ktap"
sleep 1000 &
echo $! > "$DAXRS_FAKE_RES/child.pid"
wait
"""


class FakeGuest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp, True)
        vng = os.path.join(self.tmp, "vng")
        with open(vng, "w") as f:
            f.write(FAKE_VNG)
        os.chmod(vng, 0o755)
        self.res = os.path.join(self.tmp, "res")
        os.makedirs(self.res)
        self.saved = (settings.CACHE, settings.RESULTS, settings.tool_paths, vm.kvm_works)
        settings.CACHE = self.tmp
        settings.RESULTS = os.path.join(self.tmp, "results")
        settings.tool_paths = lambda: {"vng": vng, "bindgen": "/bin/false"}
        vm.kvm_works = lambda kernel: False
        os.environ["DAXRS_FAKE_RES"] = self.res
        self.kern = types.SimpleNamespace(variant="series", bzimage="/nonexistent",
                                          modroot=self.tmp, kselftest=None,
                                          release="6.12.0-fake", tree="0" * 40)

    def tearDown(self):
        settings.CACHE, settings.RESULTS, settings.tool_paths, vm.kvm_works = self.saved

    def child_alive(self):
        with open(os.path.join(self.res, "child.pid")) as f:
            pid = int(f.read())
        for _ in range(50):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return False
            # a zombie until init reaps it counts as gone
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split()[2] == "Z":
                    return False
            time.sleep(0.1)
        return True

    def test_timeout_kills_the_guest_and_keeps_the_rows(self):
        with contextlib.redirect_stdout(io.StringIO()):
            b = vm.boot(self.kern, "test", "memmap", 3, "fake", self.tmp,
                        plan="smoke 60\n", res=self.res)
        self.assertTrue(b.timed_out)
        self.assertFalse(self.child_alive())
        smoke = [registry.BY_NAME["smoke"]]
        from daxrs.suites import collect
        rows = collect.test_boot(self.res, smoke, "series") + vm.failure_rows(b, smoke)
        self.assertIn(("smoke", "first"), [(r.suite, r.test) for r in rows
                                           if r.status is Status.PASS])
        hung = [r for r in rows if r.suite == "guest"]
        self.assertEqual(len(hung), 1)
        self.assertIn("during smoke", hung[0].detail)

    def test_interrupt_kills_the_guest(self):
        main = threading.main_thread().ident
        import ctypes

        def interrupt():
            time.sleep(3)
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(main),
                                                       ctypes.py_object(KeyboardInterrupt))
        threading.Thread(target=interrupt, daemon=True).start()
        with self.assertRaises(KeyboardInterrupt), contextlib.redirect_stdout(io.StringIO()):
            vm.boot(self.kern, "test", "memmap", 600, "fake", self.tmp,
                    plan="smoke 60\n", res=self.res)
        self.assertFalse(self.child_alive())


class ResumedGuest(unittest.TestCase):
    """A guest that crashes in a suite: another boots for the suites after
    it, the crash still fails the run, and a boot that gets no further ends
    the series of boots."""

    def run_guests(self, crash_in, dead_from=99):
        from daxrs import commands
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp, True)
        plans = []

        def fake_boot(kern, mode, pmem, timeout, label, bindir, plan="", **kw):
            res = os.path.join(tmp, str(len(plans)))
            os.makedirs(res)
            names = [line.split()[0] for line in plan.splitlines()]
            plans.append(names)
            b = vm.Boot(res, rc=0)
            if len(plans) > dead_from:
                b.rc, b.crashed = None, True
                return b
            with open(os.path.join(res, "dmesg.txt"), "w") as f:
                f.write("[    1.0] booted\n")
            for name in names:
                with open(os.path.join(res, f"{name}.ktap"), "w") as f:
                    f.write("KTAP version 1\n")
                    if name in crash_in:
                        b.rc, b.crashed = None, True
                        return b
                    f.write("ok 1 a\n1..1\n")
                with open(os.path.join(res, f"{name}.rc"), "w") as f:
                    f.write("0\n")
            return b

        saved = commands.vm.boot
        commands.vm.boot = fake_boot
        try:
            kern = types.SimpleNamespace(debug=False)
            rows, _, _ = commands.test_guest(
                kern, "all", {"env-tools", "smoke", "env-hwpoison", "kernel-log"},
                "series", "/bin")
        finally:
            commands.vm.boot = saved
        return plans, {(r.suite, r.test): r.status for r in rows}

    def test_the_suites_after_a_crash_run_in_a_new_guest(self):
        plans, rows = self.run_guests({"env-tools"})
        self.assertEqual(plans, [["env-tools", "smoke", "env-hwpoison"],
                                 ["smoke", "env-hwpoison"]])
        self.assertEqual(rows[("smoke", "a")], Status.PASS)
        self.assertEqual(rows[("env-hwpoison", "a")], Status.PASS)
        self.assertEqual(rows[("guest", "the guest crashed or panicked")], Status.FAIL)
        self.assertEqual(rows[("kernel-log", "test guest")], Status.PASS)
        self.assertNotIn(("smoke", "suite ran"), rows)

    def test_a_guest_that_gets_no_further_ends_the_boots(self):
        plans, rows = self.run_guests({"env-tools", "smoke"})
        self.assertEqual(plans, [["env-tools", "smoke", "env-hwpoison"],
                                 ["smoke", "env-hwpoison"],
                                 ["env-hwpoison"]])
        # the second guest dies before its first suite: no third
        plans, rows = self.run_guests({"env-tools"}, dead_from=1)
        self.assertEqual(len(plans), 2)
        self.assertEqual(rows[("smoke", "suite ran")], Status.FAIL)
        self.assertEqual(rows[("env-hwpoison", "suite ran")], Status.FAIL)
        self.assertEqual(rows[("kernel-log", "test guest")], Status.FAIL)
        plans, rows = self.run_guests({"env-hwpoison"})
        self.assertEqual(len(plans), 1)
        self.assertEqual(rows[("guest", "the guest crashed or panicked")], Status.FAIL)


class GuestScripts(unittest.TestCase):
    def scripts(self):
        for d, _, files in os.walk(settings.GUEST_DIR):
            for f in files:
                if f.endswith(".sh"):
                    yield os.path.join(d, f)

    def test_bash_syntax(self):
        found = list(self.scripts())
        self.assertTrue(found)
        for s in found:
            p = subprocess.run(["bash", "-n", s], capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, f"{s}: {p.stderr}")

    def test_every_guest_suite_has_a_script(self):
        for s in registry.SUITES:
            if s.boot in ("test", "suites"):
                path = os.path.join(settings.GUEST_DIR, "suites", f"{s.name}.sh")
                self.assertTrue(os.path.exists(path), path)

    @unittest.skipUnless(shutil.which("shellcheck"), "shellcheck is not installed")
    def test_shellcheck(self):
        p = subprocess.run(["shellcheck", "-x", "-S", "warning"] + list(self.scripts()),
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stdout[-2000:])


if __name__ == "__main__":
    unittest.main()


class TestLayouts(unittest.TestCase):
    """The guests' QEMU command lines: the PUD region only where it is used."""

    def cmdline(self, pmem, mode, machine=vm.Machine()):
        with tempfile.TemporaryDirectory() as d:
            saved = settings.CACHE
            settings.CACHE = d
            try:
                kern = types.SimpleNamespace(bzimage="/nonexistent")
                with contextlib.redirect_stdout(io.StringIO()):
                    cmd = vm.command(kern, d, pmem, False, (), mode, machine)
            finally:
                settings.CACHE = saved
        return " ".join(cmd)

    def test_pud_region_in_test_and_bench_guests(self):
        for mode in ("test", "bench"):
            line = self.cmdline("all", mode)
            self.assertIn("memmap=3G!13G", line)
            self.assertIn("--memory 14G", line)
            self.assertIn("-m 14G,slots=4", line)
        self.assertIn("memmap=3G!8G", self.cmdline("memmap", "test"))
        self.assertIn("--memory 9G", self.cmdline("memmap", "test"))

    def test_suites_and_demo_guests_keep_their_layout(self):
        for mode in ("suites", "demo"):
            line = self.cmdline("all", mode)
            self.assertNotIn("memmap=3G!13G", line)
            self.assertIn("-m 11G,slots=4", line)
            self.assertIn("--memory 11G", line)

    def test_bench_machine(self):
        line = self.cmdline("memmap", "bench", vm.Machine(cpus=1, qemu="-icount shift=0,sleep=off",
                                                           append="kunit.enable=0", tcg=True))
        self.assertIn("--cpus 1", line)
        self.assertIn("-icount shift=0,sleep=off", line)
        self.assertIn("kunit.enable=0", line)
