// SPDX-License-Identifier: GPL-2.0

//! Device page maps: the `struct page`s of `ZONE_DEVICE` memory (pmem, DAX,
//! device-private memory).
//!
//! C header: [`include/linux/memremap.h`](srctree/include/linux/memremap.h)

use crate::{
    alloc::{Flags, KBox},
    bindings,
    error::{code::*, from_err_ptr, from_result, Result, VTABLE_DEFAULT_ERROR},
    mm::{
        folio::Folio,
        virt::{VmFault, VmFaultReason},
    },
    page::PAGE_SHIFT,
    str::CStr,
    types::{ARef, AlwaysRefCounted, Opaque},
};
use core::{marker::PhantomPinned, ops::Range, pin::Pin, ptr::NonNull};
use macros::vtable;

/// The kind of memory a device page map describes (`enum memory_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryType {
    /// Device memory the CPU cannot address (`MEMORY_DEVICE_PRIVATE`).
    Private,
    /// Device memory the CPU accesses coherently (`MEMORY_DEVICE_COHERENT`).
    Coherent,
    /// Persistent memory that a DAX file system maps (`MEMORY_DEVICE_FS_DAX`).
    FsDax,
    /// Memory that device-DAX maps like RAM (`MEMORY_DEVICE_GENERIC`).
    Generic,
    /// A PCI BAR used for peer-to-peer DMA (`MEMORY_DEVICE_PCI_P2PDMA`).
    PciP2pDma,
}

impl MemoryType {
    fn from_raw(raw: bindings::memory_type) -> Option<Self> {
        match raw {
            bindings::memory_type_MEMORY_DEVICE_PRIVATE => Some(Self::Private),
            bindings::memory_type_MEMORY_DEVICE_COHERENT => Some(Self::Coherent),
            bindings::memory_type_MEMORY_DEVICE_FS_DAX => Some(Self::FsDax),
            bindings::memory_type_MEMORY_DEVICE_GENERIC => Some(Self::Generic),
            bindings::memory_type_MEMORY_DEVICE_PCI_P2PDMA => Some(Self::PciP2pDma),
            _ => None,
        }
    }

    fn as_raw(self) -> bindings::memory_type {
        match self {
            Self::Private => bindings::memory_type_MEMORY_DEVICE_PRIVATE,
            Self::Coherent => bindings::memory_type_MEMORY_DEVICE_COHERENT,
            Self::FsDax => bindings::memory_type_MEMORY_DEVICE_FS_DAX,
            Self::Generic => bindings::memory_type_MEMORY_DEVICE_GENERIC,
            Self::PciP2pDma => bindings::memory_type_MEMORY_DEVICE_PCI_P2PDMA,
        }
    }

    /// Whether pages of this kind are handed out by their driver from a
    /// reference count of zero (and give back a pagemap reference when freed).
    fn driver_allocated(self) -> bool {
        matches!(self, Self::Private | Self::Coherent)
    }
}

/// A device page map (`struct dev_pagemap`).
///
/// It is reached through a pagemap reference ([`ARef<DevPagemap>`], from
/// [`DevPagemap::get`]) or through the [`Registration`] that owns it.
///
/// # Invariants
///
/// The inner `struct dev_pagemap` has been set up by `memremap_pages()` and
/// `memunmap_pages()` has not returned for it: its type, ranges and
/// `vmemmap_shift` are fixed and its percpu reference is initialised.
#[repr(transparent)]
pub struct DevPagemap(Opaque<bindings::dev_pagemap>);

// SAFETY: A pagemap is not tied to a thread; its reference is a percpu_ref
// that may be taken and dropped anywhere.
unsafe impl Send for DevPagemap {}

// SAFETY: The methods on `&DevPagemap` read fields that are immutable while the
// map is set up, or use the atomic percpu reference.
unsafe impl Sync for DevPagemap {}

