# SPDX-License-Identifier: GPL-2.0
# shared by the stand-in tests: fail with a reason
set -u
fail() { echo "FAIL: $*"; exit 1; }
