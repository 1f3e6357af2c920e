#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the virtme-ng guest (host root file system, read-only), started
# by project/daxrs.py.  Writes everything into $RES, the one writable host
# directory: progress, results.tsv (suite, test, pass|fail|skip, detail),
# report.txt (demo), dmesg.txt, and exit-code last of all.
#
#   guest.sh demo|test RES MODROOT REPO BINDIR memmap|nvdimm
set -u
MODE=$1 RES=$2 MODROOT=$3 REPO=$4 BINDIR=$5 PMEM=$6
exec > >(tee -a "$RES/guest.log") 2>&1
PROBE=$BINDIR/daxprobe
MNT=/tmp/daxrs
FAILED=0

progress() { echo "$*" > "$RES/progress"; echo "== $*"; }
result() {
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" >> "$RES/results.tsv"
	[ "$3" = fail ] && FAILED=1
	return 0
}
finish() {
	dmesg > "$RES/dmesg.txt"
	sync
	echo "$1" > "$RES/exit-code"
	exit "$1"
}
# An environment problem: say what is wrong and how to fix it, then stop.
die_env() {
	printf '%s\n' "$*" > "$RES/error"
	finish 3
}

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
modprobe -a $mods || die_env "modprobe -a $mods failed (see $RES/guest.log)"
udevadm settle -t 30 2>/dev/null || sleep 2

# The buses (providers) ndctl sees: e820, ACPI.NFIT, nfit_test.0 ...
buses() { ndctl list -B 2>/dev/null | jq -r '[.. | objects | .provider? // empty] | join(" ")'; }
# the region devices of a bus, largest first
bus_regions() {
	ndctl list -R -b "$1" 2>/dev/null |
		jq -r '[.. | objects | select((.dev? // "") | startswith("region"))] |
			sort_by(-.size) | .[].dev'
}