// SAFETY: `dev_pagemap_get()` (percpu_ref_get()) and `put_dev_pagemap()` keep
// the pagemap reference that `memunmap_pages()` waits for.
unsafe impl AlwaysRefCounted for DevPagemap {
    #[inline]
    fn inc_ref(&self) {
        // SAFETY: By the type invariant the percpu reference is initialised, and
        // the caller's `&self` is backed by a reference or by the registration,
        // so it has not dropped to zero.
        unsafe { bindings::dev_pagemap_get(self.as_raw()) };
    }

    #[inline]
    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns a pagemap reference and gives it up here.
        unsafe { bindings::put_dev_pagemap(obj.cast().as_ptr()) };
    }
}

impl DevPagemap {
    /// Takes a reference to the live device page map that covers page frame
    /// `pfn`, if there is one.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::mm::{folio::Folio, memremap::DevPagemap};
    ///
    /// // RAM is not device memory.
    /// let folio = Folio::alloc(GFP_KERNEL, 0)?;
    /// assert!(DevPagemap::get(folio.pfn()).is_none());
    /// # Ok::<(), kernel::alloc::AllocError>(())
    /// ```
    pub fn get(pfn: usize) -> Option<ARef<Self>> {
        // SAFETY: `get_dev_pagemap()` accepts any pfn; without a pagemap to
        // reuse it returns a referenced, live pagemap or NULL.
        let ptr = unsafe { bindings::get_dev_pagemap(pfn, core::ptr::null_mut()) };
        let ptr = NonNull::new(ptr.cast::<Self>())?;
        // INVARIANT: `get_dev_pagemap()` only finds pagemaps between
        // `memremap_pages()` and `memunmap_pages()`.
        // SAFETY: The reference taken above is the one the `ARef` owns.
        Some(unsafe { ARef::from_raw(ptr) })
    }

    /// Creates a reference to a device page map from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a pagemap set up by `memremap_pages()` that stays set
    /// up for `'a` (the caller holds a pagemap reference, or the pagemap is the
    /// one of a page the caller is handed by the pagemap's own callbacks).
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::dev_pagemap) -> &'a Self {
        // SAFETY: `DevPagemap` is a transparent wrapper of `struct dev_pagemap`,
        // and the caller keeps it set up for `'a`.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// Returns the raw `struct dev_pagemap` pointer.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::dev_pagemap {
        self.0.get()
    }

    /// Returns the kind of memory the map describes.
    pub fn memory_type(&self) -> Option<MemoryType> {
        // SAFETY: By the type invariant the type is fixed while `self` exists.
        MemoryType::from_raw(unsafe { (*self.as_raw()).type_ })
    }

    /// Returns the order of the folios of the map (its `vmemmap_shift`): each
    /// folio spans `2^order` pages.
    pub fn folio_order(&self) -> u32 {
        // SAFETY: By the type invariant `vmemmap_shift` is fixed while `self` exists.
        let shift = unsafe { (*self.as_raw()).vmemmap_shift };
        // `memremap_pages()` refuses shifts beyond the size of a memory section.
        u32::try_from(shift).unwrap_or(u32::MAX)
    }

    /// Returns the physical address ranges of the map (end exclusive).
    pub fn ranges(&self) -> impl Iterator<Item = Range<u64>> + '_ {
        // SAFETY: By the type invariant the ranges are fixed while `self` exists.
        let nr = unsafe { (*self.as_raw()).nr_range };
        (0..usize::try_from(nr).unwrap_or(0)).map(move |i| {
            // SAFETY: `i` is below `nr_range`, the number of ranges in the
            // flexible array (which starts with the single `range`).
            let r = unsafe {
                *core::ptr::from_ref((*self.as_raw()).__bindgen_anon_1.range.as_ref()).add(i)
            };
            r.start..r.end.saturating_add(1)
        })
    }

    /// Returns whether page frame `pfn` belongs to the map.
    pub fn contains_pfn(&self, pfn: usize) -> bool {
        let Ok(pfn) = u64::try_from(pfn) else {
            return false;
        };
        self.ranges()
            .any(|r| (r.start >> PAGE_SHIFT) <= pfn && pfn < (r.end >> PAGE_SHIFT))
    }
}

