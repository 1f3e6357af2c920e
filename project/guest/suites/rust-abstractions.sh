#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The Rust mm/DAX abstraction tests (samples/rust, a module the series adds):
# loading rust_dax_abstractions runs its cases on the first free fsdax
# device and prints them as KTAP into the kernel log.  That KTAP is printed
# here as a subtest of the module load, as the module wrote it; then the
# module must unload.  The host runs this suite only where the module
# exists, so a missing module is a failure.
set -u
# shellcheck source-path=SCRIPTDIR/..
. "$GUEST/lib.sh"
ktap_header

NAME="rust_dax_abstractions module"
if ! modinfo rust_dax_abstractions >/dev/null 2>&1; then
	ktap_fail "$NAME" "module not built"
	ktap_finish
	exit
fi

progress "rust: mm/DAX abstractions on the first free fsdax device (samples/rust)"
before=$(dmesg | wc -l)
modprobe rust_dax_abstractions 2>"$RES/rust-abstractions.modprobe"
rc=$?
# the module's lines since the modprobe, without the timestamp and prefix
dmesg | tail -n +$((before + 1)) |
	sed -n 's/^\(\[[^]]*\] \)\{0,1\}rust_dax_abstractions: //p' | ktap_nest "$NAME"
if [ "$rc" = 0 ]; then
	ktap_ok "$NAME"
else
	ktap_fail "$NAME" "modprobe rust_dax_abstractions exit $rc: $(cat "$RES/rust-abstractions.modprobe") $(dmesg | tail -3 | tr '\n' ' ')"
fi

if [ ! -d /sys/module/rust_dax_abstractions ]; then
	ktap_skip "rmmod rust_dax_abstractions" "the module is not loaded"
elif out=$(rmmod rust_dax_abstractions 2>&1); then
	ktap_ok "rmmod rust_dax_abstractions"
else
	ktap_fail "rmmod rust_dax_abstractions" "module busy: $out"
fi
ktap_finish
