# SPDX-License-Identifier: GPL-2.0
"""python3 -m daxrs: the command line (see cli.py)."""
import sys

from daxrs.cli import main

sys.exit(main())
