#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Suites mode: the user's fstests checkout (daxrs test --fstests), or the
# stand-in of project/tests/standin/fstests, mounted by vng as an overlay
# (writable here, the host's copy untouched).  For each file system of
# FSTESTS_FS, on two labelled NVDIMM fsdax namespaces mounted dax=always:
#   fstests-FS.config  the HOST_OPTIONS file written for it
#   fstests-FS.list    ./check -n: the tests it is about to run
#   fstests-FS.txt     ./check's output, fstests-FS.rc its exit status,
#   fstests-FS/        its RESULT_BASE
# which the host parses.  On stdout, one result per file system: whether
# ./check passed.
set -u
# shellcheck source-path=SCRIPTDIR/..
. "$GUEST/lib.sh"
ktap_header
# shellcheck source=/dev/null # written by the host
. "$RES/suites.env"

if [ -z "${FSTESTS_DIR:-}" ]; then
	ktap_fail "fstests devices" "no FSTESTS_DIR in $RES/suites.env"
	ktap_finish
	exit
fi

progress "fstests: labelled NVDIMM fsdax namespaces, users"
if ! nvdimm_fsdax > "$RES/fstests-devices.txt" 2>&1; then
	ktap_fail "fstests devices" "no TEST_DEV/SCRATCH_DEV: $(cat "$RES/fstests-devices.txt")"
	ktap_finish
	exit
fi
mapfile -t NVD_PMEMS < <(sed -n 's|.*: /dev/\([^,]*\),.*|\1|p' "$RES/fstests-devices.txt")
if [ "${#NVD_PMEMS[@]}" -lt 2 ]; then
	ktap_fail "fstests devices" "need 2 fsdax namespaces: $(cat "$RES/fstests-devices.txt")"
	ktap_finish
	exit
fi
# in this shell, not in $(...): it sets LOGWRITES_DEV
if ! fstests_env >> "$RES/fstests-devices.txt" 2>&1; then
	ktap_fail "fstests devices" "environment: $(tail -1 "$RES/fstests-devices.txt")"
	ktap_finish
	exit
fi
ktap_ok "fstests devices" "TEST_DEV /dev/${NVD_PMEMS[0]} SCRATCH_DEV /dev/${NVD_PMEMS[1]} LOGWRITES_DEV $LOGWRITES_DEV"

for fs in ${FSTESTS_FS:-}; do
	case $fs in
	ext4) mkfs_opts="-b 4096" ;;
	xfs) mkfs_opts="-b size=4096 -m reflink=1,rmapbt=1" ;;
	*)
		ktap_fail "$fs: ./check" "file system $fs: only ext4 and xfs"
		continue ;;
	esac
	cfg=$RES/fstests-$fs.config
	cat > "$cfg" <<-EOC
	# written by daxrs (project/guest/suites/fstests.sh) for this guest
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
	EOC
	umount /tmp/fstests/test /tmp/fstests/scratch 2>/dev/null
	# shellcheck disable=SC2086 # mkfs_opts is a list
	case $fs in
	ext4) mkfs.ext4 -q -F $mkfs_opts "/dev/${NVD_PMEMS[0]}" ;;
	xfs) mkfs.xfs -q -f $mkfs_opts "/dev/${NVD_PMEMS[0]}" ;;
	esac > "$RES/fstests-$fs.mkfs" 2>&1 || {
		ktap_fail "$fs: ./check" "mkfs.$fs on TEST_DEV /dev/${NVD_PMEMS[0]}: $(cat "$RES/fstests-$fs.mkfs")"
		continue
	}
	# the dry run (after the mkfs: ./check mounts TEST_DEV even for -n)
	# says which tests the real run below is going to run
	progress "fstests: $fs: ./check -n ${FSTESTS_ARGS:-}"
	# shellcheck disable=SC2086 # FSTESTS_ARGS is a list of check options
	(cd "$FSTESTS_DIR" && HOST_OPTIONS=$cfg ./check -n ${FSTESTS_ARGS:-}) \
		> "$RES/fstests-$fs.list" 2>&1
	lrc=$?
	progress "fstests: $fs dax=always: ./check ${FSTESTS_ARGS:-}"
	# shellcheck disable=SC2086 # FSTESTS_ARGS is a list of check options
	(cd "$FSTESTS_DIR" && HOST_OPTIONS=$cfg ./check ${FSTESTS_ARGS:-}) \
		> "$RES/fstests-$fs.txt" 2>&1
	rc=$?
	echo "$rc" > "$RES/fstests-$fs.rc"
	note=
	[ "$lrc" = 0 ] || note="; ./check -n exit $lrc"
	if [ "$rc" = 0 ]; then
		ktap_ok "$fs: ./check" "${note#; }"
	else
		ktap_fail "$fs: ./check" "./check exit $rc (fstests-$fs.txt)$note"
	fi
done
ktap_finish
