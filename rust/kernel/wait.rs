// SPDX-License-Identifier: GPL-2.0

//! Wait queues whose waiters wait for a key, in a hashed table.
//!
//! Many objects that are rarely waited for can share a small table of wait
//! queues: a waiter sleeps on the queue its key hashes to, and a wake-up
//! with a key wakes only the waiters of that key, leaving the others that
//! share the queue asleep.  The DAX core waits this way for the entries of
//! a mapping's page cache, keyed by the mapping's XArray and the index.
//!
//! C header: [`include/linux/wait.h`](srctree/include/linux/wait.h)

use crate::{
    bindings, container_of,
    init::PinInit,
    pin_init,
    str::CStr,
    sync::LockClassKey,
    task::{TASK_NORMAL, TASK_UNINTERRUPTIBLE},
    types::Opaque,
};
use core::ffi::{c_int, c_uint, c_void};
use macros::pin_data;

/// What a waiter waits for: an object, by its address, and an index in it.
///
/// Two keys are equal when both parts are.  The object's address is only
/// compared, never followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitKey {
    object: usize,
    index: usize,
}

impl WaitKey {
    /// Returns the key of `index` in the object at `object`, which is never
    /// followed.
    pub fn new<T>(object: *const T, index: usize) -> Self {
        Self {
            object: object as usize,
            index,
        }
    }

    /// Returns the index the key stands for.
    pub fn index(&self) -> usize {
        self.index
    }

    /// `hash_long(object ^ index, bits)`, as `include/linux/hash.h` computes
    /// it (no architecture that builds Rust has its own `hash_64()`).
    fn hash(&self, bits: u32) -> usize {
        let val = self.object ^ self.index;
        #[cfg(target_pointer_width = "64")]
        let hash = val.wrapping_mul(0x61c8_8646_80b5_83eb) >> (usize::BITS - bits);
        #[cfg(target_pointer_width = "32")]
        let hash = val.wrapping_mul(0x61c8_8647) >> (usize::BITS - bits);
        hash
    }
}

/// How many waiters of a key a wake-up wakes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WakeMode {
    /// Every waiter of the key.
    All,
    /// Every non-exclusive waiter of the key and the first exclusive one.
    Next,
}

/// How a waiter waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitMode {
    /// Woken by any wake-up of its key (`prepare_to_wait()`).
    Shared,
    /// Queued at the end and woken one at a time by [`WakeMode::Next`]
    /// (`prepare_to_wait_exclusive()`); a waiter that was woken and does not
    /// take what it waited for must pass the wake-up on.
    Exclusive,
}

/// A wait queue (`struct wait_queue_head`) whose waiters all wait for a
/// [`WaitKey`].
///
/// # Invariants
///
/// The queue is initialised, and every entry on it is a waiter queued by
/// [`KeyedWaitQueue::sleep`], whose wake function expects the key of a
/// wake-up to be NULL or a [`WaitKey`].
///
/// # Examples
///
/// A wake-up of another key leaves a waiter queued; one of its key wakes it.
/// (The wake-ups run in `release`, after the task queued itself and before
/// it sleeps, so that it does not sleep here.)
///
/// ```
/// use kernel::{c_str, static_lock_class, wait::{KeyedWaitQueue, WaitKey, WaitMode, WakeMode}};
///
/// let queue = KBox::pin_init(KeyedWaitQueue::new(c_str!("doctest"), static_lock_class!()),
///                            GFP_KERNEL)?;
/// static OBJECT: u64 = 0;
/// let (mine, other) = (WaitKey::new(&OBJECT, 1), WaitKey::new(&OBJECT, 2));
/// assert!(!queue.has_waiters());
/// let seen = queue.sleep(mine, WaitMode::Exclusive, || {
///     let queued = queue.has_waiters();
///     queue.wake(&other, WakeMode::All);
///     let after_other = queue.has_waiters();
///     queue.wake(&mine, WakeMode::Next);
///     (queued, after_other, queue.has_waiters())
/// });
/// assert_eq!(seen, (true, true, false));
/// assert!(!queue.has_waiters());
/// # Ok::<(), Error>(())
/// ```
#[pin_data]
#[repr(transparent)]
pub struct KeyedWaitQueue {
    #[pin]
    head: Opaque<bindings::wait_queue_head>,
}