# ---------------------------------------------------------------------------
# nfit_test: tools/testing/nvdimm, built against this kernel by daxrs and
# staged in extra/, where depmod prefers it to the in-tree modules.  Loaded
# and checked here, next to the e820 and ACPI.NFIT buses, then unloaded.
if [ "$PMEM" = all ] && [ "$MODE" = test ]; then
	progress "nfit_test: the mocked nvdimm modules and the nfit_test buses"
	bad=
	for m in libnvdimm nfit nd_pmem nd_btt nd_e820 dax_pmem device_dax; do
		f=$(modinfo -n "$m" 2>/dev/null)
		case $f in */extra/*) ;; *) bad="$bad $m=${f:-none}" ;; esac
		# out-of-tree (O) taint: what ndctl's test/core.c also checks
		grep -q O "/sys/module/$m/taint" 2>/dev/null || bad="$bad $m:not-loaded-or-no-O-taint"
	done
	if [ -z "$bad" ]; then
		result env "nfit_test: libnvdimm, nfit, nd_pmem, nd_btt, nd_e820, dax_pmem, device_dax from extra/" pass
	else
		result env "nfit_test: libnvdimm, nfit, nd_pmem, nd_btt, nd_e820, dax_pmem, device_dax from extra/" fail "$bad"
	fi
	if modprobe nfit_test 2>"$RES/nfit_test.err"; then
		udevadm settle -t 60 2>/dev/null
		ndctl list -b nfit_test.0 -BDR > "$RES/nfit_test.json" 2>&1
		nb=$(jq -r '[.. | objects | .provider? // empty] | map(select(. == "nfit_test.0")) | length' \
			"$RES/nfit_test.json" 2>/dev/null)
		nd=$(jq -r '[.. | objects | select((.dev? // "") | startswith("nmem"))] | length' \
			"$RES/nfit_test.json" 2>/dev/null)
		nr=$(jq -r '[.. | objects | select((.dev? // "") | startswith("region"))] | length' \
			"$RES/nfit_test.json" 2>/dev/null)
		if [ "${nb:-0}" = 1 ] && [ "${nd:-0}" -ge 1 ] && [ "${nr:-0}" -ge 1 ]; then
			result env "nfit_test: modprobe nfit_test; ndctl list -b nfit_test.0 shows the bus" pass \
				"$nd DIMMs, $nr regions"
		else
			result env "nfit_test: modprobe nfit_test; ndctl list -b nfit_test.0 shows the bus" fail \
				"bus=$nb dimms=$nd regions=$nr: $(head -c 300 "$RES/nfit_test.json")"
		fi
		b=" $(buses) " missing=
		for want in e820 ACPI.NFIT nfit_test.0; do
			case $b in *" $want "*) ;; *) missing="$missing $want" ;; esac
		done
		if [ -z "$missing" ]; then
			result env "three pmem kinds at once: e820 (memmap=), ACPI.NFIT (QEMU NVDIMM), nfit_test.0" pass "$b"
		else
			result env "three pmem kinds at once: e820 (memmap=), ACPI.NFIT (QEMU NVDIMM), nfit_test.0" fail \
				"missing:$missing; buses:$b"
		fi
		# as ndctl's tests clean up: regions off (every bound device of the
		# bus holds its provider module), then the module.  Only nfit_test
		# itself: nfit stays, it drives the QEMU NVDIMMs.
		udevadm settle -t 60 2>/dev/null
		ndctl disable-region -b nfit_test.0 all >/dev/null 2>&1
		ndctl disable-region -b nfit_test.1 all >/dev/null 2>&1
		if rmmod nfit_test 2>"$RES/nfit_test.err"; then
			result env "nfit_test: rmmod nfit_test" pass
		else
			result env "nfit_test: rmmod nfit_test" fail "$(cat "$RES/nfit_test.err")"
		fi
	else
		result env "nfit_test: modprobe nfit_test; ndctl list -b nfit_test.0 shows the bus" fail \
			"$(cat "$RES/nfit_test.err"; dmesg | tail -3 | tr '\n' ' ')"
	fi
fi

# cxl_test (tools/testing/cxl, staged in extra/ when the config has CXL):
# the mocked CXL topology ndctl's daxctl-create.sh and cxl suite run on
if [ "$PMEM" = all ] && [ "$MODE" = test ] && modinfo cxl_test >/dev/null 2>&1; then
	progress "cxl_test: the mocked CXL topology"
	bad=
	for m in cxl_acpi cxl_core cxl_mem cxl_port cxl_pmem; do
		case $(modinfo -n "$m" 2>/dev/null) in */extra/*) ;; *) bad="$bad $m" ;; esac
	done
	if modprobe cxl_test 2>"$RES/cxl_test.err"; then
		udevadm settle -t 60 2>/dev/null
		cxl list -B -M -D > "$RES/cxl_test.json" 2>&1
		nb=$(jq '[.. | objects | select(.provider? == "cxl_test")] | length' "$RES/cxl_test.json" 2>/dev/null)
		nm=$(jq '[.. | objects | select((.memdev? // "") | startswith("mem"))] | length' "$RES/cxl_test.json" 2>/dev/null)
		nd=$(jq '[.. | objects | select((.decoder? // "") | startswith("decoder"))] | length' "$RES/cxl_test.json" 2>/dev/null)
		for m in cxl_acpi cxl_core cxl_mem cxl_port; do
			grep -q O "/sys/module/$m/taint" 2>/dev/null || bad="$bad $m:not-loaded-or-no-O-taint"
		done
		if [ "${nb:-0}" -ge 1 ] && [ "${nm:-0}" -ge 1 ] && [ "${nd:-0}" -ge 1 ] && [ -z "$bad" ]; then
			result env "cxl_test: modprobe cxl_test; cxl list shows the cxl_test bus, memdevs, decoders" pass \
				"$nm memdevs, $nd decoders"
		else
			result env "cxl_test: modprobe cxl_test; cxl list shows the cxl_test bus, memdevs, decoders" fail \
				"buses=$nb memdevs=$nm decoders=$nd not-from-extra:$bad $(head -c 200 "$RES/cxl_test.json")"
		fi
		if modprobe -r cxl_test 2>"$RES/cxl_test.err"; then
			result env "cxl_test: modprobe -r cxl_test" pass
		else
			result env "cxl_test: modprobe -r cxl_test" fail "$(cat "$RES/cxl_test.err")"
		fi
	else
		result env "cxl_test: modprobe cxl_test; cxl list shows the cxl_test bus, memdevs, decoders" fail \
			"$(cat "$RES/cxl_test.err"; dmesg | tail -3 | tr '\n' ' ')"
	fi
fi

# ---------------------------------------------------------------------------
# pmem: two fsdax namespaces (2 MiB aligned) and one devdax namespace (not in
# suites mode: ndctl's tests want the e820 namespaces as they booted)
if [ "$MODE" = suites ]; then
	:
elif [ "$PMEM" = memmap ] || [ "$PMEM" = all ]; then
	progress "creating namespaces on the $PMEM pmem: 2 x fsdax (align 2M), 1 x devdax"
	mapfile -t NS < <(ndctl list -N -b e820 2>/dev/null | jq -r '.. | objects | .dev? // empty' |
		grep '^namespace' | sort -V)
	[ "${#NS[@]}" -ge 3 ] || die_env "no pmem device in the guest: expected 3 e820 \
namespaces from memmap=, found ${#NS[@]}. Kernel command line: $(cat /proc/cmdline)
    ndctl list -RN: $(ndctl list -RN 2>&1 | tr '\n' ' ')
    /proc/iomem: $(grep -i persistent /proc/iomem | tr '\n' ';')"
	for i in 0 1; do
		ndctl create-namespace -f -e "${NS[$i]}" -m fsdax --align 2M >/dev/null 2>"$RES/ndctl.err" ||
			die_env "ndctl create-namespace -m fsdax on ${NS[$i]} failed: $(cat "$RES/ndctl.err")"
	done
	ndctl create-namespace -f -e "${NS[2]}" -m devdax --align 2M >/dev/null 2>"$RES/ndctl.err" ||
		die_env "ndctl create-namespace -m devdax on ${NS[2]} failed: $(cat "$RES/ndctl.err")"
	OURBUS=e820
else
	progress "creating namespaces on the $PMEM pmem: 2 x fsdax (align 2M), 1 x devdax"
	regions=$(bus_regions ACPI.NFIT)
	[ "$(echo "$regions" | grep -c region)" -ge 2 ] || die_env "no pmem device in the guest: \
expected 2 ACPI.NFIT regions from the QEMU NVDIMMs, found: $(echo $regions)"
	ndctl disable-region -b ACPI.NFIT all >/dev/null &&
		ndctl init-labels -f -b ACPI.NFIT all >/dev/null &&
		ndctl enable-region -b ACPI.NFIT all >/dev/null ||
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
if [ "$MODE" != suites ]; then
	ndctl list -N -b "$OURBUS" > "$RES/ndctl.json"
	mapfile -t PMEMS < <(jq -r '.. | objects | select(.mode? == "fsdax") | .blockdev' "$RES/ndctl.json" | sort -V)
	DAXDEV=$(jq -r '[.. | .chardev? // empty] | .[0] // empty' "$RES/ndctl.json")
	[ "${#PMEMS[@]}" -ge 2 ] && [ -n "$DAXDEV" ] ||
		die_env "after ndctl the guest has fsdax '${PMEMS[*]}' and devdax '$DAXDEV': need 2 and 1"
	for d in "${PMEMS[@]}"; do
		[ "$(cat /sys/block/$d/queue/dax)" = 1 ] ||
			die_env "/dev/$d is not DAX capable (queue/dax=0)"
	done
fi

mkfs_mount() { # fs dev dir
	case $1 in
	ext4) mkfs.ext4 -q -F -b 4096 -E stride=512,stripe_width=512 "/dev/$2" ;;
	xfs) mkfs.xfs -q -f -b size=4096 -d su=2m,sw=1 "/dev/$2" ;;
	esac >/dev/null || return 1
	mkdir -p "$3" && mount -o dax=always "/dev/$2" "$3" || return 1
	# xfs quietly turns DAX off when the device cannot do it: insist on it
	grep -q " $3 .*dax=always" /proc/mounts
}

# ---------------------------------------------------------------------------
# The QEMU NVDIMMs (layout "all"): initialise their label areas and create one
# labelled fsdax namespace per region; these are fstests' TEST_DEV and
# SCRATCH_DEV.  Prints "<ns> on <region>: /dev/<pmem>, ..." per namespace,
# or what went wrong and returns 1.
nvdimm_fsdax() {
	local regions r out ns dev uuid
	regions=$(bus_regions ACPI.NFIT)
	[ "$(echo "$regions" | grep -c region)" -ge 2 ] || {
		echo "expected 2 ACPI.NFIT regions (QEMU NVDIMMs), found: $(echo $regions)"
		return 1
	}
	ndctl disable-region -b ACPI.NFIT all >/dev/null 2>&1 &&
		ndctl init-labels -f -b ACPI.NFIT all >/dev/null 2>&1 &&
		ndctl enable-region -b ACPI.NFIT all >/dev/null 2>&1 || {
		echo "could not initialise the label areas: $(ndctl list -DR -b ACPI.NFIT 2>&1 | tr '\n' ' ')"
		return 1
	}
	for r in $(echo "$regions" | sort -V); do
		out=$(ndctl create-namespace -r "$r" -m fsdax --align 2M 2>&1) || {
			echo "ndctl create-namespace -r $r -m fsdax: $out"
			return 1
		}
		ns=$(echo "$out" | jq -r '.dev') dev=$(echo "$out" | jq -r '.blockdev')
		# a namespace made from a label has a uuid; a label-less one
		# (namespace_io) has no uuid attribute at all
		uuid=$(cat "/sys/bus/nd/devices/$ns/uuid" 2>/dev/null)
		case $uuid in
		""|00000000-0000-0000-0000-000000000000)
			echo "$ns on $r has no label uuid (label-less namespace_io?)"
			return 1 ;;
		esac
		[ "$(cat "/sys/block/$dev/queue/dax" 2>/dev/null)" = 1 ] || {
			echo "/dev/$dev ($ns) is not DAX capable"
			return 1
		}
		echo "$ns on $r: /dev/$dev, uuid $uuid, $(($(blockdev --getsize64 "/dev/$dev") >> 20)) MiB"
	done
}

# What fstests asks of the machine, made in the guest only (host /etc is
# untouched): the fsgqa users and groups (a copy of passwd/group/shadow
# bind-mounted over the originals), TEST_DIR/SCRATCH_MNT, a LOGWRITES_DEV.
FST_ETC=/tmp/daxrs-etc
fstests_env() {
	local f u id=40001
	mkdir -p "$FST_ETC" /tmp/daxrs-home /tmp/fstests/test /tmp/fstests/scratch
	for f in passwd group shadow gshadow; do
		[ -e "/etc/$f" ] || continue
		grep -q fsgqa "$FST_ETC/$f" 2>/dev/null && continue
		cp "/etc/$f" "$FST_ETC/$f"
		for u in fsgqa fsgqa2 123456-fsgqa; do
			case $f in
			passwd) echo "$u:x:$id:$id::/tmp/daxrs-home/$u:/bin/bash" ;;
			group) echo "$u:x:$id:" ;;
			shadow) echo "$u:!:19000:0:99999:7:::" ;;
			gshadow) echo "$u:!::" ;;
			esac >> "$FST_ETC/$f"
			id=$((id + 1))
		done
		id=40001
		mount --bind "$FST_ETC/$f" "/etc/$f" || { echo "cannot bind-mount /etc/$f"; return 1; }
	done
	for u in fsgqa fsgqa2 123456-fsgqa; do
		mkdir -p "/tmp/daxrs-home/$u" && chown "$u:$u" "/tmp/daxrs-home/$u" || return 1
	done
	[ "$(su fsgqa -c 'id -u' 2>&1)" = 40001 ] || { echo "su fsgqa: $(su fsgqa -c 'id -u' 2>&1)"; return 1; }
	if [ -z "${LOGWRITES_DEV:-}" ]; then
		truncate -s 2G /tmp/daxrs-logwrites.img &&
			LOGWRITES_DEV=$(losetup -f --show /tmp/daxrs-logwrites.img) ||
			{ echo "no loop device for LOGWRITES_DEV"; return 1; }
	fi
	echo "users fsgqa fsgqa2 123456-fsgqa; LOGWRITES_DEV $LOGWRITES_DEV"
}

if [ "$PMEM" = all ] && [ "$MODE" = test ]; then
	progress "NVDIMM: labelled fsdax namespaces; the fstests environment"
	if out=$(nvdimm_fsdax); then
		result env "labelled NVDIMM fsdax namespaces created (ACPI.NFIT, init-labels)" pass \
			"$(echo "$out" | tr '\n' ';')"
		mapfile -t NVD_PMEMS < <(echo "$out" | sed -n 's|.*: /dev/\([^,]*\),.*|\1|p')
		# usable as fstests' devices: an fs with dax=always on each
		ok=
		for d in "${NVD_PMEMS[@]}"; do
			mkfs_mount xfs "$d" "$MNT/nvd" && umount "$MNT/nvd" && ok="$ok $d" ||
				{ ok=; break; }
		done
		if [ -n "$ok" ]; then
			result env "NVDIMM fsdax namespaces mount xfs dax=always (fstests TEST_DEV, SCRATCH_DEV)" pass "$ok"
		else
			result env "NVDIMM fsdax namespaces mount xfs dax=always (fstests TEST_DEV, SCRATCH_DEV)" fail \
				"$(dmesg | tail -3 | tr '\n' ' ')"
		fi
	else
		result env "labelled NVDIMM fsdax namespaces created (ACPI.NFIT, init-labels)" fail \
			"$(echo "$out" | tr '\n' ';')"
	fi
	if out=$(fstests_env); then
		result env "fstests environment: fsgqa users (su works), LOGWRITES_DEV" pass "$out"
	else
		result env "fstests environment: fsgqa users (su works), LOGWRITES_DEV" fail "$out"
	fi
fi


devtable() {
	printf '  %-8s %-14s %-7s %9s %6s %s\n' device namespace mode size align map
	jq -r '.[] | [(.blockdev // ([.. | .chardev? // empty] | .[0]) // "-"), .dev, .mode,
		((.size / 1048576 | floor | tostring) + "M"), ((.align // 0) / 1048576 | tostring) + "M",
		(.map // "-")] | @tsv' "$RES/ndctl.json" |
		while IFS=$'\t' read -r a b c d e f; do
			printf '  %-8s %-14s %-7s %9s %6s %s\n' "$a" "$b" "$c" "$d" "$e" "$f"
		done
}

# fs_dax trace events: how many PMD and PTE faults a command took
T=/sys/kernel/tracing
trace_start() {
	mountpoint -q $T || mount -t tracefs nodev $T 2>/dev/null || return 0
	echo 0 > $T/tracing_on && echo > $T/trace &&
		echo 1 > $T/events/fs_dax/dax_pmd_fault_done/enable &&
		echo 1 > $T/events/fs_dax/dax_pte_fault_done/enable &&
		echo 1 > $T/tracing_on
}
trace_report() {
	[ -e $T/trace ] || { echo "DAX faults      (no tracefs)"; return; }
	echo 0 > $T/tracing_on
	printf 'DAX faults      %s PMD (VM_FAULT_NOPAGE), %s PMD fell back to PTE, %s PTE (fs_dax trace events)\n' \
		"$(grep -c 'dax_pmd_fault_done:.*NOPAGE' $T/trace)" \
		"$(grep -c 'dax_pmd_fault_done:.*FALLBACK' $T/trace)" \
		"$(grep -c 'dax_pte_fault_done:' $T/trace)"
}

# ---------------------------------------------------------------------------
# suites mode: the user's own ndctl build and/or fstests checkout (daxrs test
# --ndctl/--fstests), each mounted by vng as an overlay: writable here, the
# host's copy untouched.  Raw outputs go to $RES; the host parses them.
if [ "$MODE" = suites ]; then
	. "$RES/suites.env"
	if [ -n "${NDCTL_BUILD:-}" ]; then
		progress "ndctl: meson test $NDCTL_ARGS in $NDCTL_BUILD"
		# labels initialised, regions empty: where ndctl's ACPI.NFIT tests start
		ndctl disable-region -b ACPI.NFIT all >/dev/null 2>&1
		ndctl init-labels -f -b ACPI.NFIT all > "$RES/ndctl-init-labels.txt" 2>&1
		ndctl enable-region -b ACPI.NFIT all >/dev/null 2>&1
		rm -f "$NDCTL_BUILD/meson-logs/testlog.json"
		# shellcheck disable=SC2086 # NDCTL_ARGS is a list of meson options
		(cd "$NDCTL_BUILD" && "${MESON:-meson}" test -C "$NDCTL_BUILD" --no-rebuild $NDCTL_ARGS) \
			> "$RES/ndctl-meson.txt" 2>&1
		echo "$?" > "$RES/ndctl-meson.rc"
		cp "$NDCTL_BUILD/meson-logs/testlog.json" "$RES/ndctl-testlog.json" 2>/dev/null
		cp "$NDCTL_BUILD/meson-logs/testlog.txt" "$RES/ndctl-testlog.txt" 2>/dev/null
		# leave the NVDIMMs and nfit_test as fstests expects them
		ndctl destroy-namespace -f -b ACPI.NFIT all >/dev/null 2>&1
		modprobe -r nfit_test 2>/dev/null
		modprobe -a nfit nd_e820 nd_pmem 2>/dev/null
	fi
	if [ -n "${FSTESTS_DIR:-}" ]; then
		progress "fstests: labelled NVDIMM fsdax namespaces, users"
		nvdimm_fsdax > "$RES/fstests-devices.txt" 2>&1 ||
			die_env "fstests: no TEST_DEV/SCRATCH_DEV: $(cat "$RES/fstests-devices.txt")"
		mapfile -t NVD_PMEMS < <(sed -n 's|.*: /dev/\([^,]*\),.*|\1|p' "$RES/fstests-devices.txt")
		fstests_env >> "$RES/fstests-devices.txt" 2>&1 ||
			die_env "fstests: environment: $(tail -1 "$RES/fstests-devices.txt")"
		for fs in $FSTESTS_FS; do
			case $fs in
			ext4) mkfs_opts="-b 4096" ;;
			xfs) mkfs_opts="-b size=4096 -m reflink=1,rmapbt=1" ;;
			*) die_env "fstests: file system $fs: only ext4 and xfs" ;;
			esac
			cfg=$RES/fstests-$fs.config
			cat > "$cfg" <<-EOF
			# written by daxrs (project/guest/guest.sh) for this guest
			export FSTYP=$fs
			export TEST_DEV=/dev/${NVD_PMEMS[0]}
			export TEST_DIR=/tmp/fstests/test
			export SCRATCH_DEV=/dev/${NVD_PMEMS[1]}
			export SCRATCH_MNT=/tmp/fstests/scratch
			export LOGWRITES_DEV=$LOGWRITES_DEV
			export MKFS_OPTIONS="$mkfs_opts"
			export MOUNT_OPTIONS="-o dax=always"
			export TEST_FS_MOUNT_OPTS="-o dax=always"
			export KCONFIG_PATH=/proc/config.gz
			export RESULT_BASE=$RES/fstests-$fs
			EOF
			umount /tmp/fstests/test /tmp/fstests/scratch 2>/dev/null
			# shellcheck disable=SC2086 # mkfs_opts is a list
			case $fs in
			ext4) mkfs.ext4 -q -F $mkfs_opts "/dev/${NVD_PMEMS[0]}" ;;
			xfs) mkfs.xfs -q -f $mkfs_opts "/dev/${NVD_PMEMS[0]}" ;;
			esac > "$RES/fstests-$fs.mkfs" 2>&1 ||
				die_env "fstests: mkfs.$fs on TEST_DEV /dev/${NVD_PMEMS[0]}: $(cat "$RES/fstests-$fs.mkfs")"
			progress "fstests: $fs dax=always: ./check $FSTESTS_ARGS"
			# shellcheck disable=SC2086 # FSTESTS_ARGS is a list of check options
			(cd "$FSTESTS_DIR" && HOST_OPTIONS=$cfg ./check $FSTESTS_ARGS) \
				> "$RES/fstests-$fs.txt" 2>&1
			echo "$?" > "$RES/fstests-$fs.rc"
		done
	fi
	progress "done"
	finish 0
fi

# ---------------------------------------------------------------------------
if [ "$MODE" = demo ]; then
	progress "mounting ext4 and xfs with dax=always, mapping files"
	mkfs_mount ext4 "${PMEMS[0]}" "$MNT/ext4" || die_env "ext4 dax=always mount on /dev/${PMEMS[0]} failed"
	mkfs_mount xfs "${PMEMS[1]}" "$MNT/xfs" || die_env "xfs dax=always mount on /dev/${PMEMS[1]} failed"
	{
		echo
		echo "=== FS DAX on emulated pmem ==="
		echo "kernel   $(uname -r) ($(cat "$RES/variant"))"
		echo "pmem     $PMEM; devices and modes (ndctl list -N):"
		devtable
		echo "mounts"
		grep -E "^/dev/pmem" /proc/mounts | sed 's/^/  /'
		rc=0
		for fs in ext4 xfs; do
			echo
			echo "--- $fs: mmap of a DAX file (daxprobe map)"
			trace_start
			"$PROBE" map "$MNT/$fs/demo" | sed 's/^/  /' || rc=1
			trace_report | sed 's/^/  /'
		done
		echo
		echo "(unpatched 6.12 maps FS DAX pages without a reference or rmap, so smaps"
		echo " shows Rss 0 kB for them; the series maps them like other file pages)"
		echo
		echo "--- device-DAX"
		"$PROBE" devdax "/dev/$DAXDEV" | sed 's/^/  /' || rc=1
		for fs in ext4 xfs; do umount "$MNT/$fs" || rc=1; done
		echo
		echo "demo $([ $rc = 0 ] && echo completed || echo FAILED)"
	} > "$RES/report.txt" 2>&1
	cat "$RES/report.txt"
	grep -q "demo completed" "$RES/report.txt" && finish 0
	finish 1
fi

# ---------------------------------------------------------------------------
# test mode: kselftests of tools/testing/selftests/dax, then the smokes.
# (KUnit and the Rust doctests already ran at boot: the host reads them
# from dmesg.txt.)
# The Rust abstraction tests (a module of the series, absent on the base):
# loading it runs its cases on the first free fsdax device and prints KTAP.
if modinfo rust_dax_abstractions >/dev/null 2>&1; then
	progress "rust: mm/DAX abstractions on /dev/${PMEMS[0]} (samples/rust)"
	before=$(dmesg | wc -l)
	if ! modprobe rust_dax_abstractions; then
		result rust-abstractions "modprobe rust_dax_abstractions" fail "$(dmesg | tail -3 | tr '\n' ' ')"
	fi
	dmesg | tail -n +$((before + 1)) |
		sed -n 's/^\[[^]]*\] rust_dax_abstractions: //p' > "$RES/rust-abstractions.tap"
	n=0
	while IFS= read -r line; do
		case $line in "ok "*|"not ok "*) ;; *) continue ;; esac
		n=$((n + 1))
		res=pass
		case $line in "not ok "*) res=fail ;; esac
		case $line in *"# SKIP"*) res=skip ;; esac
		name=$(echo "$line" | sed -E 's/^(not )?ok [0-9]+ //; s/ # .*//')
		result rust-abstractions "$name" $res "$(echo "$line" | sed -n 's/.* # //p')"
	done < "$RES/rust-abstractions.tap"
	grep -q "^1\.\.$n\$" "$RES/rust-abstractions.tap" && [ "$n" -gt 0 ] ||
		result rust-abstractions "KTAP plan" fail "$n results, plan: $(grep '^1\.\.' "$RES/rust-abstractions.tap")"
	rmmod rust_dax_abstractions || result rust-abstractions "rmmod" fail "module busy"
