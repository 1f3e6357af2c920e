# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by the guest scripts (setup.sh, demo.sh, suites/*.sh): progress
# reporting, the KTAP printer the suites use, and the pmem/file-system
# helpers several of them share.  It defines functions and a few variables
# only; it runs nothing.
#
# The environment comes from run.sh: RES, GUEST, BINDIR, PROBE, MNT, MODE,
# PMEM, KSELFTEST, VARIANT and devices.env's PMEM0 PMEM1 DAXDEV DAXPUD OURBUS.
# Defaults here keep a script usable under set -u when one is missing
# (run by hand, say): an empty device name is then reported, not a crash.
: "${MODE:=}" "${PMEM:=}" "${KSELFTEST:=}" "${VARIANT:=}"
: "${MNT:=/tmp/daxrs}" "${PROBE:=${BINDIR:-}/daxprobe}"
: "${PMEM0:=}" "${PMEM1:=}" "${DAXDEV:=}" "${DAXPUD:=}" "${OURBUS:=}"

# What the guest is doing now, for the host to show while it waits.  On
# stderr: a suite's stdout is its KTAP and must hold nothing else.
progress() {
	echo "$*" > "$RES/progress"
	echo "== $*" >&2
}

# ---------------------------------------------------------------------------
# KTAP (Documentation/dev-tools/ktap.rst).  The plan comes last, once every
# result is out, so a suite killed half-way leaves output without a plan and
# the host can tell it from one that finished.
KTAP_N=0
KTAP_FAILED=0

ktap_header() {
	echo "KTAP version 1"
}

