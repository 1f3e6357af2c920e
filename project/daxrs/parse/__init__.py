# SPDX-License-Identifier: GPL-2.0
"""Parsers: every test output a run produces becomes Result rows here, on
the host, once (the guest only prints)."""
