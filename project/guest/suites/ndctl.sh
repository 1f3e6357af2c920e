#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Suites mode: the user's ndctl build (daxrs test --ndctl), or the stand-in
# of project/tests/standin/ndctl, mounted by vng as an overlay (writable
# here, the host's copy untouched): `meson test $NDCTL_ARGS` in it.  Its raw
# output is what counts and the host parses it: ndctl-meson.txt,
# ndctl-meson.rc, ndctl-testlog.json and ndctl-testlog.txt (meson's logs).
# On stdout, one result: whether meson test passed.
set -u
# shellcheck source-path=SCRIPTDIR/..
. "$GUEST/lib.sh"
ktap_header
# shellcheck source=/dev/null # written by the host
. "$RES/suites.env"

NAME="meson test"
if [ -z "${NDCTL_BUILD:-}" ]; then
	ktap_fail "$NAME" "no NDCTL_BUILD in $RES/suites.env"
	ktap_finish
	exit
fi

progress "ndctl: meson test ${NDCTL_ARGS:-} in $NDCTL_BUILD"
# labels initialised, regions empty: where ndctl's ACPI.NFIT tests start
ndctl disable-region -b ACPI.NFIT all >/dev/null 2>&1
ndctl init-labels -f -b ACPI.NFIT all > "$RES/ndctl-init-labels.txt" 2>&1
ndctl enable-region -b ACPI.NFIT all >/dev/null 2>&1
rm -f "$NDCTL_BUILD/meson-logs/testlog.json"
# shellcheck disable=SC2086 # NDCTL_ARGS is a list of meson options
(cd "$NDCTL_BUILD" && "${MESON:-meson}" test -C "$NDCTL_BUILD" --no-rebuild ${NDCTL_ARGS:-}) \
	> "$RES/ndctl-meson.txt" 2>&1
rc=$?
echo "$rc" > "$RES/ndctl-meson.rc"
cp "$NDCTL_BUILD/meson-logs/testlog.json" "$RES/ndctl-testlog.json" 2>/dev/null
cp "$NDCTL_BUILD/meson-logs/testlog.txt" "$RES/ndctl-testlog.txt" 2>/dev/null
# leave the NVDIMMs and nfit_test as fstests expects them
ndctl destroy-namespace -f -b ACPI.NFIT all >/dev/null 2>&1
modprobe -r nfit_test 2>/dev/null
modprobe -a nfit nd_e820 nd_pmem 2>/dev/null

if [ "$rc" = 0 ]; then
	ktap_ok "$NAME"
else
	ktap_fail "$NAME" "meson test exit $rc (ndctl-meson.txt, ndctl-testlog.txt)"
fi
ktap_finish