/// A page of a device page map whose reference count dropped to zero, as the
/// [`DevPagemapOps::page_free`] callback sees it.
///
/// # Invariants
///
/// The inner `struct page` is a page of a device page map that is set up.
#[repr(transparent)]
pub struct FreePage(Opaque<bindings::page>);

impl FreePage {
    /// Returns the page frame number of the page.
    pub fn pfn(&self) -> usize {
        // SAFETY: By the type invariant the page has a memory map entry.
        unsafe { bindings::page_to_pfn(self.0.get()) }
    }
}

/// The callbacks of a device page map, implemented by the driver data `Self`
/// of a [`Registration`].
#[vtable]
pub trait DevPagemapOps: Send + Sync + Sized + 'static {
    /// Called once the reference count of a page of the map drops to zero: the
    /// page is free (for FS DAX, no longer mapped or pinned).
    fn page_free(&self, page: &FreePage);

    /// Device-private memory only, and required there: a CPU faulted on
    /// `vmf.page()`, which must be migrated back to system memory.
    fn migrate_to_ram(&self, _vmf: &VmFault) -> VmFaultReason {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// A memory failure hit `nr_pages` pages from `pfn`; `mf_flags` are the
    /// `MF_*` flags of `memory_failure()`.  `EOPNOTSUPP` makes the caller kill
    /// the processes that map the pages itself.
    fn memory_failure(&self, _pfn: usize, _nr_pages: usize, _mf_flags: i32) -> Result {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }
}

/// A device page map registered with `memremap_pages()`, with driver data `T`
/// whose [`DevPagemapOps`] are its callbacks.  Dropping it calls
/// `memunmap_pages()`, which waits until every pagemap reference is gone.
///
/// # Invariants
///
/// - `pgmap` is set up by `memremap_pages()` while `registered` is true, with
///   `ops` pointing to `Registration::<T>::OPS`, and stays so until `drop`.
/// - The registration is pinned (it is only handed out as `Pin<KBox<Self>>`):
///   the pagemap's address is what the callbacks are given.
#[repr(C)]
pub struct Registration<T: DevPagemapOps> {
    pgmap: Opaque<bindings::dev_pagemap>,
    data: T,
    registered: bool,
    _pin: PhantomPinned,
}

// SAFETY: The pagemap may be used from any thread, and `T` is `Send`.
unsafe impl<T: DevPagemapOps> Send for Registration<T> {}

// SAFETY: `&Registration` only gives out `&DevPagemap` (which is `Sync`) and
// `&T` (`T` is `Sync`).
unsafe impl<T: DevPagemapOps> Sync for Registration<T> {}

impl<T: DevPagemapOps> Registration<T> {
    const OPS: bindings::dev_pagemap_ops = bindings::dev_pagemap_ops {
        page_free: Some(Self::page_free_callback),
        migrate_to_ram: if T::HAS_MIGRATE_TO_RAM {
            Some(Self::migrate_to_ram_callback)
        } else {
            None
        },
        memory_failure: if T::HAS_MEMORY_FAILURE {
            Some(Self::memory_failure_callback)
        } else {
            None
        },
    };

