# SPDX-License-Identifier: GPL-2.0
"""The guest: the pmem layouts it can boot with, whether KVM runs here
(layouts), and booting a kernel under virtme-ng (boot)."""