fi

# PCI P2PDMA pages (QEMU NVMe CMB registered as p2pmem): mapped through the
# p2pmem "allocate" file, their references must return them to the pool.
progress "core-mm: PCI P2PDMA pages (NVMe CMB p2pmem)"
p2p=$(ls -d /sys/bus/pci/devices/*/p2pmem 2>/dev/null | head -1)
if [ -z "$p2p" ]; then
	result core-mm "p2pmem: NVMe CMB registered" fail \
		"no /sys/bus/pci/devices/*/p2pmem: $(dmesg | grep -i -m2 'cmb\|p2p' | tr '\n' ' ')"
else
	result core-mm "p2pmem: NVMe CMB registered" pass "$p2p"
	"$PROBE" p2pmem "$p2p" > "$RES/p2pmem.txt" 2>&1
	while read -r ok rest; do
		case $ok in
		ok) result core-mm "p2pmem: $rest" pass ;;
		not) result core-mm "p2pmem: $(echo "${rest#ok }" | sed 's/ - .*//')" fail \
			"$(echo "$rest" | sed -n 's/^[^-]* - //p')" ;;
		esac
	done < "$RES/p2pmem.txt"
fi

KST=$(cat "$RES/kselftest-dir" 2>/dev/null)
if [ -n "$KST" ] && [ -x "$KST/run_kselftest.sh" ]; then
	progress "tools/testing/selftests/dax"
	# the fsdax devices are free until the smokes below; dax_fs.sh mkfs's them
	export DAX_TEST_PMEM="${PMEMS[0]} ${PMEMS[1]}" DAX_TEST_DEVDAX=/dev/$DAXDEV
	# runner.sh writes the tests' output to /dev/stdout, which virtme-ng
	# points at its own virtio channel: point it at the caller's stdout
	vng_stdout=$(readlink /dev/stdout)
	ln -sfn /proc/self/fd/1 /dev/stdout
	(cd "$KST" && ./run_kselftest.sh -c dax) > "$RES/kselftest.tap" 2>&1
	[ -n "$vng_stdout" ] && ln -sfn "$vng_stdout" /dev/stdout
	# One row per program (top level) and per harness test case (nested, "# ").
	why=
	while IFS= read -r line; do
		# nesting: runner.sh and dax_fs.sh each prefix "# "
		nested=
		while [[ $line == "# "* ]]; do
			nested=1 line=${line#"# "}
		done
		case $line in
		" RUN "*) why=; continue ;;
		# the harness's first "file.c:line:test:Expected ..." names the check
		*.c:[0-9]*:*) [ -z "$why" ] && why=$line; continue ;;
		"FAIL: "*|"SKIP: "*) why=$line; continue ;;
		"ok "*|"not ok "*) ;;
		*) continue ;;
		esac
		res=pass
		case $line in "not ok "*) res=fail ;; esac
		case $line in *"# SKIP"*) res=skip ;; esac
		name=$(echo "$line" | sed -E 's/^(not )?ok [0-9]+ (selftests: dax: )?//; s/ # .*//')
		detail=$(echo "$line" | sed -n 's/.* # //p')
		[ "$res" != pass ] && [ -z "$detail" ] && detail=$why
		why=
		[ -n "$nested" ] || name="program $name"
		result selftests-dax "$name" $res "$detail"
	done < "$RES/kselftest.tap"
