#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# ndctl's dax-dev (used by dax-ext4/xfs.sh, device-dax, mmap.sh, revoke-devmem)
# takes the first namespace of the lowest e820 region and wants it idle, in
# fsdax mode without a pfn/dax claim; device-dax maps 1 GiB aligned in it.
. "$(dirname "$0")/common.sh"
# as ndctl_test_init() does: the modules it needs, loaded (an earlier
# `modprobe -r nfit_test` takes nd_pmem with it)
modprobe -a nfit device_dax dax_pmem libnvdimm nd_btt nd_e820 nd_pmem || fail "modprobe"
udevadm settle -t 30
ns=$(ndctl list -N -b e820 | jq -c '[.. | objects | select((.dev? // "") | startswith("namespace"))] | sort_by(.dev) | .[0]')
[ "$ns" != null ] || fail "no e820 namespace (memmap=)"
mode=$(echo "$ns" | jq -r .mode) size=$(echo "$ns" | jq -r .size)
[ "$mode" = fsdax ] || [ "$mode" = raw ] || fail "e820 namespace in mode $mode"
echo "$ns" | jq -e 'has("uuid") or has("chardev")' >/dev/null && fail "e820 namespace is claimed: $ns"
[ "$size" -ge $((3 << 30)) ] || fail "e820 namespace of $((size >> 20)) MiB: device-dax needs 3 GiB"
dev=$(echo "$ns" | jq -r .blockdev)
[ -b "/dev/$dev" ] || fail "no /dev/$dev"
echo "$(echo "$ns" | jq -r .dev): /dev/$dev, $((size >> 20)) MiB, mode $mode"
