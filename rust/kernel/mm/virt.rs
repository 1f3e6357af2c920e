// SPDX-License-Identifier: GPL-2.0

//! Virtual memory areas and page faults: what a fault handler sees.
//!
//! A fault handler is given a [`VmFault`]: the faulting address and file
//! offset, the flags and the [`VmArea`].  It maps memory with the insertion
//! methods, which only offer a PMD or PUD sized mapping through a
//! [`HugeFault`], the proof that the huge range fits the VMA and the file
//! offset.  Page table entries are read under their page table lock
//! ([`PteGuard`], [`PmdGuard`]).
//!
//! C headers: [`include/linux/mm.h`](srctree/include/linux/mm.h),
//! [`include/linux/mm_types.h`](srctree/include/linux/mm_types.h)

use crate::{
    bindings,
    error::{code::*, from_err_ptr, Error, Result, VTABLE_DEFAULT_ERROR},
    mm::{
        folio::Folio,
        pgtable::{Pmd, Pte, PMD_ORDER, PUD_ORDER},
    },
    page::{PAGE_SHIFT, PAGE_SIZE},
    str::CStr,
    sync::{Arc, ArcBorrow},
    types::{ForeignOwnable, Opaque},
    uaccess::UserPtr,
};
use core::{marker::PhantomData, ptr::NonNull};
use macros::vtable;

/// The result of a fault handler (`vm_fault_t`): `VM_FAULT_*` bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VmFaultReason(bindings::vm_fault_t);

impl VmFaultReason {
    /// The page was mapped by the handler (`VM_FAULT_NOPAGE`).
    pub const NOPAGE: Self = Self(bindings::vm_fault_reason_VM_FAULT_NOPAGE);
    /// No memory for the mapping (`VM_FAULT_OOM`).
    pub const OOM: Self = Self(bindings::vm_fault_reason_VM_FAULT_OOM);
    /// The access must get `SIGBUS` (`VM_FAULT_SIGBUS`).
    pub const SIGBUS: Self = Self(bindings::vm_fault_reason_VM_FAULT_SIGBUS);
    /// A huge fault that should be retried with smaller pages (`VM_FAULT_FALLBACK`).
    pub const FALLBACK: Self = Self(bindings::vm_fault_reason_VM_FAULT_FALLBACK);
    /// The memory is poisoned (`VM_FAULT_HWPOISON`).
    pub const HWPOISON: Self = Self(bindings::vm_fault_reason_VM_FAULT_HWPOISON);

    /// Creates a fault result from raw `VM_FAULT_*` bits.
    pub fn from_raw(raw: bindings::vm_fault_t) -> Self {
        Self(raw)
    }

    /// Returns the raw `VM_FAULT_*` bits.
    pub fn as_raw(self) -> bindings::vm_fault_t {
        self.0
    }

    /// The fault result for an error (`vmf_error()`): `OOM` for `ENOMEM`,
    /// `SIGBUS` otherwise.
    pub fn from_error(err: Error) -> Self {
        if err == ENOMEM {
            Self::OOM
        } else {
            Self::SIGBUS
        }
    }
}

/// A page frame that may be mapped as device memory (`pfn_t` with `PFN_DEV |
/// PFN_MAP`): memory with a `ZONE_DEVICE` memory map, which core mm neither
/// reference counts nor adds to the rmap when it maps it (6.12's devmap rule).
///
/// # Invariants
///
/// The page frame belongs to `ZONE_DEVICE` memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DevmapPfn(usize);

impl DevmapPfn {
    /// The page frame of `folio`'s page `index`; `EINVAL` unless the folio is
    /// `ZONE_DEVICE` memory and has that page.
    pub fn from_folio(folio: &Folio, index: usize) -> Result<Self> {
        if !folio.is_zone_device() || index >= folio.nr_pages() {
            return Err(EINVAL);
        }
        // INVARIANT: The folio is `ZONE_DEVICE` memory.
        Ok(Self(folio.pfn() + index))
    }

