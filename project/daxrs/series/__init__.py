# SPDX-License-Identifier: GPL-2.0
"""The series: its definition in project/series/ (model), committed onto the
base in a git work tree (materialise), written back (export), mailed
(emit), linted (lint) and built patch by patch (bisect)."""
