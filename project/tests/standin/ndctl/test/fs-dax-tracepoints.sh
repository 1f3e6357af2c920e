#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# dax.sh records fs_dax:dax_pmd_fault_done with trace-cmd
. "$(dirname "$0")/common.sh"
command -v trace-cmd >/dev/null || fail "no trace-cmd"
trace-cmd list -e fs_dax 2>/dev/null | grep -q dax_pmd_fault_done ||
	fail "no fs_dax:dax_pmd_fault_done event: $(trace-cmd list -e fs_dax 2>&1 | head -2)"
echo "fs_dax:dax_pmd_fault_done available"
