# SPDX-License-Identifier: GPL-2.0
"""daxrs bench: what the kernel's DAX paths cost, in guest instructions.

Each variant is built with the benchmark config (test config without its
debugging options, plus gup_test) and booted under QEMU TCG with -icount
shift=0,sleep=off and one vCPU, so the guest's clock advances one
nanosecond per instruction: daxbench (project/guest/daxbench.c, run by
bench.sh) reports instructions per operation, the same from run to run to
within a small noise that this module measures rather than assumes.

Variants are booted in turn, `boots` times each, interleaved, and each
boot runs every case `rounds` times.  Per case: the median of every round
of every boot, the spread ((max - min) / median), and, against the first
variant (the reference), the ratio of medians with a 95 % interval from a
two-level bootstrap (boots resampled, then rounds within each): a
difference between boots counts as noise, not as signal.  Naming the
reference twice (base,base,...) measures the noise floor in the same run.
"""

import bisect
import dataclasses
import datetime
import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile

from daxrs import settings
from daxrs.proc import Fail, fmt_secs, now, read_text, say
from daxrs.vm import boot as vm

BOOTSTRAP = 2000
MACHINE = vm.Machine(cpus=1, qemu="-icount shift=0,sleep=off", append="kunit.enable=0",
                     tcg=True)
PMEM = "memmap"


@dataclasses.dataclass
class Instance:
    """A variant as the run boots it; the same variant named twice is two
    instances ("base", "base#2")."""
    variant: str
    label: str


@dataclasses.dataclass
class Outcome:
    """One boot's figures."""
    label: str
    boot: int
    res: str
    rounds: list      # (case, where, n, ns_per_op, ops)
    checks: list      # (name, ok, detail)
    problem: str = ""  # why the boot gave no (or partial) figures


# What a benchmark variant builds: (source tree, kernel flavour); series-c is
# the series with the C selection of its C-and-Rust code (CONFIG_DAX_C).
BENCH_KERNELS = {"base": ("base", "bench"), "series": ("series", "bench"),
                 "series-c": ("series", "bench-c")}


def instances(spec: str) -> list[Instance]:
    """"base,base,series" -> base, base#2, series."""
    names = [v.strip() for v in spec.split(",") if v.strip()]
    if len(names) < 2:
        raise Fail(f"--variants {spec!r}: name at least two (the first is the reference; "
                   "the same twice measures the noise floor)")
    bad = [v for v in names if v not in BENCH_KERNELS]
    if bad:
        raise Fail(f"--variants: {', '.join(bad)} not one of {', '.join(BENCH_KERNELS)}")
    seen: dict[str, int] = {}
    out = []
    for v in names:
        seen[v] = seen.get(v, 0) + 1
        out.append(Instance(v, v if seen[v] == 1 else f"{v}#{seen[v]}"))
    return out


def parse(text: str) -> tuple[list, list]:
    """bench.tsv's round and check lines; other lines are ignored."""
    rounds, checks = [], []
    for line in text.splitlines():
        f = line.split("\t")
        try:
            if f[0] == "round" and len(f) == 6:
                rounds.append((f[1], f[2], int(f[3]), float(f[4]), int(f[5])))
            elif f[0] == "check" and len(f) >= 3:
                checks.append((f[1], f[2] == "ok", f[3] if len(f) > 3 else ""))
        except ValueError:
            continue
    return rounds, checks


def _median_of(boots: list[list[float]]) -> float:
    return statistics.median([x for b in boots for x in b])


def _resample(rng: random.Random, boots: list[list[float]]) -> list[list[float]]:
    picked = [boots[rng.randrange(len(boots))] for _ in boots]
    return [[b[rng.randrange(len(b))] for _ in b] for b in picked]


def ratio_interval(ref: list[list[float]], other: list[list[float]],
                   seed: str) -> tuple[float, float, float]:
    """(ratio of medians other/ref, 2.5th, 97.5th percentile of its
    two-level bootstrap).  ref and other: per boot, its rounds."""
    rng = random.Random(seed)
    ratio = _median_of(other) / _median_of(ref)
    samples = sorted(_median_of(_resample(rng, other)) / _median_of(_resample(rng, ref))
                     for _ in range(BOOTSTRAP))
    return ratio, samples[int(0.025 * BOOTSTRAP)], samples[int(0.975 * BOOTSTRAP) - 1]