# A test name or a SKIP reason on one line, without "#", which would start
# a directive or a diagnostic in the middle of the result line.
ktap_text() {
	local s=${1//[#]/No.}
	s=${s//$'\r'/ }
	printf '%s' "${s//$'\n'/ | }"
}

# A diagnostic line for the result that follows it; nothing when empty.
ktap_diag() {
	local s=${1//$'\r'/ }
	[ -n "$s" ] || return 0
	printf '# %s\n' "${s//$'\n'/ | }"
}

ktap_ok() { # NAME [DETAIL]
	KTAP_N=$((KTAP_N + 1))
	ktap_diag "${2:-}"
	printf 'ok %d %s\n' "$KTAP_N" "$(ktap_text "$1")"
}

ktap_fail() { # NAME DETAIL
	KTAP_N=$((KTAP_N + 1))
	KTAP_FAILED=1
	ktap_diag "${2:-}"
	printf 'not ok %d %s\n' "$KTAP_N" "$(ktap_text "$1")"
}

ktap_skip() { # NAME REASON
	KTAP_N=$((KTAP_N + 1))
	printf 'ok %d %s # SKIP %s\n' "$KTAP_N" "$(ktap_text "$1")" "$(ktap_text "${2:-}")"
}

# The trailing plan; the status is the suite's: 1 if anything failed.
ktap_finish() {
	echo "1..$KTAP_N"
	return "$KTAP_FAILED"
}

# A filter: the KTAP document on stdin as the body of subtest NAME, every
# line indented by four spaces.  The subtest opens with its version line and
# then "# Subtest: NAME", in that order (as KUnit prints them, and as the
# host's parser reads them), so the document's own version line, when it
# is the first line, is replaced rather than repeated.  The parent result
# line is the caller's to print.
ktap_nest() { # NAME
	printf '    KTAP version 1\n    # Subtest: %s\n' "$(ktap_text "$1")"
	sed -e '1{/^K\{0,1\}TAP version [0-9]*$/d;}' -e 's/^/    /'
}

# probe_subtest NAME -- DAXPROBE-ARGS...: run daxprobe in one of its KTAP
# modes (smoke, p2pmem) and print its output as a subtest of NAME, followed
# by the parent result: ok when daxprobe exited 0.  daxprobe's stderr goes
# to the suite's stderr (the host keeps it as SUITE.err).
probe_subtest() {
	local name=$1 rc detail
	shift
	[ "${1:-}" = -- ] && shift
	"$PROBE" "$@" | ktap_nest "$name"
	rc=${PIPESTATUS[0]}
	if [ "$rc" = 0 ]; then
		ktap_ok "$name"
		return 0
	fi
	detail="daxprobe ${1:-} exit $rc"
	[ "$rc" -gt 128 ] && detail="$detail (killed by SIG$(kill -l $((rc - 128)) 2>/dev/null))"
	ktap_fail "$name" "$detail"
	return 1
}

# Empty when the named devices.env variables are all set, else a sentence
# saying which are not (and returns 1): the device suites start with it.
devices_missing() {
	local v missing=
	for v in "$@"; do
		[ -n "${!v:-}" ] || missing="$missing $v"
	done
	[ -z "$missing" ] && return 0
	echo "no device for$missing in $RES/devices.env (MODE=${MODE:-?}: setup creates the namespaces in test and demo mode only)"
	return 1
}

# ---------------------------------------------------------------------------
# pmem and file systems

# The buses (providers) ndctl sees: e820, ACPI.NFIT, nfit_test.0 ...
buses() {
	ndctl list -B 2>/dev/null | jq -r '[.. | objects | .provider? // empty] | join(" ")'
}

# The region devices of a bus, largest first.
bus_regions() {
	ndctl list -R -b "$1" 2>/dev/null |
		jq -r '[.. | objects | select((.dev? // "") | startswith("region"))] |
			sort_by(-.size) | .[].dev'
}

mkfs_mount() { # FS DEV DIR
	case $1 in
	ext4) mkfs.ext4 -q -F -b 4096 -E stride=512,stripe_width=512 "/dev/$2" ;;
	xfs) mkfs.xfs -q -f -b size=4096 -d su=2m,sw=1 "/dev/$2" ;;
	esac >/dev/null || return 1
	mkdir -p "$3" && mount -o dax=always "/dev/$2" "$3" || return 1
	# xfs quietly turns DAX off when the device cannot do it: insist on it
	grep -q " $3 .*dax=always" /proc/mounts
}

# The QEMU NVDIMMs (layout "all"): initialise their label areas and create one
# labelled fsdax namespace per region; these are fstests' TEST_DEV and
# SCRATCH_DEV.  Prints "<ns> on <region>: /dev/<pmem>, ..." per namespace,
# or what went wrong and returns 1.
nvdimm_fsdax() {
	local regions r out ns dev uuid
	regions=$(bus_regions ACPI.NFIT)
	[ "$(echo "$regions" | grep -c region)" -ge 2 ] || {
		echo "expected 2 ACPI.NFIT regions (QEMU NVDIMMs), found: ${regions//$'\n'/ }"
		return 1
	}
	if ! { ndctl disable-region -b ACPI.NFIT all >/dev/null 2>&1 &&
		ndctl init-labels -f -b ACPI.NFIT all >/dev/null 2>&1 &&
		ndctl enable-region -b ACPI.NFIT all >/dev/null 2>&1; }; then
		echo "could not initialise the label areas: $(ndctl list -DR -b ACPI.NFIT 2>&1 | tr '\n' ' ')"
		return 1
	fi
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
# Sets LOGWRITES_DEV when run in the caller's shell (not in $(...)).
FST_ETC=/tmp/daxrs-etc
fstests_env() {
	local f u id=40001
	mkdir -p "$FST_ETC" /tmp/daxrs-home /tmp/fstests/test /tmp/fstests/scratch
	for f in passwd group shadow gshadow; do
		[ -e "/etc/$f" ] || continue
		# called again in the same guest: copies and bind mounts are in place
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
		if ! { truncate -s 2G /tmp/daxrs-logwrites.img &&
			LOGWRITES_DEV=$(losetup -f --show /tmp/daxrs-logwrites.img); }; then
			echo "no loop device for LOGWRITES_DEV"
			return 1
		fi
	fi
	echo "users fsgqa fsgqa2 123456-fsgqa; LOGWRITES_DEV $LOGWRITES_DEV"
}

# The namespaces setup.sh made (its ndctl.json), one line each.
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