    /// Creates struct pages for the physical range `range` as a map of kind
    /// `kind` whose folios have order `folio_order`, with `data` for its
    /// callbacks.
    ///
    /// Fails with `EINVAL` for an empty or unaligned range, for a
    /// device-private map without [`DevPagemapOps::migrate_to_ram`], for a
    /// device-private or device-coherent map with large folios, or when
    /// `memremap_pages()` refuses the range.
    pub fn new(
        kind: MemoryType,
        range: Range<u64>,
        folio_order: u32,
        data: T,
        flags: Flags,
    ) -> Result<Pin<KBox<Self>>> {
        let page_mask = (1u64 << PAGE_SHIFT) - 1;
        if range.start >= range.end || (range.start | range.end) & page_mask != 0 {
            return Err(EINVAL);
        }
        if kind == MemoryType::Private && !T::HAS_MIGRATE_TO_RAM {
            return Err(EINVAL);
        }
        // The driver hands out single pages of these kinds
        // (`try_get_free()`), so they have no compound folios.
        if kind.driver_allocated() && folio_order != 0 {
            return Err(EINVAL);
        }
        let mut this = KBox::pin(
            Self {
                // SAFETY: All-zero is a valid `struct dev_pagemap` (integers,
                // pointers and a not yet initialised percpu_ref and completion).
                pgmap: Opaque::new(unsafe { core::mem::zeroed() }),
                data,
                registered: false,
                _pin: PhantomPinned,
            },
            flags,
        )?;
        let pgmap = this.pgmap.get();
        // SAFETY: `pgmap` is valid for writes and not registered yet, so no one
        // else accesses it.
        unsafe {
            (*pgmap).type_ = kind.as_raw();
            *(*pgmap).__bindgen_anon_1.range.as_mut() = bindings::range {
                start: range.start,
                end: range.end - 1,
            };
            (*pgmap).nr_range = 1;
            (*pgmap).vmemmap_shift = folio_order as usize;
            (*pgmap).ops = &Self::OPS;
            (*pgmap).owner = pgmap.cast();
        }
        // SAFETY: The pagemap is filled in as `memremap_pages()` expects and
        // pinned in `this`; the callbacks it installs find `this.data`, which
        // is initialised.
        from_err_ptr(unsafe { bindings::memremap_pages(pgmap, bindings::NUMA_NO_NODE) })?;
        // SAFETY: Setting a plain field does not move the registration.
        unsafe { this.as_mut().get_unchecked_mut() }.registered = true;
        Ok(this)
    }

    /// Returns the registered page map.
    pub fn pagemap(&self) -> &DevPagemap {
        // SAFETY: By the type invariant the pagemap is set up until `self` is
        // dropped, which cannot happen while it is borrowed.
        unsafe { DevPagemap::from_raw(self.pgmap.get()) }
    }

    /// Returns the driver data.
    pub fn data(&self) -> &T {
        &self.data
    }

    /// Hands out the free page at `pfn` of a device-private or
    /// device-coherent map (whose driver allocates its pages): its reference
    /// count goes from zero to one, owned by the returned folio reference.
    /// When the last reference is dropped, [`DevPagemapOps::page_free`] is
    /// called.
    ///
    /// Fails with `EINVAL` for another kind of map or a pfn outside the map,
    /// and with `EBUSY` if the page is in use or the map is being torn down.
    pub fn try_get_free(&self, pfn: usize) -> Result<ARef<Folio>> {
        let pagemap = self.pagemap();
        if !pagemap
            .memory_type()
            .is_some_and(MemoryType::driver_allocated)
            || !pagemap.contains_pfn(pfn)
        {
            return Err(EINVAL);
        }
        // SAFETY: `pfn` belongs to the registered map, so it has a memory map
        // entry, initialised by `memremap_pages()`.
        let page = unsafe { bindings::pfn_to_page(pfn) };
        // SAFETY: As above; the helper raises the count only from zero, and
        // only while the pagemap is live.
        if !unsafe { bindings::zone_device_page_try_init(page) } {
            return Err(EBUSY);
        }
        // SAFETY: Maps of these kinds have order-0 folios (`new()` refuses
        // others), so `page` is its own folio; its reference count is now
        // one, which the `ARef` owns.
        Ok(unsafe { ARef::from_raw(NonNull::new_unchecked(page.cast::<Folio>())) })
    }

    /// Returns the registration whose pagemap is `pgmap`.
    ///
    /// # Safety
    ///
    /// `pgmap` must be the pagemap of a `Registration<T>` that is not dropped
    /// for `'a`.
    unsafe fn from_pgmap<'a>(pgmap: *mut bindings::dev_pagemap) -> &'a Self {
        // SAFETY: `pgmap` is the `pgmap` field of a live `Registration<T>`,
        // as the caller guarantees; `Opaque` has the layout of what it wraps.
        unsafe { &*crate::container_of!(pgmap, Self, pgmap) }
    }

