#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# cxl_test: the mocked CXL topology of tools/testing/cxl (staged in extra/
# when the config has CXL), which ndctl's daxctl-create.sh and cxl suite run
# on.  Checks that the cxl modules loaded are the extra/ ones, that cxl list
# shows the cxl_test bus with memdevs and decoders, and that it unloads.
# Needs the "all" pmem layout; a config without CXL skips it.
set -u
# shellcheck source-path=SCRIPTDIR/..
. "$GUEST/lib.sh"
ktap_header

LOAD="cxl_test: modprobe cxl_test; cxl list shows the cxl_test bus, memdevs, decoders"
UNLOAD="cxl_test: modprobe -r cxl_test"

if [ "${PMEM:-}" != all ]; then
	ktap_skip "$LOAD" "needs the pmem layout all, this guest has ${PMEM:-none}"
	ktap_skip "$UNLOAD" "needs the pmem layout all, this guest has ${PMEM:-none}"
	ktap_finish
	exit
fi
if ! modinfo cxl_test >/dev/null 2>&1; then
	ktap_skip cxl_test "not built for this config"
	ktap_finish
	exit
fi

progress "cxl_test: the mocked CXL topology"
bad=
for m in cxl_acpi cxl_core cxl_mem cxl_port cxl_pmem; do
	case $(modinfo -n "$m" 2>/dev/null) in */extra/*) ;; *) bad="$bad $m" ;; esac
done
if ! modprobe cxl_test 2>"$RES/cxl_test.err"; then
	ktap_fail "$LOAD" "$(cat "$RES/cxl_test.err"; dmesg | tail -3 | tr '\n' ' ')"
	ktap_skip "$UNLOAD" "cxl_test did not load"
	ktap_finish
	exit
fi
udevadm settle -t 60 2>/dev/null
cxl list -B -M -D > "$RES/cxl_test.json" 2>&1
nb=$(jq '[.. | objects | select(.provider? == "cxl_test")] | length' "$RES/cxl_test.json" 2>/dev/null)
nm=$(jq '[.. | objects | select((.memdev? // "") | startswith("mem"))] | length' "$RES/cxl_test.json" 2>/dev/null)
nd=$(jq '[.. | objects | select((.decoder? // "") | startswith("decoder"))] | length' "$RES/cxl_test.json" 2>/dev/null)
for m in cxl_acpi cxl_core cxl_mem cxl_port; do
	grep -q O "/sys/module/$m/taint" 2>/dev/null || bad="$bad $m:not-loaded-or-no-O-taint"
done
if [ "${nb:-0}" -ge 1 ] && [ "${nm:-0}" -ge 1 ] && [ "${nd:-0}" -ge 1 ] && [ -z "$bad" ]; then
	ktap_ok "$LOAD" "$nm memdevs, $nd decoders"
else
	ktap_fail "$LOAD" "buses=$nb memdevs=$nm decoders=$nd not-from-extra:$bad $(head -c 200 "$RES/cxl_test.json")"
fi
if modprobe -r cxl_test 2>"$RES/cxl_test.err"; then
	ktap_ok "$UNLOAD"
else
	ktap_fail "$UNLOAD" "$(cat "$RES/cxl_test.err")"
fi
ktap_finish