    /// Creates a devmap pfn for a page frame the caller knows to be device
    /// memory.
    ///
    /// # Safety
    ///
    /// `pfn` must be `ZONE_DEVICE` memory (for instance a pfn returned by a DAX
    /// device's `direct_access`).
    pub unsafe fn new_unchecked(pfn: usize) -> Self {
        // INVARIANT: The caller guarantees it.
        Self(pfn)
    }

    /// Returns the page frame number.
    pub fn pfn(self) -> usize {
        self.0
    }

    /// Returns whether the page frame is aligned to `2^order` pages.
    pub fn is_aligned(self, order: u32) -> bool {
        self.0 & ((1 << order) - 1) == 0
    }

    fn as_pfn_t(self) -> bindings::pfn_t {
        // SAFETY: The helper only computes a value.
        unsafe { bindings::pfn_to_pfn_t_devmap(self.0) }
    }
}

/// Flags of a VMA (`vm_flags`).
pub mod flags {
    use crate::bindings;

    pub use crate::mm::pgtable::vm_flags::{READ, SHARED, WRITE};

    /// Maps raw page frames only.
    pub const PFNMAP: usize = bindings::VM_PFNMAP as usize;
    /// Maps page frames and pages.
    pub const MIXEDMAP: usize = bindings::VM_MIXEDMAP as usize;
    /// Huge pages requested with `madvise(MADV_HUGEPAGE)`.
    pub const HUGEPAGE: usize = bindings::VM_HUGEPAGE as usize;
}

/// A virtual memory area (`struct vm_area_struct`).
///
/// # Invariants
///
/// The VMA is valid and its bounds, offset and flags are stable (the mmap
/// lock or the VMA's own lock is held, as in a fault handler) for as long as
/// a `&VmArea` exists.
#[repr(transparent)]
pub struct VmArea(Opaque<bindings::vm_area_struct>);

impl VmArea {
    /// Creates a reference to a VMA from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must be a valid VMA whose mmap lock or VMA lock the caller holds
    /// for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::vm_area_struct) -> &'a Self {
        // SAFETY: `VmArea` is a transparent wrapper of `struct vm_area_struct`,
        // valid and stable for `'a` as the caller guarantees.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// Returns the raw `struct vm_area_struct` pointer.
    pub fn as_raw(&self) -> *mut bindings::vm_area_struct {
        self.0.get()
    }

    /// Returns the first address of the VMA.
    pub fn start(&self) -> usize {
        // SAFETY: By the type invariant the bounds are stable.
        unsafe { (*self.as_raw()).__bindgen_anon_1.__bindgen_anon_1.vm_start }
    }

    /// Returns the first address after the VMA.
    pub fn end(&self) -> usize {
        // SAFETY: By the type invariant the bounds are stable.
        unsafe { (*self.as_raw()).__bindgen_anon_1.__bindgen_anon_1.vm_end }
    }

    /// Returns the file offset, in pages, that [`VmArea::start`] maps.
    pub fn pgoff(&self) -> usize {
        // SAFETY: By the type invariant the offset is stable.
        unsafe { (*self.as_raw()).vm_pgoff }
    }

    /// Returns the VMA's flags (see [`flags`]).
    pub fn flags(&self) -> usize {
        // SAFETY: By the type invariant the flags are stable.
        unsafe { (*self.as_raw()).__bindgen_anon_2.vm_flags }
    }

    /// Returns whether writes reach the file (`VM_SHARED`).
    pub fn is_shared(&self) -> bool {
        self.flags() & flags::SHARED != 0
    }

    /// Returns whether the VMA maps a DAX file or device (`vma_is_dax()`).
    pub fn is_dax(&self) -> bool {
        // SAFETY: By the type invariant the VMA and its file are stable.
        unsafe { bindings::vma_is_dax(self.as_raw()) }
    }
}

/// A page fault being handled (`struct vm_fault`).
///
/// # Invariants
///
/// The fault is being handled: the structure is valid, its VMA is locked
/// (see [`VmArea`]) and its page table pointers are the ones core mm set up
/// for it, for as long as a `&VmFault` exists.
#[repr(transparent)]
pub struct VmFault(Opaque<bindings::vm_fault>);