def summarise(insts: list[Instance], outcomes: list[Outcome]) -> list[dict]:
    """Per case (in the order the guest ran them): each instance's median,
    spread and rounds, and each non-reference instance's ratio interval."""
    order: list[tuple[str, str]] = []
    data: dict[tuple[str, str], dict[str, dict[int, list[float]]]] = {}
    for o in outcomes:
        for case, where, _, ns, _ in o.rounds:
            key = (case, where)
            if key not in data:
                data[key] = {}
                order.append(key)
            data[key].setdefault(o.label, {}).setdefault(o.boot, []).append(ns)
    ref = insts[0].label
    cases = []
    for key in order:
        row: dict = {"case": key[0], "where": key[1], "variants": {}}
        for inst in insts:
            per_boot = data[key].get(inst.label)
            if not per_boot:
                row["variants"][inst.label] = None
                continue
            boots = [per_boot[b] for b in sorted(per_boot)]
            vals = [x for b in boots for x in b]
            med = statistics.median(vals)
            v = {"median": med, "min": min(vals), "max": max(vals),
                 "spread_pct": 100 * (max(vals) - min(vals)) / med if med else 0.0,
                 "rounds": len(vals), "boots": len(boots), "values": boots}
            if inst.label != ref and data[key].get(ref):
                rb = [data[key][ref][b] for b in sorted(data[key][ref])]
                r, lo, hi = ratio_interval(rb, boots, f"{key}|{inst.label}")
                v.update(ratio=r, ratio_lo=lo, ratio_hi=hi, contains_one=lo <= 1.0 <= hi)
            row["variants"][inst.label] = v
        cases.append(row)
    return cases