fi

# What ndctl's and fstests' DAX tests need from the kernel and the guest,
# each checked here so a config or tooling gap shows up in our own run.
progress "env: trace-cmd, /dev/mem, dm-linear over pmem"
if mkfs_mount xfs "${PMEMS[1]}" "$MNT/xfs"; then
	# ndctl dax.sh: fs_dax:dax_pmd_fault_done events of a PMD fault
	trace-cmd record -q -e fs_dax:dax_pmd_fault_done -o /tmp/daxrs-pmd.dat \
		"$PROBE" map "$MNT/xfs/pmd-trace" > "$RES/trace-cmd.txt" 2>&1
	trace-cmd report -i /tmp/daxrs-pmd.dat > "$RES/trace-cmd-report.txt" 2>&1
	n=$(grep -c dax_pmd_fault_done "$RES/trace-cmd-report.txt")
	# the result is VM_FAULT_NOPAGE (0x100) when a PMD was mapped;
	# trace-cmd prints the flag's name or, unresolved, its value
	nopage=$(grep dax_pmd_fault_done "$RES/trace-cmd-report.txt" | grep -Ec "NOPAGE|0x100\b")
	if [ "$nopage" -ge 1 ]; then
		result env "trace-cmd records fs_dax:dax_pmd_fault_done (xfs PMD fault)" pass \
			"$n events, $nopage NOPAGE"
	else
		result env "trace-cmd records fs_dax:dax_pmd_fault_done (xfs PMD fault)" fail \
			"$n events, $nopage NOPAGE: $(grep -m1 dax_pmd_fault_done "$RES/trace-cmd-report.txt")"
	fi
	umount "$MNT/xfs"
