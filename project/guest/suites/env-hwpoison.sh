#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# ndctl dax-pmd's MADV_HWPOISON check: poisoning a page of a mapped FS DAX
# file (xfs on PMEM1) must kill the caller with SIGBUS, BUS_MCEERR_AR.  It
# leaves a poisoned page behind, so the host runs this suite last.
set -u
# shellcheck source-path=SCRIPTDIR/..
. "$GUEST/lib.sh"
ktap_header

POISON="MADV_HWPOISON on a DAX mapping: SIGBUS BUS_MCEERR_AR"
UNMOUNT="unmount after MADV_HWPOISON"

progress "env: MADV_HWPOISON on a mapped DAX page (xfs)"
if ! why=$(devices_missing PMEM1); then
	ktap_fail "$POISON" "$why"
	ktap_skip "$UNMOUNT" "nothing mounted"
elif mkfs_mount xfs "$PMEM1" "$MNT/xfs"; then
	# daxprobe hwpoison prints one line: "sigbus <si_code>" or what happened
	out=$("$PROBE" hwpoison "$MNT/xfs/poison" 2>&1)
	case $out in
	"sigbus BUS_MCEERR_AR") ktap_ok "$POISON" ;;
	*) ktap_fail "$POISON" "$out" ;;
	esac
	if umount "$MNT/xfs"; then
		ktap_ok "$UNMOUNT"
	else
		ktap_fail "$UNMOUNT" "umount failed"
	fi
else
	ktap_fail "$POISON" "xfs mount failed"
	ktap_skip "$UNMOUNT" "nothing mounted"
fi
ktap_finish
