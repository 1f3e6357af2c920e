# SPDX-License-Identifier: GPL-2.0
"""The test suites a run boots: the user's own ndctl and fstests, or the
stand-ins of project/tests/standin (user), which suites run where
(registry), and their rows from a guest's results (collect)."""