else
	result env "trace-cmd records fs_dax:dax_pmd_fault_done (xfs PMD fault)" fail "xfs mount failed"
fi
if [ -c /dev/mem ] && dd if=/dev/mem of=/dev/null bs=4096 count=1 2>/dev/null; then
	result env "/dev/mem exists and reads" pass
else
	result env "/dev/mem exists and reads" fail "$(ls -l /dev/mem 2>&1)"
fi
# ndctl dm.sh: a dm-linear device over a pmem namespace stays DAX capable
sectors=$(blockdev --getsz "/dev/${PMEMS[0]}")
if dmsetup create daxrs-linear --table "0 $sectors linear /dev/${PMEMS[0]} 0" 2>"$RES/dm.err"; then
	dm=$(basename "$(readlink -f /dev/mapper/daxrs-linear)")
	if [ "$(cat /sys/block/$dm/queue/dax 2>/dev/null)" = 1 ] &&
		mkfs_mount ext4 mapper/daxrs-linear "$MNT/dm" && grep -q " $MNT/dm .*dax=always" /proc/mounts; then
		result env "dm-linear over /dev/${PMEMS[0]}: DAX, ext4 dax=always mount" pass "$dm"
	else
		result env "dm-linear over /dev/${PMEMS[0]}: DAX, ext4 dax=always mount" fail \
			"queue/dax=$(cat /sys/block/$dm/queue/dax 2>&1); $(dmesg | tail -2 | tr '\n' ' ')"
	fi
	umount "$MNT/dm" 2>/dev/null
	dmsetup remove daxrs-linear || result env "dm-linear removed" fail "dmsetup remove failed"