impl VmFault {
    /// Creates a reference to a fault from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must be a fault that core mm is handling for the whole of `'a`
    /// (a pointer a `->fault`, `->huge_fault` or `->page_mkwrite` callback was
    /// given, used within the callback).
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::vm_fault) -> &'a Self {
        // SAFETY: `VmFault` is a transparent wrapper of `struct vm_fault`, valid
        // for `'a` as the caller guarantees.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// Returns the raw `struct vm_fault` pointer.
    pub fn as_raw(&self) -> *mut bindings::vm_fault {
        self.0.get()
    }

    fn raw(&self) -> &bindings::vm_fault {
        // SAFETY: By the type invariant the structure is valid; core mm does not
        // change the fields read through this while the handler runs.
        unsafe { &*self.as_raw() }
    }

    /// Returns the VMA the fault is in.
    pub fn vma(&self) -> &VmArea {
        // SAFETY: By the type invariant the VMA is locked while `self` exists.
        unsafe { VmArea::from_raw(self.raw().__bindgen_anon_1.vma) }
    }

    /// Returns the faulting address, rounded down to a page.
    pub fn address(&self) -> usize {
        self.raw().__bindgen_anon_1.address
    }

    /// Returns the file offset of the faulting page, in pages.
    pub fn pgoff(&self) -> usize {
        self.raw().__bindgen_anon_1.pgoff
    }

    /// Returns the fault's `FAULT_FLAG_*` flags.
    pub fn flags(&self) -> u32 {
        self.raw().flags
    }

    /// Returns whether the fault is a write.
    pub fn is_write(&self) -> bool {
        self.flags() & bindings::fault_flag_FAULT_FLAG_WRITE != 0
    }

    /// Returns the raw `struct page` pointer the fault is about (`vmf->page`,
    /// set for device-private faults; NULL otherwise).  An identity only.
    pub fn page_raw(&self) -> *mut bindings::page {
        self.raw().page
    }

    /// Maps `pfn` at the faulting address with a page table entry, in a
    /// `VM_MIXEDMAP` VMA (`vmf_insert_mixed()`); returns
    /// [`VmFaultReason::NOPAGE`] on success.
    pub fn insert_mixed(&self, pfn: DevmapPfn) -> VmFaultReason {
        // SAFETY: By the type invariant the VMA is locked and the address is in
        // it; `pfn` is device memory, which `vmf_insert_mixed()` maps as a
        // special entry (without a page reference) or refuses with SIGBUS.
        VmFaultReason(unsafe {
            bindings::vmf_insert_mixed(self.vma().as_raw(), self.address(), pfn.as_pfn_t())
        })
    }

    /// Checks that a mapping of order `order` (PMD or PUD) may serve this
    /// fault: the VMA is `VM_MIXEDMAP` (not `VM_PFNMAP`), the aligned range
    /// around the address lies inside it, the address and file offset have the
    /// same alignment within the range, a write fault is in a shared mapping,
    /// and the page table level exists.  Returns `None` otherwise: the handler
    /// falls back to smaller pages.
    fn huge_checks(&self, order: u32) -> bool {
        let vma = self.vma();
        let nr = 1usize << order;
        let size = nr << PAGE_SHIFT;
        let start = self.address() & !(size - 1);
        let level = if order == PMD_ORDER {
            !self.raw().pmd.is_null()
        } else {
            !self.raw().pud.is_null()
        };
        let vm_flags = vma.flags();
        level
            && vm_flags & flags::MIXEDMAP != 0
            && vm_flags & flags::PFNMAP == 0
            && (self.address() >> PAGE_SHIFT) & (nr - 1) == self.pgoff() & (nr - 1)
            && start >= vma.start()
            && start.checked_add(size).is_some_and(|end| end <= vma.end())
            && (!self.is_write() || vma.is_shared())
    }

    /// Returns the context for a PMD mapping of this fault, if one fits (see
    /// [`HugeFault`]).
    pub fn pmd_fault(&self) -> Option<HugeFault<'_, PmdLevel>> {
        // INVARIANT: Checked here.
        self.huge_checks(PMD_ORDER).then_some(HugeFault {
            vmf: self,
            _level: PhantomData,
        })
    }

    /// Returns the context for a PUD mapping of this fault, if one fits (see
    /// [`HugeFault`]).
    pub fn pud_fault(&self) -> Option<HugeFault<'_, PudLevel>> {
        // INVARIANT: Checked here.
        self.huge_checks(PUD_ORDER).then_some(HugeFault {
            vmf: self,
            _level: PhantomData,
        })
    }

    /// Locks the page table that maps the faulting address and returns its
    /// entry, or `None` if there is no page table (the PMD is empty or huge).
    pub fn lock_pte(&self) -> Option<PteGuard<'_>> {
        let pmd = self.raw().pmd;
        if pmd.is_null() {
            return None;
        }
        let mut ptl = core::ptr::null_mut();
        // SAFETY: `pmd` is the PMD core mm walked to for this fault, in the
        // faulting mm, whose mmap or VMA lock is held; the helper returns NULL
        // if it no longer points to a page table.
        let pte = unsafe {
            bindings::pte_offset_map_lock(
                (*self.vma().as_raw()).vm_mm,
                pmd,
                self.address(),
                &mut ptl,
            )
        };
        let pte = NonNull::new(pte)?;
        // INVARIANT: `pte_offset_map_lock()` mapped `pte` and took `ptl`.
        Some(PteGuard {
            pte,
            ptl,
            _vmf: PhantomData,
        })
    }

    /// Locks the PMD of the faulting address (`pmd_lock()`), or returns `None`
    /// for a fault without one (a PUD fault).
    pub fn lock_pmd(&self) -> Option<PmdGuard<'_>> {
        let pmd = NonNull::new(self.raw().pmd)?;
        // SAFETY: `pmd` is the PMD core mm walked to for this fault, in the
        // faulting mm, whose mmap or VMA lock is held.
        let ptl = unsafe { bindings::pmd_lock((*self.vma().as_raw()).vm_mm, pmd.as_ptr()) };
        // INVARIANT: `pmd_lock()` took `ptl`.
        Some(PmdGuard {
            pmd,
            ptl,
            _vmf: PhantomData,
        })
    }
}