// SAFETY: A wait queue is used from any thread, under its own lock.
unsafe impl Send for KeyedWaitQueue {}

// SAFETY: As above.
unsafe impl Sync for KeyedWaitQueue {}

/// A task waiting on a [`KeyedWaitQueue`].
#[repr(C)]
struct KeyedWaiter {
    entry: Opaque<bindings::wait_queue_entry>,
    key: WaitKey,
}

/// The wake function of a [`KeyedWaiter`]: wakes it if the wake-up's key is
/// its own, or if the wake-up has no key.
///
/// # Safety
///
/// `entry` is the `entry` of a queued `KeyedWaiter`, and `key` is NULL or
/// points to a `WaitKey`, both valid for the call.
unsafe extern "C" fn keyed_wake_function(
    entry: *mut bindings::wait_queue_entry,
    mode: c_uint,
    flags: c_int,
    key: *mut c_void,
) -> c_int {
    // SAFETY: `entry` is the `entry` field of a `KeyedWaiter`, by the
    // function's safety requirements; `Opaque` is a transparent wrapper.
    let waiter = unsafe { &*container_of!(entry, KeyedWaiter, entry) };
    let key = key.cast::<WaitKey>().cast_const();
    // SAFETY: A non-NULL `key` points to a valid `WaitKey`.
    if !key.is_null() && unsafe { *key } != waiter.key {
        return 0;
    }
    // SAFETY: `entry` is queued and valid; this is a wake function's call.
    unsafe { bindings::autoremove_wake_function(entry, mode, flags, core::ptr::null_mut()) }
}

impl KeyedWaitQueue {
    /// Creates an empty queue.
    pub fn new(name: &'static CStr, key: &'static LockClassKey) -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `slot` is valid for writes, and `name` and `key` live
            // for ever.
            head <- Opaque::ffi_init(|slot| unsafe {
                bindings::__init_waitqueue_head(slot, name.as_char_ptr(), key.as_ptr())
            }),
        })
    }

    /// Creates a reference to a wait queue from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` is an initialised wait queue that stays valid for `'a`, whose
    /// entries are all queued through [`KeyedWaitQueue`] and whose wake-ups
    /// all pass NULL or a [`WaitKey`] as their key.
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::wait_queue_head) -> &'a Self {
        // SAFETY: `KeyedWaitQueue` is a transparent wrapper of the queue,
        // valid for `'a` as the caller guarantees.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// Returns whether some task is queued (`waitqueue_active()`).
    ///
    /// Without a lock this may miss a task that is queuing itself: a waker
    /// must make the condition it changed visible first, under the lock the
    /// waiter checks that condition under, as [`Self::sleep`] asks.
    #[inline]
    pub fn has_waiters(&self) -> bool {
        let head = self.head.get();
        // SAFETY: By the type invariant the queue is initialised; the
        // volatile read is `list_empty()`'s `READ_ONCE()` of the list head.
        let next = unsafe { core::ptr::addr_of!((*head).head.next).read_volatile() };
        // SAFETY: As above; only the field's address is taken.
        let list = unsafe { core::ptr::addr_of_mut!((*head).head) };
        next != list
    }

    /// Wakes the waiters of `key` as `mode` says (`__wake_up()`); waiters of
    /// other keys stay asleep.
    #[inline]
    pub fn wake(&self, key: &WaitKey, mode: WakeMode) {
        if !self.has_waiters() {
            return;
        }
        let nr = match mode {
            WakeMode::All => 0,
            WakeMode::Next => 1,
        };
        let key = core::ptr::from_ref(key).cast_mut().cast::<c_void>();
        // SAFETY: By the type invariant the queue is initialised and its
        // wake functions take a `WaitKey` as their key, which `key` points
        // to for the call.
        unsafe { bindings::__wake_up(self.head.get(), TASK_NORMAL, nr, key) };
    }

    /// Queues the current task as a waiter of `key`, calls `release`, sleeps
    /// until a wake-up of `key` (or a spurious one), and dequeues the task.
    /// Returns what `release` returned.
    ///
    /// `release` drops the lock under which the caller found that it has to
    /// wait: a waker that changes that state under the same lock and then
    /// calls [`Self::wake`] cannot miss the task.  `release` must not sleep;
    /// if it does, the task does not sleep after it.
    pub fn sleep<R>(&self, key: WaitKey, mode: WaitMode, release: impl FnOnce() -> R) -> R {
        let waiter = KeyedWaiter {
            entry: Opaque::uninit(),
            key,
        };
        let entry = waiter.entry.get();
        // SAFETY: `entry` is valid for writes and is not moved until this
        // function returns: `waiter` is only reached through pointers.
        unsafe { bindings::init_wait_entry(entry, 0) };
        // SAFETY: `entry` was initialised above; the key it wakes on is set.
        unsafe { (*entry).func = Some(keyed_wake_function) };
        let state = TASK_UNINTERRUPTIBLE;
        match mode {
            // SAFETY: The queue is initialised (type invariant) and `entry`
            // is a waiter that is dequeued (`finish_wait()`) before it dies.
            WaitMode::Shared => unsafe { bindings::prepare_to_wait(self.head.get(), entry, state) },
            // SAFETY: As above.
            WaitMode::Exclusive => unsafe {
                bindings::prepare_to_wait_exclusive(self.head.get(), entry, state);
            },
        }
        let ret = release();
        // SAFETY: Sleeping is allowed: the caller dropped its locks in
        // `release`; a task still `TASK_RUNNING` returns at once.
        unsafe { bindings::schedule() };
        // SAFETY: `entry` was queued on this queue above.
        unsafe { bindings::finish_wait(self.head.get(), entry) };
        ret
    }
}