def table(insts: list[Instance], cases: list[dict]) -> str:
    """The Markdown table: medians in instructions per operation."""
    ref = insts[0].label
    head = ["case", "on", f"{ref} (instr/op, spread)"]
    for inst in insts[1:]:
        head += [f"{inst.label} (instr/op, spread)", f"{inst.label}/{ref} [95 % CI]"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in cases:
        cells = [c["case"], c["where"]]
        for inst in insts:
            v = c["variants"].get(inst.label)
            if v is None:
                cells += ["missing"] + ([] if inst.label == ref else ["-"])
                continue
            cells.append(f"{v['median']:,.0f} ({v['spread_pct']:.1f} %)")
            if inst.label != ref:
                if "ratio" in v:
                    mark = "" if v["contains_one"] else " *"
                    cells.append(f"{v['ratio']:.3f} [{v['ratio_lo']:.3f}, "
                                 f"{v['ratio_hi']:.3f}]{mark}")
                else:
                    cells.append("-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def chart(insts: list[Instance], cases: list[dict], png: str) -> str | None:
    """A bar chart of the ratios with their intervals (gnuplot); None when
    drawn, else why not."""
    others = [i.label for i in insts[1:]]
    dat = png[:-4] + ".dat"
    with open(dat, "w") as f:
        for c in cases:
            cols = [f"{c['case']}/{c['where']}"]
            for lab in others:
                v = c["variants"].get(lab) or {}
                cols += [f"{v.get('ratio', float('nan')):.4f}",
                         f"{v.get('ratio_lo', float('nan')):.4f}",
                         f"{v.get('ratio_hi', float('nan')):.4f}"]
            f.write("\t".join(cols) + "\n")
    plots = ", ".join(
        f"'{dat}' using {2 + 3 * i}:{3 + 3 * i}:{4 + 3 * i}"
        f"{':xtic(1)' if i == 0 else ''} title '{lab} / {insts[0].label}'"
        for i, lab in enumerate(others))
    bounds = [x for c in cases for lab in others
              for x in ((c["variants"].get(lab) or {}).get("ratio_lo"),
                        (c["variants"].get(lab) or {}).get("ratio_hi")) if x is not None]
    ylo = min([0.95] + bounds) - 0.02
    yhi = max([1.05] + bounds) + 0.02
    script = "\n".join([
        "set terminal pngcairo size 1400,700 font ',10'",
        f"set output '{png}'",
        f"set title 'DAX paths: instructions per operation, relative to "
        f"{insts[0].label} (QEMU -icount; bars: 95 % bootstrap interval)'",
        "set style data histograms",
        "set style histogram errorbars gap 2 lw 1",
        "set style fill solid 0.6 border -1",
        "set datafile separator '\\t'",
        "set xtics rotate by -45 scale 0",
        "set ylabel 'ratio of medians'",
        f"set yrange [{ylo:.3f}:{yhi:.3f}]",
        "set grid ytics",
        "set key top right",
        "set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc rgb 'black'",
        f"plot {plots}",
    ])
    try:
        p = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True)
    except OSError as e:
        return f"gnuplot: {e}"
    if p.returncode != 0 or not os.path.exists(png):
        return f"gnuplot failed: {p.stderr.strip()[:300]}"
    return None


# The cases bench.sh runs, for --cases.
CASES = ("pte-read-fault", "pte-write-fault", "pmd-read-fault", "pmd-write-fault",
         "munmap-pte", "munmap-pmd", "gup-pin-fast", "gup-pin-slow", "odirect-read",
         "truncate", "rw-read-4k", "rw-write-4k", "rw-read-1m", "rw-write-1m",
         "hole-read-fault", "reflink-clone", "reflink-read-fault", "devdax-pmd-fault",
         "devdax-pud-fault")


# Where cases run, for --cases CASE/WHERE.
WHERES = ("xfs", "ext4", "devdax", "tmpfs")


def case_list(spec: str) -> list[str]:
    """--cases "a,b/xfs" -> [a, b/xfs]: each a case of CASES, or one on a
    WHERE of WHERES; empty for all."""
    names = [c.strip() for c in spec.split(",") if c.strip()]
    bad = [c for c in names
           if c.split("/")[0] not in CASES or c.count("/") > 1
           or ("/" in c and c.split("/")[1] not in WHERES)]
    if bad:
        raise Fail(f"--cases: {', '.join(bad)}: name cases of {', '.join(CASES)}, "
                   f"each alone or as CASE/WHERE with WHERE one of {', '.join(WHERES)}")
    return names


def build_plugin() -> str:
    """project/qemu/insnprof.c built into $DAXRS_CACHE/bin (when its source
    changed); the shared object's path."""
    from daxrs.kernel.testmods import compile_stamped

    return compile_stamped(os.path.join(settings.PROJECT, "qemu", "insnprof.c"),
                           os.path.join(settings.CACHE, "bin", "insnprof.so"),
                           ["-O2", "-Wall", "-shared", "-fPIC", "-fvisibility=hidden"])


def symbols(system_map: str) -> tuple[list[int], list[str]]:
    """The text symbols of a System.map, by address: (addresses, names)."""
    rows = []
    for line in read_text(system_map, "").splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in "tTwW":
            rows.append((int(f[0], 16), f[2]))
    rows.sort()
    return [a for a, _ in rows], [n for _, n in rows]


def demangle(names: list[str]) -> list[str]:
    """Rust (v0) and C++ names readable (c++filt); as they are without it."""
    try:
        p = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True,
                           text=True)
    except OSError:
        return names
    out = p.stdout.splitlines()
    return out if p.returncode == 0 and len(out) == len(names) else names


def attribute(counts: str, system_map: str) -> dict[str, int]:
    """insnprof's "ADDRESS COUNT" lines summed per kernel symbol."""
    addrs, names = symbols(system_map)
    per: dict[str, int] = {}
    for line in read_text(counts, "").splitlines():
        f = line.split()
        if len(f) != 2:
            continue
        try:
            a, n = int(f[0], 16), int(f[1])
        except ValueError:
            continue
        i = bisect.bisect_right(addrs, a) - 1
        name = names[i] if i >= 0 else "(before the kernel text)"
        per[name] = per.get(name, 0) + n
    return per


