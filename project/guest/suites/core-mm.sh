#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Core mm: PCI P2PDMA pages.  QEMU's NVMe controller has a controller memory
# buffer, which nvme registers as p2pmem; pages mapped through its
# "allocate" file must go back to the pool when their last reference goes
# (daxprobe p2pmem checks the pool's "available" around map/unmap rounds).
set -u
# shellcheck source-path=SCRIPTDIR/..
. "$GUEST/lib.sh"
ktap_header

progress "core-mm: PCI P2PDMA pages (NVMe CMB p2pmem)"
p2p=
for d in /sys/bus/pci/devices/*/p2pmem; do
	[ -d "$d" ] && { p2p=$d; break; }
done
if [ -z "$p2p" ]; then
	ktap_fail "p2pmem: NVMe CMB registered" \
		"no /sys/bus/pci/devices/*/p2pmem: $(dmesg | grep -i -m2 'cmb\|p2p' | tr '\n' ' ')"
	ktap_skip "p2pmem" "no p2pmem device"
else
	ktap_ok "p2pmem: NVMe CMB registered" "$p2p"
	probe_subtest "p2pmem" -- p2pmem "$p2p"
fi
ktap_finish
