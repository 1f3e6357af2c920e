#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# nfit_test: the mocked nvdimm modules of tools/testing/nvdimm, built against
# this kernel by daxrs and staged in extra/, where depmod prefers them to the
# in-tree ones.  Checks that they are the ones loaded, that nfit_test's buses
# show up next to the e820 and ACPI.NFIT ones, and that nfit_test unloads
# again (as ndctl's tests clean up).  Needs the "all" pmem layout.
set -u
# shellcheck source-path=SCRIPTDIR/..
. "$GUEST/lib.sh"
ktap_header

EXTRA="nfit_test: libnvdimm, nfit, nd_pmem, nd_btt, nd_e820, dax_pmem, device_dax from extra/"
LOAD="nfit_test: modprobe nfit_test; ndctl list -b nfit_test.0 shows the bus"
KINDS="three pmem kinds at once: e820 (memmap=), ACPI.NFIT (QEMU NVDIMM), nfit_test.0"
UNLOAD="nfit_test: rmmod nfit_test"

if [ "${PMEM:-}" != all ]; then
	for t in "$EXTRA" "$LOAD" "$KINDS" "$UNLOAD"; do
		ktap_skip "$t" "needs the pmem layout all, this guest has ${PMEM:-none}"
	done
	ktap_finish
	exit
fi

progress "nfit_test: the mocked nvdimm modules and the nfit_test buses"
bad=
for m in libnvdimm nfit nd_pmem nd_btt nd_e820 dax_pmem device_dax; do
	f=$(modinfo -n "$m" 2>/dev/null)
	case $f in */extra/*) ;; *) bad="$bad $m=${f:-none}" ;; esac
	# out-of-tree (O) taint: what ndctl's test/core.c also checks
	grep -q O "/sys/module/$m/taint" 2>/dev/null || bad="$bad $m:not-loaded-or-no-O-taint"
done
if [ -z "$bad" ]; then
	ktap_ok "$EXTRA"
else
	ktap_fail "$EXTRA" "$bad"
fi

if ! modprobe nfit_test 2>"$RES/nfit_test.err"; then
	ktap_fail "$LOAD" "$(cat "$RES/nfit_test.err"; dmesg | tail -3 | tr '\n' ' ')"
	ktap_skip "$KINDS" "nfit_test did not load"
	ktap_skip "$UNLOAD" "nfit_test did not load"
	ktap_finish
	exit
fi
udevadm settle -t 60 2>/dev/null
ndctl list -b nfit_test.0 -BDR > "$RES/nfit_test.json" 2>&1
nb=$(jq -r '[.. | objects | .provider? // empty] | map(select(. == "nfit_test.0")) | length' \
	"$RES/nfit_test.json" 2>/dev/null)
nd=$(jq -r '[.. | objects | select((.dev? // "") | startswith("nmem"))] | length' \
	"$RES/nfit_test.json" 2>/dev/null)
nr=$(jq -r '[.. | objects | select((.dev? // "") | startswith("region"))] | length' \
	"$RES/nfit_test.json" 2>/dev/null)
if [ "${nb:-0}" = 1 ] && [ "${nd:-0}" -ge 1 ] && [ "${nr:-0}" -ge 1 ]; then
	ktap_ok "$LOAD" "$nd DIMMs, $nr regions"
else
	ktap_fail "$LOAD" "bus=$nb dimms=$nd regions=$nr: $(head -c 300 "$RES/nfit_test.json")"
fi

b=" $(buses) " missing=
for want in e820 ACPI.NFIT nfit_test.0; do
	case $b in *" $want "*) ;; *) missing="$missing $want" ;; esac
done
if [ -z "$missing" ]; then
	ktap_ok "$KINDS" "$b"
else
	ktap_fail "$KINDS" "missing:$missing; buses:$b"
fi

# as ndctl's tests clean up: regions off (every bound device of the bus
# holds its provider module), then the module.  Only nfit_test itself: nfit
# stays, it drives the QEMU NVDIMMs.
udevadm settle -t 60 2>/dev/null
ndctl disable-region -b nfit_test.0 all >/dev/null 2>&1
ndctl disable-region -b nfit_test.1 all >/dev/null 2>&1
if rmmod nfit_test 2>"$RES/nfit_test.err"; then
	ktap_ok "$UNLOAD"
else
	ktap_fail "$UNLOAD" "$(cat "$RES/nfit_test.err")"
fi
ktap_finish
