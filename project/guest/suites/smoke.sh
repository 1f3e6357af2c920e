#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Smoke test of FS DAX on ext4 (PMEM0) and xfs (PMEM1): mkfs and a
# dax=always mount, daxprobe's write/mmap/fsync/truncate steps on a file
# (a subtest), an unmount that completes (a leaked page reference makes it
# hang), and a clean fsck afterwards.
set -u
# shellcheck source-path=SCRIPTDIR/..
. "$GUEST/lib.sh"
ktap_header

nodevs=$(devices_missing PMEM0 PMEM1)
for fs in ext4 xfs; do
	dev=$PMEM0
	[ $fs = xfs ] && dev=$PMEM1
	if [ -n "$nodevs" ]; then
		ktap_fail "$fs: mkfs + mount -o dax=always" "$nodevs"
		continue
	fi
	progress "smoke: $fs dax=always on /dev/$dev"
	if ! mkfs_mount $fs "$dev" "$MNT/$fs"; then
		ktap_fail "$fs: mkfs + mount -o dax=always" "$(dmesg | tail -3 | tr '\n' ' ')"
		continue
	fi
	ktap_ok "$fs: mkfs + mount -o dax=always"
	probe_subtest "$fs: daxprobe smoke" -- smoke "$MNT/$fs/smoke"
	# bounded: with a page reference leaked, umount waits for ever
	if timeout 120 umount "$MNT/$fs"; then
		ktap_ok "$fs: unmount"
	else
		ktap_fail "$fs: unmount" "umount did not complete in 120 s"
		continue
	fi
	if [ $fs = ext4 ]; then
		fsck=(e2fsck -fn)
	else
		fsck=(xfs_repair -n)
	fi
	if out=$("${fsck[@]}" "/dev/$dev" 2>&1); then
		ktap_ok "$fs: fsck clean"
	else
		ktap_fail "$fs: fsck clean" "$(echo "$out" | tail -3 | tr '\n' ' ')"
	fi
done
ktap_finish