    /// # Safety
    ///
    /// Only core mm calls this, through `OPS`, for a page of a registered map:
    /// `free_zone_device_folio()` runs before `memunmap_pages()` returns.
    unsafe extern "C" fn page_free_callback(page: *mut bindings::page) {
        // SAFETY: `page` is a page of a pagemap registered by this type, so its
        // pagemap pointer is set and the registration is not dropped yet.
        let this = unsafe { Self::from_pgmap(bindings::page_pgmap(page)) };
        // SAFETY: `FreePage` is a transparent wrapper of `struct page`; the page
        // belongs to a set up map for the duration of the callback.
        this.data.page_free(unsafe { &*page.cast::<FreePage>() });
    }

    /// # Safety
    ///
    /// Only core mm calls this, through `OPS`, for a fault on a device-private
    /// entry: `vmf->page` is a page of the registered map, referenced by the
    /// caller.
    unsafe extern "C" fn migrate_to_ram_callback(
        vmf: *mut bindings::vm_fault,
    ) -> bindings::vm_fault_t {
        // SAFETY: `vmf` is the fault being handled, valid for this call.
        let vmf = unsafe { VmFault::from_raw(vmf) };
        // SAFETY: The faulting page is a referenced page of a pagemap of this
        // type (the caller's contract), so the registration is live.
        let this = unsafe { Self::from_pgmap(bindings::page_pgmap(vmf.page_raw())) };
        this.data.migrate_to_ram(vmf).as_raw()
    }

    /// # Safety
    ///
    /// Only core mm calls this, through `OPS`, with a pagemap of this type that
    /// it holds a reference to.
    unsafe extern "C" fn memory_failure_callback(
        pgmap: *mut bindings::dev_pagemap,
        pfn: crate::ffi::c_ulong,
        nr_pages: crate::ffi::c_ulong,
        mf_flags: crate::ffi::c_int,
    ) -> crate::ffi::c_int {
        // SAFETY: The caller holds a reference to `pgmap`, a pagemap registered
        // by this type.
        let this = unsafe { Self::from_pgmap(pgmap) };
        from_result(|| {
            this.data.memory_failure(pfn, nr_pages, mf_flags)?;
            Ok(0)
        })
    }
}

impl<T: DevPagemapOps> Drop for Registration<T> {
    fn drop(&mut self) {
        if self.registered {
            // SAFETY: By the type invariant the pagemap was set up by
            // `memremap_pages()` and is torn down once, here.
            unsafe { bindings::memunmap_pages(self.pgmap.get()) };
        }
    }
}

/// A range of the physical address space that no memory or device uses,
/// reserved for device memory that has no physical address of its own
/// (device-private pagemaps).  Released when dropped.
///
/// # Invariants
///
/// `start..start + size` was reserved by `request_free_mem_region()`.
pub struct FreeMemRegion {
    start: u64,
    size: u64,
}

impl FreeMemRegion {
    /// Reserves `size` bytes of unused physical address space under `name`.
    pub fn request(size: usize, name: &'static CStr) -> Result<Self> {
        // SAFETY: `iomem_resource` is the root of the physical address space
        // resources; `name` lives for as long as the resource.
        let res = unsafe {
            bindings::request_free_mem_region(
                core::ptr::addr_of_mut!(bindings::iomem_resource),
                size,
                name.as_char_ptr(),
            )
        };
        let res = from_err_ptr(res)?;
        // SAFETY: `res` is the resource just requested, valid until released.
        let (start, end) = unsafe { ((*res).start, (*res).end) };
        // INVARIANT: The region was reserved above.
        Ok(Self {
            start,
            size: end - start + 1,
        })
    }

    /// Returns the physical address range of the region (end exclusive).
    pub fn range(&self) -> Range<u64> {
        self.start..self.start + self.size
    }
}

impl Drop for FreeMemRegion {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the region is reserved, and it is
        // released once.
        unsafe { bindings::release_mem_region(self.start, self.size) };
    }
}
