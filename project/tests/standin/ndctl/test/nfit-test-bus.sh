#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What ndctl's test/core.c and the nfit_test tests (daxdev-errors.sh,
# multi-dax.sh) need: nfit_test loads, its modules come from extra/ with the
# out-of-tree taint, and bus nfit_test.0 is listed.
. "$(dirname "$0")/common.sh"
modprobe nfit_test || fail "modprobe nfit_test"
for m in nfit device_dax dax_pmem libnvdimm nd_btt nd_e820 nd_pmem; do
	f=$(modinfo -n "$m") || fail "modinfo $m"
	case $f in */extra/*|*/updates/*) ;; *) fail "$m is not the nfit_test build: $f" ;; esac
	grep -q O "/sys/module/$m/taint" || fail "$m is loaded without the O taint"
done
p=$(ndctl list -B -b nfit_test.0 | jq -r '[.. | objects | .provider? // empty] | .[0]')
[ "$p" = nfit_test.0 ] || fail "ndctl list -B -b nfit_test.0 gave '$p'"
n=$(ndctl list -R -b nfit_test.0 | jq '[.. | objects | select((.dev? // "") | startswith("region"))] | length')
[ "$n" -ge 1 ] || fail "nfit_test.0 has no region"
# ndctl's test/common _cleanup: every bound device of the bus holds the
# provider module, so the regions go first
ndctl disable-region -b nfit_test.0 all >/dev/null || fail "disable-region -b nfit_test.0"
ndctl disable-region -b nfit_test.1 all >/dev/null || fail "disable-region -b nfit_test.1"
modprobe -r nfit_test || fail "modprobe -r nfit_test"
echo "nfit_test.0 with $n regions"
