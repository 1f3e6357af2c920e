#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The guest's entry point, started by the host (project/daxrs) inside the
# virtme-ng guest, which runs on the host's root file system read-only:
#
#   bash run.sh RES
#
# RES is the one directory the guest can write, shared with the host.  The
# host puts there:
#   guest.env  shell assignments: MODE=demo|test|suites|bench, MODROOT (staged
#              modules), BINDIR (holds daxprobe), PMEM=memmap|nvdimm|all,
#              KSELFTEST (kselftest install dir, may be empty), VARIANT (one
#              line describing the kernel), SETUP_TIMEOUT (seconds)
#   plan       one suite a line, "NAME TIMEOUT_SECONDS", run in that order
#              (empty, or absent, for the demo)
# and the guest writes:
#   guest.log             this script's output and setup's and demo's
#   progress              what the guest is doing now
#   devices.env           the devices setup.sh made (see there)
#   NAME.ktap, NAME.err   each planned suite's stdout (KTAP) and stderr
#   NAME.rc               its exit status: 0 passed, 1 something failed,
#                         124/137 timed out (TERM, then KILL 10 s later),
#                         127 no such suite script, 2 bad timeout in the plan
#                         (TIMEOUT 0: none but the host's for the whole guest)
#   error                 an environment problem, in words (exit code 3)
#   dmesg.txt, dmesg.raw  the kernel log, plain and with <priority> prefixes
#   exit-code             written last: 0 every planned suite ran (whatever
#                         its result), 3 environment error; demo: its status
# The suites print results only; reading them is the host's job.
set -u
RES=${1:?usage: run.sh RES}
# A plain redirection of our own output: a tee behind a process substitution
# can still hold the last lines when the guest powers off after we exit.
exec >>"$RES/guest.log" 2>&1
GUEST=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

finish() {
	dmesg > "$RES/dmesg.txt"
	# the raw records keep each line's <facility*8+level>, by which the host
	# drops what user space wrote (our suite markers included)
	dmesg -r > "$RES/dmesg.raw"
	sync
	echo "$1" > "$RES/exit-code"
	exit "$1"
}

# An environment problem: say what is wrong and how to fix it, then stop.
die_env() {
	printf '%s\n' "$*" > "$RES/error"
	finish 3
}

[ -r "$RES/guest.env" ] || die_env "no $RES/guest.env: the host writes it before the boot"
# shellcheck source=/dev/null # written by the host
. "$RES/guest.env" || die_env "cannot read $RES/guest.env"
MODE=${MODE:-} PMEM=${PMEM:-} KSELFTEST=${KSELFTEST:-} VARIANT=${VARIANT:-}
case $MODE in
demo|test|suites|bench) ;;
*) die_env "guest.env: MODE='$MODE', expected demo, test, suites or bench" ;;
esac
for v in MODROOT BINDIR PMEM SETUP_TIMEOUT; do
	[ -n "${!v:-}" ] || die_env "guest.env: $v is not set"
done
case $SETUP_TIMEOUT in
*[!0-9]*) die_env "guest.env: SETUP_TIMEOUT='$SETUP_TIMEOUT' is not a number of seconds" ;;
esac
PROBE=$BINDIR/daxprobe
MNT=/tmp/daxrs
export RES GUEST MODROOT BINDIR PROBE MNT MODE PMEM KSELFTEST VARIANT
# shellcheck source-path=SCRIPTDIR
. "$GUEST/lib.sh"
echo "daxrs guest: $(uname -r), $VARIANT; mode $MODE, pmem $PMEM"

# ---------------------------------------------------------------------------
timeout -k 10 "$SETUP_TIMEOUT" bash "$GUEST/setup.sh" < /dev/null
rc=$?
case $rc in
0) ;;
124|137) die_env "setup timed out after $SETUP_TIMEOUT s (see $RES/guest.log)" ;;
3)
	# setup.sh said what is wrong in $RES/error
	[ -s "$RES/error" ] || printf 'setup failed (exit 3)\n' > "$RES/error"
	finish 3 ;;
*) die_env "setup failed (exit $rc, see $RES/guest.log)" ;;
esac
PMEM0='' PMEM1='' DAXDEV='' DAXPUD='' OURBUS=''
# shellcheck source=/dev/null # written by setup.sh
. "$RES/devices.env" || die_env "cannot read $RES/devices.env"
export PMEM0 PMEM1 DAXDEV DAXPUD OURBUS
echo "devices: PMEM0=$PMEM0 PMEM1=$PMEM1 DAXDEV=$DAXDEV DAXPUD=$DAXPUD OURBUS=$OURBUS"

if [ "$MODE" = bench ]; then
	# the benchmark's figures in $RES/bench.tsv (bench.sh); no time limit
	# of its own, the host's for the whole guest holds
	# (guest.env's BENCH_* settings are not exported: pass them on)
	BENCH_ROUNDS=${BENCH_ROUNDS:-} BENCH_CASES=${BENCH_CASES:-} \
		bash "$GUEST/bench.sh" > "$RES/bench.tsv" 2> "$RES/bench.err" < /dev/null
	rc=$?
	progress "done"
	finish "$rc"
fi

if [ "$MODE" = demo ]; then
	timeout -k 10 600 bash "$GUEST/demo.sh" < /dev/null
	rc=$?
	case $rc in 124|137) echo "demo timed out after 600 s" ;; esac
	progress "done"
	finish "$rc"
fi

# ---------------------------------------------------------------------------
# The suites of the plan, one process each, under their own timeout: one
# that hangs or fails leaves the others to run.  Markers in the kernel log
# let the host tell which suite the kernel's messages belong to.
[ -r "$RES/plan" ] || die_env "no $RES/plan: the host lists the suites to run there"
while read -r name secs _ <&3; do
	case $name in ""|"#"*) continue ;; esac
	# the name makes file names in $RES: nothing that leaves it
	case $name in
	.*|*[!A-Za-z0-9._-]*)
		echo "plan: suite name '$name' is not a plain file name: not run"
		continue ;;
	esac
	script=$GUEST/suites/$name.sh
	if [ ! -f "$script" ]; then
		echo "no suite script $script" > "$RES/$name.err"
		: > "$RES/$name.ktap"
		echo 127 > "$RES/$name.rc"
		echo "suite $name: no script"
		continue
	fi
	# 0: no timeout of its own (timeout(1) reads it so), the host's
	# timeout of the whole guest still holds
	case $secs in
	""|*[!0-9]*)
		echo "plan: no timeout in seconds for suite $name ('$secs')" > "$RES/$name.err"
		: > "$RES/$name.ktap"
		echo 2 > "$RES/$name.rc"
		echo "suite $name: bad timeout '$secs' in the plan"
		continue ;;
	esac
	progress "suite $name"
	echo "daxrs: suite $name begin" > /dev/kmsg
	t0=$SECONDS
	timeout -k 10 "$secs" bash "$script" > "$RES/$name.ktap" 2> "$RES/$name.err" < /dev/null
	rc=$?
	echo "$rc" > "$RES/$name.rc"
	echo "daxrs: suite $name end rc=$rc" > /dev/kmsg
	echo "suite $name: exit $rc after $((SECONDS - t0)) s"
done 3< "$RES/plan"

progress "done"
finish 0
