#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run dax_test on ext4 and on xfs, both mounted with -o dax=always on FS DAX
# capable pmem block devices, then check that the file systems unmount
# promptly and cleanly and that their namespaces can be disabled and enabled
# again: a page reference leaked by the DAX code makes these hang.  Before
# that, each file system is unmounted while O_DIRECT writes from DAX
# mappings of its files are in flight (dax_pin_helper), and mounted again.
#
# Devices: DAX_TEST_PMEM="pmemA pmemB" (overwritten!), or else the first two
# pmem devices with queue/dax=1 that are not mounted.  Skips without them.
# DAX_TEST_BLOCKDEV may name a scratch block device for the O_DIRECT tests;
# by default a loop device over a file in /tmp is used.

here=$(dirname "$(readlink -f "$0")")
. "$here/../kselftest/ktap_helpers.sh"

mnt=
loop=

skip_all() {
	ktap_print_header
	ktap_skip_all "$*"
	exit "$KSFT_SKIP"
}

[ "$(id -u)" = 0 ] || skip_all "must be run as root"
for tool in mkfs.ext4 mkfs.xfs e2fsck xfs_repair losetup timeout ndctl; do
	command -v $tool >/dev/null || skip_all "$tool is not installed"
done

if [ -n "${DAX_TEST_PMEM:-}" ]; then
	read -r -a devs <<< "$DAX_TEST_PMEM"
else
	devs=()
	for q in /sys/block/pmem*/queue/dax; do
		[ -e "$q" ] && [ "$(cat "$q")" = 1 ] || continue
		d=$(basename "$(dirname "$(dirname "$q")")")
		grep -q "^/dev/$d " /proc/mounts && continue
		devs+=("$d")
	done
fi
[ "${#devs[@]}" -ge 2 ] ||
	skip_all "need two unmounted FS DAX pmem devices, found: ${devs[*]:-none}"

cleanup() {
	[ -n "$mnt" ] || return
	umount "$mnt/ext4" "$mnt/xfs" 2>/dev/null
	[ -n "$loop" ] && losetup -d "$loop"
	rm -f "$mnt.img" "$mnt.pin.ext4" "$mnt.pin.xfs"
	rmdir "$mnt/ext4" "$mnt/xfs" "$mnt" 2>/dev/null
}
trap cleanup EXIT

mnt=$(mktemp -d /tmp/dax_fs.XXXXXX)
mkdir -p "$mnt/ext4" "$mnt/xfs"
mkfs.ext4 -q -F -b 4096 -E stride=512,stripe_width=512 "/dev/${devs[0]}" >/dev/null ||
	skip_all "mkfs.ext4 on /dev/${devs[0]} failed"
mkfs.xfs -q -f -b size=4096 -d su=2m,sw=1 -m reflink=1,rmapbt=1 "/dev/${devs[1]}" >/dev/null ||
	skip_all "mkfs.xfs on /dev/${devs[1]} failed"
mount -o dax=always "/dev/${devs[0]}" "$mnt/ext4" || skip_all "ext4 dax=always mount failed"
mount -o dax=always "/dev/${devs[1]}" "$mnt/xfs" || skip_all "xfs dax=always mount failed"
# xfs quietly mounts without DAX when the device cannot do it
grep -q " $mnt/xfs .*dax=always" /proc/mounts || skip_all "xfs mounted without DAX"

if [ -z "${DAX_TEST_BLOCKDEV:-}" ]; then
	truncate -s 64M "$mnt.img" && loop=$(losetup -f --show "$mnt.img") &&
		DAX_TEST_BLOCKDEV=$loop
fi

# check DESCRIPTION COMMAND...: one test case, the command's output hidden
check() {
	local desc=$1

	shift
	if "$@" >/dev/null 2>&1; then
		ktap_test_pass "$desc"
	else
		ktap_test_fail "$desc"
	fi
}