def profile_table(insts: list[Instance], profiles: dict[str, dict[str, float]],
                  top: int = 60) -> str:
    """Markdown: instructions per operation by symbol, each instance beside
    the reference, the symbols whose difference is largest first."""
    ref = insts[0].label
    labels = [i.label for i in insts if i.label in profiles]
    syms = set().union(*(profiles[lab] for lab in labels)) if labels else set()
    base = profiles.get(ref, {})

    def weight(sym):
        vals = [profiles[lab].get(sym, 0.0) for lab in labels]
        return max(abs(v - base.get(sym, 0.0)) for v in vals) + 1e-3 * max(vals)
    order = sorted(syms, key=weight, reverse=True)[:top]
    readable = dict(zip(order, demangle(order)))
    head = ["symbol"] + [f"{lab} (instr/op)" for lab in labels]
    head += [f"{lab} - {ref}" for lab in labels if lab != ref]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for sym in order:
        cells = [readable[sym].replace("|", "\\|")]
        cells += [f"{profiles[lab].get(sym, 0.0):,.1f}" for lab in labels]
        cells += [f"{profiles[lab].get(sym, 0.0) - base.get(sym, 0.0):+,.1f}"
                  for lab in labels if lab != ref]
        lines.append("| " + " | ".join(cells) + " |")
    totals = ["**all**"] + [f"{sum(profiles[lab].values()):,.0f}" for lab in labels]
    totals += [f"{sum(profiles[lab].values()) - sum(base.values()):+,.0f}"
               for lab in labels if lab != ref]
    lines.append("| " + " | ".join(totals) + " |")
    return "\n".join(lines) + "\n"


def profiles_of(insts: list[Instance], kernels: dict, outcomes: list[Outcome],
                res: str) -> str:
    """Per instance, the instructions of every kernel symbol in its boots
    (insnprof.txt), over the operations of their rounds; writes
    profile-<label>.tsv and profile.md into res and returns the table."""
    profiles: dict[str, dict[str, float]] = {}
    for inst in insts:
        system_map = os.path.join(kernels[inst.variant].out, "System.map")
        total: dict[str, int] = {}
        ops = 0
        for o in outcomes:
            counts = os.path.join(o.res, "insnprof.txt")
            if o.label != inst.label or not o.rounds or not os.path.exists(counts):
                continue
            for sym, n in attribute(counts, system_map).items():
                total[sym] = total.get(sym, 0) + n
            ops += sum(r[4] for r in o.rounds)
        if not ops:
            continue
        profiles[inst.label] = {sym: n / ops for sym, n in total.items()}
        with open(os.path.join(res, f"profile-{inst.label}.tsv"), "w") as f:
            for sym, v in sorted(profiles[inst.label].items(), key=lambda kv: -kv[1]):
                f.write(f"{sym}\t{v:.2f}\n")
    md = profile_table(insts, profiles)
    with open(os.path.join(res, "profile.md"), "w") as f:
        f.write(md)
    return md


def run_boot(kern, inst: Instance, boot_no: int, rounds: int, bindir: str,
             timeout: int, cases: list[str] | None = None,
             plugin: str | None = None) -> Outcome:
    machine, counts = MACHINE, None
    if plugin:
        fd, counts = tempfile.mkstemp(prefix="insnprof-", dir=settings.RESULTS)
        os.close(fd)
        machine = dataclasses.replace(MACHINE, qemu=f"{MACHINE.qemu} -plugin {plugin},"
                                      f"out={counts}")
    # Under -icount sleep=off the guest's clock jumps to its next timer
    # whenever it idles, as while it waits for a busy host's 9p reads: a
    # setup of a minute's wall time once took 760 s of guest time and hit
    # the guest's 600 s setup limit.  The host's wall-clock timeout of the
    # boot catches a hung setup instead ("0": no guest-side limit).
    env = {"BENCH_ROUNDS": str(rounds), "SETUP_TIMEOUT": "0"}
    if cases:
        env["BENCH_CASES"] = " ".join(cases)
    b = vm.boot(kern, "bench", PMEM, timeout, f"benchmark, boot {boot_no}", bindir,
                machine=machine, env_extra=env)
    if counts:
        shutil.move(counts, os.path.join(b.res, "insnprof.txt"))
    text = read_text(os.path.join(b.res, "bench.tsv"), "")
    rs, cs = parse(text)
    problem = ""
    if b.timed_out or b.crashed:
        problem = (f"the guest {'timed out' if b.timed_out else 'crashed'} at "
                   f"{b.progress or 'boot'}: see {b.console}")
    elif not rs:
        problem = (f"no figures (runner exit {b.rc}); "
                   f"{read_text(os.path.join(b.res, 'bench.err'), '').strip()[-300:]}")
    return Outcome(inst.label, boot_no, b.res, rs, cs, problem)