/// A page table level at which a [`HugeFault`] maps a huge range.
pub trait HugeLevel {
    /// The order of a mapping at this level.
    const ORDER: u32;
}

/// The PMD level of a [`HugeFault`].
pub enum PmdLevel {}

impl HugeLevel for PmdLevel {
    const ORDER: u32 = PMD_ORDER;
}

/// The PUD level of a [`HugeFault`].
pub enum PudLevel {}

impl HugeLevel for PudLevel {
    const ORDER: u32 = PUD_ORDER;
}

/// A fault that may be served by one PMD (`HugeFault<'_, PmdLevel>`) or PUD
/// (`HugeFault<'_, PudLevel>`) mapping: only [`VmFault::pmd_fault`] and
/// [`VmFault::pud_fault`] create one.
///
/// # Invariants
///
/// `vmf` passed the checks of its level: the aligned huge range around the
/// address is inside the `VM_MIXEDMAP` VMA, the address and file offset have
/// the same alignment, a write fault is in a shared mapping, and the level's
/// page table pointer is set.
pub struct HugeFault<'a, L: HugeLevel> {
    vmf: &'a VmFault,
    _level: PhantomData<L>,
}

impl<L: HugeLevel> HugeFault<'_, L> {
    /// Returns the file offset, in pages, of the first page of the huge range.
    pub fn pgoff(&self) -> usize {
        self.vmf.pgoff() & !((1 << L::ORDER) - 1)
    }
}

#[cfg(CONFIG_TRANSPARENT_HUGEPAGE)]
impl HugeFault<'_, PmdLevel> {
    /// Maps the PMD-aligned `pfn` over the whole PMD range
    /// (`vmf_insert_pfn_pmd()`); `EINVAL` if `pfn` is not aligned.
    pub fn insert_pfn(&self, pfn: DevmapPfn, write: bool) -> Result<VmFaultReason> {
        if !pfn.is_aligned(PMD_ORDER) {
            return Err(EINVAL);
        }
        // SAFETY: By the type invariant the PMD range is inside the VMA, which
        // is `VM_MIXEDMAP` and not `VM_PFNMAP` (so none of the function's
        // `BUG_ON()`s fires), and `vmf->pmd` is set; `pfn` is device memory.
        Ok(VmFaultReason(unsafe {
            bindings::vmf_insert_pfn_pmd(self.vmf.as_raw(), pfn.as_pfn_t(), write)
        }))
    }
}

