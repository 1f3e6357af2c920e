#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The benchmark guest (MODE=bench; `daxrs bench`), booted with QEMU
# -icount shift=0,sleep=off: the guest clock counts instructions.  Runs
# daxbench over every case and prints, on stdout, one line per round:
#
#   round  CASE  WHERE  N  NS_PER_OP  OPS
#
# and one line per check that the cases measure what they say:
#
#   check  NAME  ok|fail  DETAIL
#
# WHERE is xfs or ext4 (dax=always on an fsdax namespace), devdax, or
# tmpfs.  BENCH_ROUNDS (guest.env) rounds per case, default 9.
# BENCH_CASES (guest.env), if set, names the only cases to run (CASE or
# CASE/WHERE), separated by spaces, and leaves out the checks (`daxrs
# bench --cases`).  Exit 0
# when every case ran and every check held, else 1.
set -u
# shellcheck source-path=SCRIPTDIR
. "$GUEST/lib.sh"

ROUNDS=${BENCH_ROUNDS:-9}
CASES=${BENCH_CASES:-}
case $ROUNDS in ""|*[!0-9]*) echo "BENCH_ROUNDS='$ROUNDS' is not a number" >&2; exit 1 ;; esac
BENCH=$BINDIR/daxbench
status=0
TRACE=/sys/kernel/tracing

# sizes: enough operations per round that a round is mostly the operation
PTE_SIZE=4M PMD_SIZE=64M DEVDAX_SIZE=128M GUP_SIZE=4M ODIRECT_SIZE=1M
# read(2)/write(2): 2048 calls of 4 KiB or 8 of 1 MiB; hole faults: 1024
RW_SIZE=8M HOLE_SIZE=$PTE_SIZE

check() { # NAME ok|fail DETAIL
	printf 'check\t%s\t%s\t%s\n' "$1" "$2" "$3"
	[ "$2" = ok ] || status=1
}

# whether to run the checks: not when BENCH_CASES picks cases
checks() { [ -z "$CASES" ]; }

# run CASE WHERE daxbench-args...: the rounds, or a failed check saying why;
# nothing for a case BENCH_CASES names neither as CASE nor as CASE/WHERE
run() {
	local name=$1 where=$2 out err n=0 ns ops
	shift 2
	[ -z "$CASES" ] || [[ " $CASES " == *" $name "* ]] ||
		[[ " $CASES " == *" $name/$where "* ]] || return 0
	progress "bench: $name on $where"
	err=$(mktemp)
	if ! out=$("$BENCH" "$@" 2>"$err"); then
		check "$name/$where ran" fail "daxbench $*: $(tr '\n' ' ' < "$err")"
		rm -f "$err"
		return
	fi
	rm -f "$err"
	while IFS=$'\t' read -r ns ops; do
		n=$((n + 1))
		printf 'round\t%s\t%s\t%d\t%s\t%s\n' "$name" "$where" "$n" "$ns" "$ops"
	done <<< "$out"
	[ "$n" = "$ROUNDS" ] ||
		check "$name/$where rounds" fail "expected $ROUNDS rounds, got $n"
}

# How many fs_dax:dax_pmd_fault_done events with RESULT (NOPAGE, FALLBACK)
# running daxbench ARGS... produces.
pmd_events() { # RESULT daxbench-args...
	local result=$1 n
	shift
	echo > "$TRACE/trace"
	echo 1 > "$TRACE/events/fs_dax/dax_pmd_fault_done/enable"
	"$BENCH" "$@" > /dev/null 2>&1
	echo 0 > "$TRACE/events/fs_dax/dax_pmd_fault_done/enable"
	n=$(grep -c "$result" "$TRACE/trace")
	echo "${n:-0}"
}

mountpoint -q "$TRACE" || mount -t tracefs nodev "$TRACE" 2>/dev/null
mountpoint -q /sys/kernel/debug || mount -t debugfs nodev /sys/kernel/debug 2>/dev/null

for v in PMEM0 PMEM1 DAXDEV DAXPUD; do
	[ -n "${!v}" ] || { check "device $v" fail "setup made no $v (devices.env)"; exit 1; }
done