else
	result env "dm-linear over /dev/${PMEMS[0]}: DAX, ext4 dax=always mount" fail "$(cat "$RES/dm.err")"
fi

for fs in ext4 xfs; do
	dev=${PMEMS[0]}
	[ $fs = xfs ] && dev=${PMEMS[1]}
	progress "smoke: $fs dax=always on /dev/$dev"
	if ! mkfs_mount $fs "$dev" "$MNT/$fs"; then
		result smoke "$fs: mkfs + mount -o dax=always" fail "$(dmesg | tail -3 | tr '\n' ' ')"
		continue
	fi
	result smoke "$fs: mkfs + mount -o dax=always" pass
	"$PROBE" smoke "$MNT/$fs/smoke" > "$RES/smoke-$fs.txt" 2>&1
	while read -r ok rest; do
		case $ok in
		ok) result smoke "$fs: $rest" pass ;;
		not) result smoke "$fs: $(echo "${rest#ok }" | sed 's/ - .*//')" fail \
			"$(echo "$rest" | sed -n 's/^[^-]* - //p')" ;;
		esac
	done < "$RES/smoke-$fs.txt"
	if timeout 120 umount "$MNT/$fs"; then
		result smoke "$fs: unmount" pass
	else
		result smoke "$fs: unmount" fail "umount did not complete in 120 s"
		continue
	fi
	if [ $fs = ext4 ]; then
		out=$(e2fsck -fn "/dev/$dev" 2>&1)
	else
		out=$(xfs_repair -n "/dev/$dev" 2>&1)
	fi
	if [ $? = 0 ]; then
		result smoke "$fs: fsck clean" pass
	else
		result smoke "$fs: fsck clean" fail "$(echo "$out" | tail -3 | tr '\n' ' ')"
	fi
done

# Last, as it leaves a poisoned page behind: ndctl dax-pmd's MADV_HWPOISON
# of a mapped FS DAX page must kill the caller with BUS_MCEERR_AR.
progress "env: MADV_HWPOISON on a mapped DAX page (xfs)"
if mkfs_mount xfs "${PMEMS[1]}" "$MNT/xfs"; then
	out=$("$PROBE" hwpoison "$MNT/xfs/poison" 2>&1)
	case $out in
	"sigbus BUS_MCEERR_AR") result env "MADV_HWPOISON on a DAX mapping: SIGBUS BUS_MCEERR_AR" pass ;;
	*) result env "MADV_HWPOISON on a DAX mapping: SIGBUS BUS_MCEERR_AR" fail "$out" ;;
	esac
	umount "$MNT/xfs" || result env "unmount after MADV_HWPOISON" fail "umount failed"
else
	result env "MADV_HWPOISON on a DAX mapping: SIGBUS BUS_MCEERR_AR" fail "xfs mount failed"
fi

progress "done"
finish $FAILED