#[cfg(CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD)]
impl HugeFault<'_, PudLevel> {
    /// Maps the PUD-aligned `pfn` over the whole PUD range
    /// (`vmf_insert_pfn_pud()`); `EINVAL` if `pfn` is not aligned.
    pub fn insert_pfn(&self, pfn: DevmapPfn, write: bool) -> Result<VmFaultReason> {
        if !pfn.is_aligned(PUD_ORDER) {
            return Err(EINVAL);
        }
        // SAFETY: As for the PMD level, with `vmf->pud` set.
        Ok(VmFaultReason(unsafe {
            bindings::vmf_insert_pfn_pud(self.vmf.as_raw(), pfn.as_pfn_t(), write)
        }))
    }
}

/// A page table entry, mapped and locked (`pte_offset_map_lock()`); unlocked
/// when dropped.
///
/// # Invariants
///
/// `pte` is mapped and `ptl` (its page table lock) is held by this guard.
pub struct PteGuard<'a> {
    pte: NonNull<bindings::pte_t>,
    ptl: *mut bindings::spinlock_t,
    _vmf: PhantomData<&'a VmFault>,
}

impl PteGuard<'_> {
    /// Returns the entry (it cannot change while the lock is held, except for
    /// hardware-set accessed and dirty bits).
    pub fn entry(&self) -> Pte {
        // SAFETY: By the type invariant the entry is mapped and locked.
        Pte::from_raw(unsafe { bindings::ptep_get(self.pte.as_ptr()) })
    }
}

impl Drop for PteGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the entry is mapped and locked; both
        // are undone once, here.
        unsafe { bindings::pte_unmap_unlock(self.pte.as_ptr(), self.ptl) };
    }
}

/// A PMD under its page table lock (`pmd_lock()`); unlocked when dropped.
///
/// # Invariants
///
/// `ptl`, the lock of `pmd`, is held by this guard.
pub struct PmdGuard<'a> {
    pmd: NonNull<bindings::pmd_t>,
    ptl: *mut bindings::spinlock_t,
    _vmf: PhantomData<&'a VmFault>,
}

impl PmdGuard<'_> {
    /// Returns the entry (stable while the lock is held, except for
    /// hardware-set accessed and dirty bits).
    pub fn entry(&self) -> Pmd {
        // SAFETY: By the type invariant the PMD is locked; the fault's page
        // tables stay allocated while the VMA is locked.
        Pmd::from_raw(unsafe { bindings::pmdp_get(self.pmd.as_ptr()) })
    }
}

impl Drop for PmdGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the lock is held; it is released once.
        unsafe { bindings::spin_unlock(self.ptl) };
    }
}

/// The fault callbacks of a mapping (`struct vm_operations_struct`), for the
/// data `Self` a VMA points to.
#[vtable]
pub trait VmOperations: Send + Sync + Sized + 'static {
    /// A page fault at `vmf.address()`.
    fn fault(&self, vmf: &VmFault) -> VmFaultReason;

    /// A fault that may be served by a mapping of `order` (PMD or PUD);
    /// [`VmFaultReason::FALLBACK`] asks for a smaller one.
    fn huge_fault(&self, _vmf: &VmFault, _order: u32) -> VmFaultReason {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }
}

struct VmOpsTable<T: VmOperations>(PhantomData<T>);

impl<T: VmOperations> VmOpsTable<T> {
    const VM_OPS: bindings::vm_operations_struct = bindings::vm_operations_struct {
        fault: Some(Self::fault_callback),
        huge_fault: if T::HAS_HUGE_FAULT {
            Some(Self::huge_fault_callback)
        } else {
            None
        },
        // SAFETY: All-zero is a valid `vm_operations_struct` (no callbacks).
        ..unsafe { core::mem::zeroed() }
    };

