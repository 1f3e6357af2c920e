// SPDX-License-Identifier: GPL-2.0

//! Filesystem objects, as far as memory management code reaches them.

pub mod address_space;