# umount_while_pinned FS DEVICE: unmount FS while O_DIRECT writes from DAX
# mappings of its files are in flight, then mount it again.  dax_pin_helper
# queues the writes, unmaps and closes the files (evicting a deleted one)
# and prints "unmapped"; the unmount evicts the other file.  Both evictions
# wait for the writes, which must all complete with the files' data.
umount_while_pinned() {
	local fs=$1 dev=$2 desc=teardown.$1.umount_while_pinned log=$mnt.pin.$1
	local pid rc=0 i unmounted=0

	if [ -z "${DAX_TEST_BLOCKDEV:-}" ]; then
		ktap_print_msg "no DAX_TEST_BLOCKDEV for the O_DIRECT writes"
		ktap_test_skip "$desc"
		return
	fi
	"$here/dax_pin_helper" "$mnt/$fs/dax_pin" "$DAX_TEST_BLOCKDEV" >"$log" 2>&1 &
	pid=$!
	for ((i = 0; i < 1200; i++)); do
		grep -q '^unmapped' "$log" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q '^unmapped' "$log"; then
		ktap_print_msg "no \"unmapped\" from dax_pin_helper"
	elif timeout 60 umount "$mnt/$fs" 2>/dev/null; then
		unmounted=1
	else
		ktap_print_msg "umount of $mnt/$fs failed or took more than 60 s"
	fi
	for ((i = 0; i < 1200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		ktap_print_msg "dax_pin_helper did not finish within 120 s"
		kill -KILL "$pid"
		rc=1
	else
		wait "$pid" || rc=$?
	fi
	sed 's/^/# /' "$log"
	# mounted again for dax_test, without the files the helper leaves
	if [ "$unmounted" = 1 ] && ! mount -o dax=always "$dev" "$mnt/$fs" 2>/dev/null; then
		ktap_print_msg "cannot mount $dev on $mnt/$fs again"
		rc=1
	fi
	rm -f "$mnt/$fs/dax_pin.kept" "$mnt/$fs/dax_pin.deleted" "$mnt/$fs/dax_pin.reuse"
	if [ "$rc" = "$KSFT_SKIP" ] && [ "$unmounted" = 0 ]; then
		ktap_test_skip "$desc"
	elif [ "$rc" = 0 ] && [ "$unmounted" = 1 ]; then
		ktap_test_pass "$desc"
	else
		ktap_print_msg "dax_pin_helper exit status $rc"
		ktap_test_fail "$desc"
	fi
}

ktap_print_header
ktap_set_plan 9

# Before dax_test: its last test leaves a poisoned pmem page in the free
# space of xfs, which these files could be given.
umount_while_pinned ext4 "/dev/${devs[0]}"
umount_while_pinned xfs "/dev/${devs[1]}"

# dax_test's own TAP, nested.  Its name is announced before its header so
# that a run cut short (a kernel crash) still names the tests it ran.
echo "# # Subtest: dax_test"
DAX_TEST_EXT4=$mnt/ext4 DAX_TEST_XFS=$mnt/xfs DAX_TEST_BLOCKDEV=${DAX_TEST_BLOCKDEV:-} \
	"$here/dax_test" 2>&1 | sed 's/^/# /'
check "dax_test" [ "${PIPESTATUS[0]}" = 0 ]

# Teardown after heavy mapping and pinning must complete promptly.
for fs in ext4 xfs; do
	check "teardown.$fs.umount_within_60s" timeout 60 umount "$mnt/$fs"
done
check "teardown.ext4.fsck_clean" e2fsck -fn "/dev/${devs[0]}"
check "teardown.xfs.fsck_clean" xfs_repair -n "/dev/${devs[1]}"

# The namespaces' pagemaps go away only once every DAX page reference is dropped.
i=0
for d in "${devs[@]:0:2}"; do
	fs=ext4
	[ $i = 1 ] && fs=xfs
	i=$((i + 1))
	# pmemN's parent is its namespace, or in fsdax mode a pfn device on it
	ns=$(basename "$(readlink -f "/sys/block/$d/device")")
	[ -e "/sys/block/$d/device/namespace" ] && ns=$(cat "/sys/block/$d/device/namespace")
	[[ $ns == namespace* ]] || ns=
	if [ -z "$ns" ]; then
		ktap_print_msg "no ndctl namespace for $d"
		ktap_test_skip "teardown.$fs.namespace_disable_enable"
		continue
	fi
	check "teardown.$fs.namespace_disable_enable" \
		bash -c "timeout 60 ndctl disable-namespace $ns && ndctl enable-namespace $ns"
done
ktap_finished