    const FOPS: bindings::file_operations = bindings::file_operations {
        owner: core::ptr::null_mut(),
        mmap: Some(Self::mmap_callback),
        #[cfg(CONFIG_TRANSPARENT_HUGEPAGE)]
        // Align mappings of 2 MiB and more to the file offset, so PMD faults can map them.
        get_unmapped_area: Some(bindings::thp_get_unmapped_area),
        release: Some(Self::release_callback),
        // SAFETY: All-zero is a valid `file_operations` (no callbacks).
        ..unsafe { core::mem::zeroed() }
    };

    /// # Safety
    ///
    /// `vmf` is a fault being handled in a VMA of an [`MmapFile<T>`], whose
    /// private data is the file's `Arc<T>` (kept by the VMA's file reference).
    unsafe fn data<'a>(vmf: *mut bindings::vm_fault) -> (&'a VmFault, ArcBorrow<'a, T>) {
        // SAFETY: `vmf` is the fault being handled, as the caller guarantees.
        let vmf = unsafe { VmFault::from_raw(vmf) };
        // SAFETY: The VMA's private data is the `Arc<T>` of the file it maps
        // (from `into_foreign()`), which the VMA keeps open for `'a`.
        let data = unsafe { Arc::<T>::borrow((*vmf.vma().as_raw()).vm_private_data) };
        (vmf, data)
    }

    /// # Safety
    ///
    /// Only core mm calls this, through `VM_OPS`, as the fault handler.
    unsafe extern "C" fn fault_callback(vmf: *mut bindings::vm_fault) -> bindings::vm_fault_t {
        // SAFETY: Core mm passes a fault in a VMA `mmap_callback` set up.
        let (vmf, data) = unsafe { Self::data(vmf) };
        data.fault(vmf).as_raw()
    }

    /// # Safety
    ///
    /// Only core mm calls this, through `VM_OPS`, as the huge fault handler.
    unsafe extern "C" fn huge_fault_callback(
        vmf: *mut bindings::vm_fault,
        order: crate::ffi::c_uint,
    ) -> bindings::vm_fault_t {
        // SAFETY: Core mm passes a fault in a VMA `mmap_callback` set up.
        let (vmf, data) = unsafe { Self::data(vmf) };
        data.huge_fault(vmf, order).as_raw()
    }

    /// # Safety
    ///
    /// Only the VFS calls this, through `FOPS`, for a file made by
    /// [`MmapFile::new`], whose private data is an `Arc<T>`.
    unsafe extern "C" fn mmap_callback(
        file: *mut bindings::file,
        vma: *mut bindings::vm_area_struct,
    ) -> crate::ffi::c_int {
        // SAFETY: `vma` is being set up by `mmap()` for `file`: it is not yet
        // visible to anyone else, so its flags and callbacks may be set.
        unsafe {
            bindings::vm_flags_set(vma, flags::MIXEDMAP | flags::HUGEPAGE);
            (*vma).vm_ops = &Self::VM_OPS;
            (*vma).vm_private_data = (*file).private_data;
        }
        0
    }

    /// # Safety
    ///
    /// Only the VFS calls this, through `FOPS`, when the last reference to a
    /// file made by [`MmapFile::new`] goes.
    unsafe extern "C" fn release_callback(
        _inode: *mut bindings::inode,
        file: *mut bindings::file,
    ) -> crate::ffi::c_int {
        // SAFETY: The private data is the `Arc<T>` `MmapFile::new` converted
        // with `into_foreign()`; no VMA maps the file any more, so this is its
        // last user.
        drop(unsafe { Arc::<T>::from_foreign((*file).private_data) });
        0
    }
}

/// An anonymous file whose mappings fault through `T`'s [`VmOperations`]
/// (`VM_MIXEDMAP | VM_HUGEPAGE`), for drivers and tests that map device
/// memory into a process.
///
/// # Invariants
///
/// `file` is a file made by `anon_inode_getfile()` with `VmOpsTable::<T>::FOPS`
/// and an `Arc<T>` as private data; this holds one reference to it.
pub struct MmapFile<T: VmOperations> {
    file: NonNull<bindings::file>,
    _data: PhantomData<T>,
}