def cmd_bench(args):
    from daxrs.host import ensure_host
    from daxrs.kernel.kbuild import build
    from daxrs.kernel.testmods import build_helpers
    from daxrs.series.materialise import source_tree

    t0 = now()
    insts = instances(args.variants)
    cases = case_list(args.cases)
    if args.rounds < 3 or args.boots < 1:
        raise Fail("--rounds must be at least 3 and --boots at least 1")
    tools = ensure_host()
    kernels = {}
    for v in dict.fromkeys(i.variant for i in insts):
        tree, flavour = BENCH_KERNELS[v]
        kernels[v] = build(source_tree(tree), tools, flavour=flavour)
    bindir = build_helpers()
    plugin = build_plugin() if args.profile else None
    timeout = int(os.environ.get("DAXRS_BOOT_TIMEOUT", "") or 2400)
    outcomes = []
    total = args.boots * len(insts)
    for b in range(1, args.boots + 1):
        for inst in insts:
            say(f"bench: {inst.label}, boot {b} of {args.boots} "
                f"({len(outcomes) + 1}/{total})")
            outcomes.append(run_boot(kernels[inst.variant], inst, b, args.rounds, bindir,
                                     timeout, cases, plugin))
    cases = summarise(insts, outcomes)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    res = os.path.join(settings.RESULTS, f"{stamp}-bench")
    os.makedirs(res, exist_ok=True)
    md = table(insts, cases)
    failed_checks = [(o.label, o.boot, n, d) for o in outcomes for n, ok, d in o.checks
                     if not ok]
    problems = [(o.label, o.boot, o.problem) for o in outcomes if o.problem]
    missing = [f"{c['case']}/{c['where']}: {lab}" for c in cases
               for lab, v in c["variants"].items() if v is None]
    png = os.path.join(res, "bench.png")
    why = chart(insts, cases, png)
    meta = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
            "variants": [dataclasses.asdict(i) for i in insts],
            "kernels": {v: {"release": k.release, "tree": k.tree, "config": k.config_hash}
                        for v, k in kernels.items()},
            "rounds": args.rounds, "boots": args.boots, "bootstrap": BOOTSTRAP,
            "clock": "QEMU -icount shift=0,sleep=off: 1 ns = 1 guest instruction",
            "boot_dirs": [{"label": o.label, "boot": o.boot, "res": o.res} for o in outcomes],
            "checks": [{"label": o.label, "boot": o.boot, "name": n, "ok": ok, "detail": d}
                       for o in outcomes for n, ok, d in o.checks],
            "problems": [{"label": lab, "boot": b, "problem": p} for lab, b, p in problems],
            "cases": cases}
    with open(os.path.join(res, "bench.json"), "w") as f:
        json.dump(meta, f, indent=1)
    with open(os.path.join(res, "bench.md"), "w") as f:
        f.write(md)
    prof_md = None
    if plugin:
        prof_md = profiles_of(insts, kernels, outcomes, res)
    latest = os.path.join(settings.RESULTS, "latest-bench")
    if os.path.islink(latest):
        os.unlink(latest)
    os.symlink(res, latest)
    print("\n" + md)
    print("(instructions per operation under QEMU -icount; spread = (max - min) / median "
          "over every round of every boot; * = the interval excludes 1.00)")
    nchecks = sum(len(o.checks) for o in outcomes)
    print(f"\nchecks: {nchecks - len(failed_checks)} of {nchecks} held")
    for lab, b, n, d in failed_checks:
        print(f"  FAILED {lab} boot {b}: {n}: {d}")
    for lab, b, p in problems:
        print(f"  {lab} boot {b}: {p}")
    for m in missing:
        print(f"  no figures: {m}")
    if prof_md is not None:
        print("\ninstructions per operation by kernel symbol (the whole boot's, over "
              "the operations of its rounds; largest differences first):\n")
        print(prof_md)
        print(f"profile: {os.path.join(res, 'profile.md')}")
    print(f"chart: {png}" if why is None else f"no chart: {why}")
    print(f"results: {res} (bench.json, bench.md)")
    print(f"(total time {fmt_secs(now() - t0)})")
    return 1 if failed_checks or problems or missing else 0