/// A table of `2^bits` keyed wait queues, a key waiting on the queue it
/// hashes to.
///
/// # Invariants
///
/// `bits` is above 0 and below `usize::BITS`, and `heads` is an array of
/// `2^bits` wait queues valid for the kernel's life, each as
/// [`KeyedWaitQueue::from_raw`] requires.
///
/// # Examples
///
/// ```
/// use kernel::wait::{WaitKey, WaitTable};
///
/// static OBJECTS: [u64; 2] = [0; 2];
/// let (a, b) = (WaitKey::new(&OBJECTS[0], 7), WaitKey::new(&OBJECTS[1], 7));
/// assert_eq!(a, WaitKey::new(&OBJECTS[0], 7));
/// // The queue of a key is the one C code that shares the table picks.
/// let object = &OBJECTS[0] as *const u64 as usize;
/// // SAFETY: `hash_long()` only computes.
/// let c = unsafe { kernel::bindings::hash_long(object ^ 7, 12) };
/// assert_eq!(WaitTable::slot(&a, 12), c);
/// assert!(WaitTable::slot(&b, 12) < 1 << 12);
/// assert_ne!(a, b);
/// assert_eq!(a.index(), 7);
/// ```
pub struct WaitTable {
    heads: *mut bindings::wait_queue_head,
    bits: u32,
}

// SAFETY: The table is only a pointer to queues that work from any thread.
unsafe impl Send for WaitTable {}

// SAFETY: As above: `&WaitTable` only gives shared references to the queues.
unsafe impl Sync for WaitTable {}

impl WaitTable {
    /// Creates a table over `2^bits` queues at `heads`.
    ///
    /// # Safety
    ///
    /// `bits` is below `usize::BITS` and above 0, and `heads` is an array of
    /// `2^bits` wait queues, each valid for the rest of the kernel's life
    /// as [`KeyedWaitQueue::from_raw`] requires.
    pub const unsafe fn from_raw(heads: *mut bindings::wait_queue_head, bits: u32) -> Self {
        // INVARIANT: The caller guarantees the array and its size.
        Self { heads, bits }
    }

    /// Returns the slot of the table of `2^bits` queues that `key` hashes
    /// to, always below `2^bits`.
    pub fn slot(key: &WaitKey, bits: u32) -> usize {
        if bits == 0 || bits >= usize::BITS {
            return 0;
        }
        key.hash(bits)
    }

    /// Returns the queue that the waiters of `key` wait on.
    #[inline]
    pub fn queue(&self, key: &WaitKey) -> &KeyedWaitQueue {
        // `bits` is in range (type invariant): no need to check it again.
        let slot = key.hash(self.bits);
        // SAFETY: `slot` is below `2^bits`, the length of the array (type
        // invariant), so the queue is in bounds and valid as
        // `KeyedWaitQueue::from_raw` needs.
        unsafe { KeyedWaitQueue::from_raw(self.heads.add(slot)) }
    }
}
