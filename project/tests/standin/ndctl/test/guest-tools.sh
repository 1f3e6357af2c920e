#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Tools and kernel interfaces the dax suite's scripts use (test/common,
# device-dax, daxctl-devices.sh, device-dax-fio.sh, revoke-devmem)
. "$(dirname "$0")/common.sh"
for c in jq fio mkfs.ext4 mkfs.xfs dmsetup trace-cmd daxctl journalctl; do
	command -v "$c" >/dev/null || fail "missing $c"
done
fio --enghelp 2>/dev/null | grep -qw dev-dax || fail "fio has no dev-dax engine"
modinfo kmem >/dev/null || fail "no kmem module (DEV_DAX_KMEM)"
for f in /dev/mem /sys/devices/system/memory/soft_offline_page \
	/sys/devices/system/memory/auto_online_blocks /sys/devices/system/node/node0; do
	[ -e "$f" ] || fail "missing $f"
done
echo "tools and interfaces present"
