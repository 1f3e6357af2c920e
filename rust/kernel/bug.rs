// SPDX-License-Identifier: GPL-2.0

//! Reporting kernel bugs that are not fatal.
//!
//! C header: [`include/asm-generic/bug.h`](srctree/include/asm-generic/bug.h)

use crate::bindings;

/// Warns, with a backtrace and `TAINT_WARN`, if `cond` holds
/// (`WARN_ON_ONCE()`), and returns `cond`.
///
/// All Rust callers share one "once": after the first warning from any of
/// them, later ones are silent.  Use it where C would use `WARN_ON_ONCE()`:
/// for a state the code does not expect but can recover from.
#[inline]
pub fn warn_on_once(cond: bool) -> bool {
    // SAFETY: `WARN_ON_ONCE()` may be called in any context.
    unsafe { bindings::WARN_ON_ONCE(cond) }
}
