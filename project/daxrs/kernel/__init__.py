# SPDX-License-Identifier: GPL-2.0
"""The kernel: configured (kconfig), built with its modules and selftests
(kbuild), and the test modules and helpers built against it (testmods)."""
