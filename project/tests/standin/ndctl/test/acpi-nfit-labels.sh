#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# sub-section.sh, dm.sh, daxctl-devices.sh: ACPI.NFIT regions with labels and
# room for 1 GiB labelled namespaces (dm.sh makes two, daxctl-devices 4 GiB).
. "$(dirname "$0")/common.sh"
regions=$(ndctl list -R -b ACPI.NFIT | jq -r '.. | objects | select((.dev? // "") | startswith("region")) | "\(.dev) \(.available_size)"')
[ -n "$regions" ] || fail "no ACPI.NFIT region (QEMU NVDIMM)"
big=$(echo "$regions" | sort -k2 -n | tail -1)
[ "${big#* }" -ge $((4 << 30)) ] || fail "largest ACPI.NFIT region has $((${big#* } >> 20)) MiB free"
r=${big% *}
out=$(ndctl create-namespace -r "$r" -m fsdax -s 1G) || fail "create-namespace -r $r: $out"
ns=$(echo "$out" | jq -r .dev)
[ -s "/sys/bus/nd/devices/$ns/uuid" ] || fail "$ns has no label uuid"
ndctl destroy-namespace -f "$ns" >/dev/null || fail "destroy-namespace $ns"
echo "$(echo "$regions" | wc -l) regions; 1 GiB labelled fsdax namespace made and destroyed on $r"
