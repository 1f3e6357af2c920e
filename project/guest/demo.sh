#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The demo (run.sh, MODE=demo): ext4 and xfs mounted with dax=always on the
# two fsdax namespaces, a file of each mapped by daxprobe, and the device-DAX
# namespace mapped; what the kernel did is written to $RES/report.txt for
# people to read.  Exit 0 when the demo completed, 1 when a step failed,
# 3 (with $RES/error) when a file system could not be mounted.
set -u
# shellcheck source-path=SCRIPTDIR
. "$GUEST/lib.sh"
# shellcheck source=/dev/null # written by setup.sh
. "$RES/devices.env"

die_env() {
	printf '%s\n' "$*" > "$RES/error"
	exit 3
}

progress "mounting ext4 and xfs with dax=always, mapping files"
mkfs_mount ext4 "$PMEM0" "$MNT/ext4" || die_env "ext4 dax=always mount on /dev/$PMEM0 failed"
mkfs_mount xfs "$PMEM1" "$MNT/xfs" || die_env "xfs dax=always mount on /dev/$PMEM1 failed"
{
	echo
	echo "=== FS DAX on emulated pmem ==="
	echo "kernel   $(uname -r) ($VARIANT)"
	echo "pmem     $PMEM; devices and modes (ndctl list -N):"
	devtable
	echo "mounts"
	grep -E "^/dev/pmem" /proc/mounts | sed 's/^/  /'
	rc=0
	for fs in ext4 xfs; do
		echo
		echo "--- $fs: mmap of a DAX file (daxprobe map)"
		trace_start
		"$PROBE" map "$MNT/$fs/demo" | sed 's/^/  /'
		# daxprobe's status, not sed's
		[ "${PIPESTATUS[0]}" = 0 ] || rc=1
		trace_report | sed 's/^/  /'
	done
	echo
	echo "(unpatched 6.12 maps FS DAX pages without a reference or rmap, so smaps"
	echo " shows Rss 0 kB for them; the series maps them like other file pages)"
	echo
	echo "--- device-DAX"
	"$PROBE" devdax "/dev/$DAXDEV" | sed 's/^/  /'
	[ "${PIPESTATUS[0]}" = 0 ] || rc=1
	for fs in ext4 xfs; do umount "$MNT/$fs" || rc=1; done
	echo
	echo "demo $([ $rc = 0 ] && echo completed || echo FAILED)"
} > "$RES/report.txt" 2>&1
cat "$RES/report.txt"
grep -q "demo completed" "$RES/report.txt" && exit 0
exit 1
