#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# ndctl's daxctl-create.sh and cxl suite: cxl_test loads with the mocked
# cxl_core/cxl_acpi/... from extra/, and cxl lists its bus and memdevs.
. "$(dirname "$0")/common.sh"
modinfo cxl_test >/dev/null 2>&1 || fail "no cxl_test module staged (kernel without CXL?)"
modprobe cxl_test || fail "modprobe cxl_test"
udevadm settle -t 60
for m in cxl_acpi cxl_core cxl_mem cxl_port; do
	case $(modinfo -n "$m") in */extra/*|*/updates/*) ;; *) fail "$m is not the cxl_test build" ;; esac
done
n=$(cxl list -M -b cxl_test | jq '[.. | objects | select((.memdev? // "") | startswith("mem"))] | length')
[ "${n:-0}" -ge 1 ] || fail "cxl list -M -b cxl_test: no memdev"
modprobe -r cxl_test || fail "modprobe -r cxl_test"
echo "cxl_test bus with $n memdevs"
