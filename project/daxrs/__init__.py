# SPDX-License-Identifier: GPL-2.0
"""daxrs: build, boot and test the FS DAX refcount series on emulated pmem.

The package is laid out along the pipeline a run goes through; each module
names its stage (see README.md, "Layout").
"""
