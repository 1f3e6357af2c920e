#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tools/testing/selftests/dax of the series, installed by daxrs in
# $KSELFTEST: run_kselftest.sh -c dax on the fsdax and devdax devices that
# setup.sh made, while they are still unmounted (dax_fs.sh mkfs's them).
# Its output is already TAP/KTAP and is printed as it comes, unchanged, for
# the host to read; the exit status is run_kselftest.sh's.
set -u
# shellcheck source-path=SCRIPTDIR/..
. "$GUEST/lib.sh"

if [ -z "${KSELFTEST:-}" ] || [ ! -x "$KSELFTEST/run_kselftest.sh" ]; then
	ktap_header
	ktap_fail selftests "kselftest dir missing: no run_kselftest.sh in '${KSELFTEST:-}'"
	ktap_finish
	exit
fi
if ! why=$(devices_missing PMEM0 PMEM1 DAXDEV); then
	ktap_header
	ktap_fail selftests "$why"
	ktap_finish
	exit
fi

progress "tools/testing/selftests/dax"
export DAX_TEST_PMEM="$PMEM0 $PMEM1" DAX_TEST_DEVDAX=/dev/$DAXDEV
# the PUD tests skip without it (only the nvdimm layout has no PUD region)
[ -n "$DAXPUD" ] && export DAX_TEST_DEVDAX_PUD=/dev/$DAXPUD
# runner.sh writes the tests' output to /dev/stdout, which virtme-ng points
# at its own virtio channel: point it at the caller's stdout
vng_stdout=$(readlink /dev/stdout)
ln -sfn /proc/self/fd/1 /dev/stdout
# Through a pipe: runner.sh opens /dev/stdout afresh (>>) for the tests'
# output while printing its own ok/not ok lines on fd 1.  On a regular file
# (run.sh's SUITE.ktap) those would be two offsets into one file and the
# result lines would overwrite the tests' output; a pipe keeps them in order.
(cd "$KSELFTEST" && ./run_kselftest.sh -c dax) 2>&1 | cat
rc=${PIPESTATUS[0]}
[ -n "$vng_stdout" ] && ln -sfn "$vng_stdout" /dev/stdout
exit "$rc"