declare -A DEV=([xfs]=$PMEM0 [ext4]=$PMEM1)
declare -A OTHER=([xfs]=$PMEM1 [ext4]=$PMEM0)
for fs in xfs ext4; do
	dir=$MNT/bench-$fs
	if ! mkfs_mount "$fs" "${DEV[$fs]}" "$dir"; then
		check "mount $fs" fail "mkfs.$fs or mount -o dax=always of /dev/${DEV[$fs]} failed"
		continue
	fi
	f=$dir/data

	if checks; then
		# the fault cases measure the fault size they are named after
		n=$(pmd_events NOPAGE fault "$f" read pmd "$PMD_SIZE" 1)
		want=$(( $(numfmt --from=iec "$PMD_SIZE") / (2 << 20) ))
		if [ "$n" = "$want" ]; then
			check "pmd-fault/$fs maps PMDs" ok "$n NOPAGE PMD faults of $want"
		else
			check "pmd-fault/$fs maps PMDs" fail "$n NOPAGE PMD faults, expected $want"
		fi
		# (a PMD fault is tried once per 2 MiB and falls back: FALLBACK events)
		n=$(pmd_events NOPAGE fault "$f" read pte "$PTE_SIZE" 1)
		if [ "$n" = 0 ]; then
			check "pte-fault/$fs maps no PMD" ok "no PMD mapped"
		else
			check "pte-fault/$fs maps no PMD" fail "$n PMDs mapped on the misaligned mapping"
		fi
	fi

	run pte-read-fault "$fs" fault "$f" read pte "$PTE_SIZE" "$ROUNDS"
	run pte-write-fault "$fs" fault "$f" write pte "$PTE_SIZE" "$ROUNDS"
	run pmd-read-fault "$fs" fault "$f" read pmd "$PMD_SIZE" "$ROUNDS"
	run pmd-write-fault "$fs" fault "$f" write pmd "$PMD_SIZE" "$ROUNDS"
	run munmap-pte "$fs" munmap "$f" pte "$PTE_SIZE" "$ROUNDS"
	run munmap-pmd "$fs" munmap "$f" pmd "$PMD_SIZE" "$ROUNDS"
	run gup-pin-fast "$fs" gup "$f" fast "$GUP_SIZE" "$ROUNDS"
	run gup-pin-slow "$fs" gup "$f" slow "$GUP_SIZE" "$ROUNDS"
	run odirect-read "$fs" odirect "$f" "/dev/${OTHER[$fs]}" "$ODIRECT_SIZE" "$ROUNDS"
	run truncate "$fs" truncate "$f" pmd "$PMD_SIZE" "$ROUNDS"
	# read(2)/write(2) of a written file (dax_iomap_rw), and read faults
	# over holes (the zero page; daxbench fails if a block appears)
	run rw-read-4k "$fs" rw "$f" read "$RW_SIZE" 4K "$ROUNDS"
	run rw-write-4k "$fs" rw "$f" write "$RW_SIZE" 4K "$ROUNDS"
	run rw-read-1m "$fs" rw "$f" read "$RW_SIZE" 1M "$ROUNDS"
	run rw-write-1m "$fs" rw "$f" write "$RW_SIZE" 1M "$ROUNDS"
	run hole-read-fault "$fs" holefault "$dir/hole" pte "$HOLE_SIZE" "$ROUNDS"
	if [ "$fs" = xfs ]; then
		# reflink: FICLONE breaks both files' layouts; the clone's
		# faults find folios the source owns and share them
		if checks; then
			n=$(pmd_events NOPAGE reflink "$f" fault "$PMD_SIZE" 1)
			want=$(( 2 * $(numfmt --from=iec "$PMD_SIZE") / (2 << 20) ))
			if [ "$n" = "$want" ]; then
				check "reflink-fault/$fs maps PMDs" ok "$n NOPAGE PMD faults of $want (source and clone)"
			else
				check "reflink-fault/$fs maps PMDs" fail "$n NOPAGE PMD faults, expected $want (source and clone)"
			fi
		fi
		run reflink-clone "$fs" reflink "$f" clone "$PMD_SIZE" "$ROUNDS"
		run reflink-read-fault "$fs" reflink "$f" fault "$PMD_SIZE" "$ROUNDS"
	fi

	if ! checks; then
		:
	elif out=$("$BENCH" longterm "$f" 1M 2>&1); then
		check "longterm-pin/$fs refused" ok "$out"
	else
		check "longterm-pin/$fs refused" fail "FOLL_LONGTERM on FS DAX: $out"
	fi
	rm -f "$f" "$dir/hole"
	umount "$dir"
done

# device-DAX: its fault size is its alignment, nothing else can fault
run devdax-pmd-fault devdax fault "/dev/$DAXDEV" write pmd "$DEVDAX_SIZE" "$ROUNDS"
pud=$(cat "/sys/bus/dax/devices/$DAXPUD/size" 2>/dev/null || echo 0)
pud=$((pud / (1 << 30)))
if [ "$pud" -ge 1 ]; then
	run devdax-pud-fault devdax fault "/dev/$DAXPUD" write pud "${pud}G" "$ROUNDS"
elif checks; then
	check "devdax-pud-fault/devdax" fail "/dev/$DAXPUD has less than 1 GiB"
fi

# the physical reference: page cache pages of tmpfs
mkdir -p "$MNT/bench-tmpfs"
mount -t tmpfs -o size=64M tmpfs "$MNT/bench-tmpfs"
run pte-read-fault tmpfs fault "$MNT/bench-tmpfs/data" read pte "$PTE_SIZE" "$ROUNDS"
# the longterm check can fail: tmpfs pages are pinnable
if ! checks; then
	:
elif out=$("$BENCH" longterm "$MNT/bench-tmpfs/data" 1M 2>&1); then
	check "longterm-pin/tmpfs pins (control)" fail "$out"
else
	check "longterm-pin/tmpfs pins (control)" ok "$out"
fi
umount "$MNT/bench-tmpfs"
exit "$status"