// SAFETY: A file reference may be used and dropped on any thread; `T` is
// `Send + Sync`.
unsafe impl<T: VmOperations> Send for MmapFile<T> {}

// SAFETY: `&MmapFile` only maps the file, which is thread-safe.
unsafe impl<T: VmOperations> Sync for MmapFile<T> {}

impl<T: VmOperations> MmapFile<T> {
    /// Creates the file, named `name` (as in `/proc/self/maps`), with `data`.
    pub fn new(name: &'static CStr, data: Arc<T>) -> Result<Self> {
        let private = data.into_foreign();
        // SAFETY: `name` is a static string; `FOPS` is static; the file's
        // release callback takes the private data back.
        let file = unsafe {
            bindings::anon_inode_getfile(
                name.as_char_ptr(),
                &VmOpsTable::<T>::FOPS,
                private.cast_mut(),
                bindings::O_RDWR.try_into()?,
            )
        };
        match from_err_ptr(file) {
            // INVARIANT: The file was made above, with `FOPS` and the `Arc<T>`.
            Ok(file) => Ok(Self {
                // SAFETY: `from_err_ptr()` let only a valid pointer through.
                file: unsafe { NonNull::new_unchecked(file) },
                _data: PhantomData,
            }),
            Err(e) => {
                // SAFETY: The file was not made, so the `Arc` is still ours.
                drop(unsafe { Arc::<T>::from_foreign(private) });
                Err(e)
            }
        }
    }

    /// Maps `len` bytes of the file from file offset `pgoff` (in pages) into
    /// the current process, shared or private, readable and writable
    /// (`vm_mmap()`).  `EINVAL` from a kernel thread, which has no process
    /// memory.
    pub fn map(&self, len: usize, pgoff: usize, shared: bool) -> Result<UserMapping> {
        let offset = pgoff.checked_mul(PAGE_SIZE).ok_or(EINVAL)?;
        let flags = if shared {
            bindings::MAP_SHARED
        } else {
            bindings::MAP_PRIVATE
        };
        // SAFETY: `vm_mmap()` may be called for any file in process context;
        // the helper checks that there is a process mm.
        let addr = unsafe {
            bindings::vm_mmap_current(
                self.file.as_ptr(),
                len,
                (bindings::PROT_READ | bindings::PROT_WRITE) as usize,
                flags as usize,
                offset,
            )
        };
        // `IS_ERR_VALUE()`: the last page of the address space holds errnos.
        if addr > usize::MAX - MAX_ERRNO {
            let errno = i32::try_from(addr.wrapping_neg()).map_err(|_| EINVAL)?;
            return Err(Error::from_errno(-errno));
        }
        Ok(UserMapping {
            addr,
            len,
            // SAFETY: The helper reads `current->mm` of the calling task.
            mm: unsafe { bindings::current_mm() },
            _not_send: PhantomData,
        })
    }
}

impl<T: VmOperations> Drop for MmapFile<T> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant this owns a file reference, dropped once.
        unsafe { bindings::fput(self.file.as_ptr()) };
    }
}

/// The largest errno an address-returning function encodes (`MAX_ERRNO`).
const MAX_ERRNO: usize = 4095;

/// A range of the current process's memory mapped by [`MmapFile::map`];
/// unmapped (`vm_munmap()`) when dropped by the same process.  It is not
/// `Send`: unmapping goes to the current process's memory.
pub struct UserMapping {
    addr: usize,
    len: usize,
    mm: *mut bindings::mm_struct,
    _not_send: PhantomData<*mut ()>,
}

impl UserMapping {
    /// Returns the user address of the mapping.
    pub fn addr(&self) -> UserPtr {
        self.addr
    }

    /// Returns the length of the mapping in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Returns whether the mapping is empty (it never is).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for UserMapping {
    fn drop(&mut self) {
        // SAFETY: The helper unmaps the range only if the current process's mm
        // is the one it was mapped in (`mm` is compared, never dereferenced);
        // unmapping user memory cannot break kernel memory safety.
        unsafe { bindings::vm_munmap_mm(self.mm, self.addr, self.len) };
    }
}
