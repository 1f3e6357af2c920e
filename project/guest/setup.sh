#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run by run.sh before any suite: the staged modules, the pmem drivers of
# the layout, and (test, bench and demo mode) the namespaces the suites use:
# two fsdax (2 MiB aligned) and one devdax (2 MiB); in test and bench mode
# also a devdax with 1 GiB alignment on the PUD region the host adds (its
# fourth e820 region).  Writes $RES/devices.env, sourced by run.sh and demo.sh:
#   PMEM0=pmemX  PMEM1=pmemY  DAXDEV=daxN.M  DAXPUD=daxN.M (or empty)
#   OURBUS=e820|ACPI.NFIT
# In suites mode it creates nothing (ndctl's tests want the e820 namespaces
# as they booted) and devices.env is empty.
#
# A problem with the environment (not with the kernel under test) is written
# to $RES/error, saying what is wrong, and the script exits 3.
set -u
# shellcheck source-path=SCRIPTDIR
. "$GUEST/lib.sh"

die_env() {
	printf '%s\n' "$*" > "$RES/error"
	exit 3
}

# created now so that it exists (empty) whatever happens below
: > "$RES/devices.env"
DAXDEV='' DAXPUD=''

progress "loading the nvdimm/dax modules staged for $(uname -r)"
mkdir -p /lib/modules "$MNT"
mount --bind "$MODROOT/lib/modules" /lib/modules ||
	die_env "cannot bind-mount the staged modules from $MODROOT"
[ -d "/lib/modules/$(uname -r)" ] ||
	die_env "no modules for $(uname -r) under $MODROOT: was the kernel rebuilt without modules_install?"
mods="libnvdimm nd_pmem nd_btt dax_pmem device_dax"
case $PMEM in
memmap) mods="$mods nd_e820" ;;
nvdimm) mods="$mods nfit" ;;
all) mods="$mods nd_e820 nfit" ;;
esac
# shellcheck disable=SC2086 # a list of module names
modprobe -a $mods || die_env "modprobe -a $mods failed (see $RES/guest.log)"
udevadm settle -t 30 2>/dev/null || sleep 2

[ "$MODE" = suites ] && exit 0

# KUnit suites the series builds as modules (so that modpost checks their
# imports): loading one runs it, its KTAP goes to the kernel log before
# the first suite, where the kunit suite reads the built-in ones
kunit_modules="zone_device_folio_kunit"
if [ "$MODE" = test ]; then
	for m in $kunit_modules; do
		modinfo "$m" >/dev/null 2>&1 || continue
		progress "running the KUnit module $m"
		modprobe "$m" || die_env "modprobe $m failed (see $RES/guest.log)"
	done
fi

# ---------------------------------------------------------------------------
# two fsdax namespaces (2 MiB aligned) and one devdax namespace
progress "creating namespaces on the $PMEM pmem: 2 x fsdax (align 2M), 1 x devdax"
if [ "$PMEM" = memmap ] || [ "$PMEM" = all ]; then
	# memmap= makes one e820 namespace per range: convert them in place
	mapfile -t NS < <(ndctl list -N -b e820 2>/dev/null | jq -r '.. | objects | .dev? // empty' |
		grep '^namespace' | sort -V)
	want=3
	[ "$MODE" = test ] || [ "$MODE" = bench ] && want=4
	[ "${#NS[@]}" -ge "$want" ] || die_env "no pmem device in the guest: expected $want e820 \
namespaces from memmap=, found ${#NS[@]}. Kernel command line: $(cat /proc/cmdline)
    ndctl list -RN: $(ndctl list -RN 2>&1 | tr '\n' ' ')
    /proc/iomem: $(grep -i persistent /proc/iomem | tr '\n' ';')"
	for i in 0 1; do
		ndctl create-namespace -f -e "${NS[$i]}" -m fsdax --align 2M >/dev/null 2>"$RES/ndctl.err" ||
			die_env "ndctl create-namespace -m fsdax on ${NS[$i]} failed: $(cat "$RES/ndctl.err")"
	done
	ndctl create-namespace -f -e "${NS[2]}" -m devdax --align 2M >/dev/null 2>"$RES/ndctl.err" ||
		die_env "ndctl create-namespace -m devdax on ${NS[2]} failed: $(cat "$RES/ndctl.err")"
	DAXDEV=$(ndctl list -N -n "${NS[2]}" | jq -r '.. | .chardev? // empty' | head -1)
	if [ "$want" = 4 ]; then
		ndctl create-namespace -f -e "${NS[3]}" -m devdax --align 1G >/dev/null \
			2>"$RES/ndctl.err" ||
			die_env "ndctl create-namespace -m devdax --align 1G on ${NS[3]} failed: \
$(cat "$RES/ndctl.err")"
		DAXPUD=$(ndctl list -N -n "${NS[3]}" | jq -r '.. | .chardev? // empty' | head -1)
		[ -n "$DAXPUD" ] || die_env "the 1 GiB aligned devdax namespace ${NS[3]} has no \
character device: $(ndctl list -N -n "${NS[3]}" 2>&1 | tr '\n' ' ')"
	fi
	OURBUS=e820
