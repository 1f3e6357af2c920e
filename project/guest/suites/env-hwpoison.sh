#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# ndctl dax-pmd's MADV_HWPOISON check: poisoning a page of a mapped FS DAX
# file (xfs on PMEM1) must kill the caller with SIGBUS, BUS_MCEERR_AR.  It
# leaves a poisoned page behind, so the host runs this suite last.  Before
# it, the pagemap ops PMEM1 has must be the selected implementation's.
set -u
# shellcheck source-path=SCRIPTDIR/..
. "$GUEST/lib.sh"
ktap_header

POISON="MADV_HWPOISON on a DAX mapping: SIGBUS BUS_MCEERR_AR"
UNMOUNT="unmount after MADV_HWPOISON"
OPS="the FS DAX pagemap ops of the selection (DAX_RUST: pmem_rs.rs)"

# Which ops the memory failure below goes through: pmem's debugfs names
# them, and the kernel's own .config (the build dir above $MODROOT) says
# which implementation was selected.
pagemap_ops() {
	local cfg f page_free failure
	cfg="$(dirname "$MODROOT")/.config"
	f=/sys/kernel/debug/pmem/$PMEM1/pagemap_ops
	mountpoint -q /sys/kernel/debug || mount -t debugfs nodev /sys/kernel/debug
	if ! grep -qE '^CONFIG_DAX_(RUST|C)=y' "$cfg" 2>/dev/null; then
		ktap_skip "$OPS" "a kernel without the DAX_RUST/DAX_C choice"
		return
	fi
	if [ ! -r "$f" ]; then
		ktap_fail "$OPS" "no $f"
		return
	fi
	page_free=$(sed -n 's/^page_free //p' "$f")
	failure=$(sed -n 's/^memory_failure //p' "$f")
	if grep -q '^CONFIG_DAX_RUST=y' "$cfg"; then
		case "$page_free|$failure" in
		_R*pmem_rs*"|"_R*pmem_rs*) ktap_ok "$OPS" ;;
		*) ktap_fail "$OPS" "DAX_RUST but: $page_free / $failure" ;;
		esac
	else
		case "$page_free|$failure" in
		"dax_page_free|pmem_pagemap_memory_failure"*) ktap_ok "$OPS" ;;
		*) ktap_fail "$OPS" "DAX_C but: $page_free / $failure" ;;
		esac
	fi
}

progress "env: MADV_HWPOISON on a mapped DAX page (xfs)"
if ! why=$(devices_missing PMEM1); then
	ktap_fail "$OPS" "$why"
	ktap_fail "$POISON" "$why"
	ktap_skip "$UNMOUNT" "nothing mounted"
else
	pagemap_ops
	if mkfs_mount xfs "$PMEM1" "$MNT/xfs"; then
		# daxprobe hwpoison prints one line: "sigbus <si_code>" or what
		# happened
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
fi
ktap_finish
