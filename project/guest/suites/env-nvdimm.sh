#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The QEMU NVDIMMs as fstests uses them: label areas initialised, one
# labelled fsdax namespace per region (ACPI.NFIT), each taking an xfs
# mounted with dax=always; and what else fstests asks of the machine (the
# fsgqa users, su, a LOGWRITES_DEV).  Needs the "all" pmem layout, where
# setup.sh leaves the NVDIMMs alone (its namespaces are on e820).
set -u
# shellcheck source-path=SCRIPTDIR/..
. "$GUEST/lib.sh"
ktap_header

LABELS="labelled NVDIMM fsdax namespaces created (ACPI.NFIT, init-labels)"
MOUNTS="NVDIMM fsdax namespaces mount xfs dax=always (fstests TEST_DEV, SCRATCH_DEV)"
FSTENV="fstests environment: fsgqa users (su works), LOGWRITES_DEV"

if [ "${PMEM:-}" != all ]; then
	for t in "$LABELS" "$MOUNTS" "$FSTENV"; do
		ktap_skip "$t" "needs the pmem layout all, this guest has ${PMEM:-none}"
	done
	ktap_finish
	exit
fi

progress "NVDIMM: labelled fsdax namespaces; the fstests environment"
if out=$(nvdimm_fsdax); then
	ktap_ok "$LABELS" "$(echo "$out" | tr '\n' ';')"
	mapfile -t NVD_PMEMS < <(echo "$out" | sed -n 's|.*: /dev/\([^,]*\),.*|\1|p')
	# usable as fstests' devices: an fs with dax=always on each
	ok=
	for d in "${NVD_PMEMS[@]}"; do
		if mkfs_mount xfs "$d" "$MNT/nvd" && umount "$MNT/nvd"; then
			ok="$ok $d"
		else
			ok=
			break
		fi
	done
	if [ -n "$ok" ]; then
		ktap_ok "$MOUNTS" "$ok"
	else
		ktap_fail "$MOUNTS" "$(dmesg | tail -3 | tr '\n' ' ')"
	fi
else
	ktap_fail "$LABELS" "$(echo "$out" | tr '\n' ';')"
	ktap_skip "$MOUNTS" "no namespaces"
fi
if out=$(fstests_env); then
	ktap_ok "$FSTENV" "$out"
else
	ktap_fail "$FSTENV" "$out"
fi
ktap_finish