else
	# the QEMU NVDIMMs: labels first, then two fsdax in the larger region
	# and the devdax in the smaller one
	regions=$(bus_regions ACPI.NFIT)
	[ "$(echo "$regions" | grep -c region)" -ge 2 ] || die_env "no pmem device in the guest: \
expected 2 ACPI.NFIT regions from the QEMU NVDIMMs, found: ${regions//$'\n'/ }"
	{ ndctl disable-region -b ACPI.NFIT all >/dev/null &&
		ndctl init-labels -f -b ACPI.NFIT all >/dev/null &&
		ndctl enable-region -b ACPI.NFIT all >/dev/null; } ||
		die_env "could not initialise the NVDIMM labels"
	big=$(echo "$regions" | sed -n 1p) small=$(echo "$regions" | sed -n 2p)
	for i in 0 1; do
		ndctl create-namespace -r "$big" -m fsdax --align 2M -s 1008M >/dev/null 2>"$RES/ndctl.err" ||
			die_env "ndctl create-namespace -m fsdax on $big failed: $(cat "$RES/ndctl.err")"
	done
	ndctl create-namespace -r "$small" -m devdax --align 2M >/dev/null 2>"$RES/ndctl.err" ||
		die_env "ndctl create-namespace -m devdax on $small failed: $(cat "$RES/ndctl.err")"
	OURBUS=ACPI.NFIT
fi

# what came out of it: demo.sh's device table reads ndctl.json too
ndctl list -N -b "$OURBUS" > "$RES/ndctl.json"
mapfile -t PMEMS < <(jq -r '.. | objects | select(.mode? == "fsdax") | .blockdev' "$RES/ndctl.json" | sort -V)
[ -n "$DAXDEV" ] ||
	DAXDEV=$(jq -r '[.. | .chardev? // empty] | .[0] // empty' "$RES/ndctl.json")
{ [ "${#PMEMS[@]}" -ge 2 ] && [ -n "$DAXDEV" ]; } ||
	die_env "after ndctl the guest has fsdax '${PMEMS[*]}' and devdax '$DAXDEV': need 2 and 1"
for d in "${PMEMS[@]}"; do
	[ "$(cat "/sys/block/$d/queue/dax")" = 1 ] ||
		die_env "/dev/$d is not DAX capable (queue/dax=0)"
done

# written last, so a setup that stopped early leaves no device names behind
printf 'PMEM0=%q\nPMEM1=%q\nDAXDEV=%q\nDAXPUD=%q\nOURBUS=%q\n' \
	"${PMEMS[0]}" "${PMEMS[1]}" "$DAXDEV" "$DAXPUD" "$OURBUS" > "$RES/devices.env" ||
	die_env "cannot write $RES/devices.env"
exit 0
