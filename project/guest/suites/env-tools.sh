#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What ndctl's and fstests' DAX tests need from the kernel and the guest,
# each checked here so that a config or tooling gap shows up in our own run:
# trace-cmd recording the fs_dax PMD fault event (ndctl dax.sh), a readable
# /dev/mem, and a dm-linear device over pmem that stays DAX capable (ndctl
# dm.sh).  Uses PMEM0 and PMEM1, unmounted, and leaves them so.
set -u
# shellcheck source-path=SCRIPTDIR/..
. "$GUEST/lib.sh"
ktap_header

TRACE="trace-cmd records fs_dax:dax_pmd_fault_done (xfs PMD fault)"
DEVMEM="/dev/mem exists and reads"
DM="dm-linear over /dev/$PMEM0: DAX, ext4 dax=always mount"
DMRM="dm-linear removed"

# without them, the pmem checks fail with the reason and /dev/mem still runs
nodevs=$(devices_missing PMEM0 PMEM1)

progress "env: trace-cmd, /dev/mem, dm-linear over pmem"
if [ -n "$nodevs" ]; then
	ktap_fail "$TRACE" "$nodevs"
elif mkfs_mount xfs "$PMEM1" "$MNT/xfs"; then
	trace-cmd record -q -e fs_dax:dax_pmd_fault_done -o /tmp/daxrs-pmd.dat \
		"$PROBE" map "$MNT/xfs/pmd-trace" > "$RES/trace-cmd.txt" 2>&1
	trace-cmd report -i /tmp/daxrs-pmd.dat > "$RES/trace-cmd-report.txt" 2>&1
	n=$(grep -c dax_pmd_fault_done "$RES/trace-cmd-report.txt")
	# the result is VM_FAULT_NOPAGE (0x100) when a PMD was mapped;
	# trace-cmd prints the flag's name or, unresolved, its value
	nopage=$(grep dax_pmd_fault_done "$RES/trace-cmd-report.txt" | grep -Ec "NOPAGE|0x100\b")
	if [ "$nopage" -ge 1 ]; then
		ktap_ok "$TRACE" "$n events, $nopage NOPAGE"
	else
		ktap_fail "$TRACE" \
			"$n events, $nopage NOPAGE: $(grep -m1 dax_pmd_fault_done "$RES/trace-cmd-report.txt")"
	fi
	umount "$MNT/xfs"
else
	ktap_fail "$TRACE" "xfs mount failed"
fi

if [ -c /dev/mem ] && dd if=/dev/mem of=/dev/null bs=4096 count=1 2>/dev/null; then
	ktap_ok "$DEVMEM"
else
	ktap_fail "$DEVMEM" "$(ls -l /dev/mem 2>&1)"
fi

[ -n "$nodevs" ] || sectors=$(blockdev --getsz "/dev/$PMEM0")
if [ -n "$nodevs" ]; then
	ktap_fail "$DM" "$nodevs"
	ktap_skip "$DMRM" "no dm-linear device"
elif dmsetup create daxrs-linear --table "0 $sectors linear /dev/$PMEM0 0" 2>"$RES/dm.err"; then
	dm=$(basename "$(readlink -f /dev/mapper/daxrs-linear)")
	if [ "$(cat "/sys/block/$dm/queue/dax" 2>/dev/null)" = 1 ] &&
		mkfs_mount ext4 mapper/daxrs-linear "$MNT/dm" && grep -q " $MNT/dm .*dax=always" /proc/mounts; then
		ktap_ok "$DM" "$dm"
	else
		ktap_fail "$DM" "queue/dax=$(cat "/sys/block/$dm/queue/dax" 2>&1); $(dmesg | tail -2 | tr '\n' ' ')"
	fi
	umount "$MNT/dm" 2>/dev/null
	if dmsetup remove daxrs-linear; then
		ktap_ok "$DMRM"
	else
		ktap_fail "$DMRM" "dmsetup remove failed"
	fi
else
	ktap_fail "$DM" "$(cat "$RES/dm.err")"
	ktap_skip "$DMRM" "no dm-linear device"
fi
ktap_finish
