// SPDX-License-Identifier: GPL-2.0

//! Exercises the Rust mm and DAX abstractions on real objects: the DAX device
//! of an unclaimed fsdax pmem namespace, its folios and pagemap, page faults
//! in a mapping of its memory, and a device-private pagemap whose `page_free`
//! callback is written in Rust.
//!
//! Loading the module runs the cases in the loading process (faults need its
//! memory) and prints a KTAP report; the module then stays loaded, doing
//! nothing, until it is removed.

use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use kernel::{
    c_str,
    dax::{AccessMode, BdevDax},
    mm::{
        folio::{Folio, FolioOwner},
        memremap::{DevPagemap, DevPagemapOps, FreeMemRegion, FreePage, MemoryType, Registration},
        pgtable::PMD_ORDER,
        virt::{DevmapPfn, MmapFile, VmFault, VmFaultReason, VmOperations},
    },
    page::PAGE_SIZE,
    prelude::*,
    str::CStr,
    sync::Arc,
    uaccess::UserSlice,
};

module! {
    type: RustDaxAbstractions,
    name: "rust_dax_abstractions",
    author: "Rust for Linux Contributors",
    description: "Tests of the Rust mm and DAX abstractions on pmem",
    license: "GPL",
}

/// The fsdax block devices tried, in order: the first unclaimed one is used.
const PMEM_DEVICES: [&CStr; 4] = [
    c_str!("/dev/pmem0"),
    c_str!("/dev/pmem1"),
    c_str!("/dev/pmem2"),
    c_str!("/dev/pmem3"),
];

/// Pages of the pmem device the mapping tests use: two PMDs.
const MAP_PAGES: usize = 1024;

/// The byte every test writes at `page` of the pmem device.
fn pattern(page: usize) -> u8 {
    u8::try_from(page % 251).unwrap_or(0) ^ 0x5a
}

struct Ktap {
    n: usize,
    failed: usize,
}

impl Ktap {
    fn report(&mut self, name: &str, r: Result<(), &'static str>) {
        self.n += 1;
        match r {
            Ok(()) => pr_info!("ok {} {}\n", self.n, name),
            Err(why) if why.starts_with("SKIP") => {
                pr_info!("ok {} {} # {}\n", self.n, name, why)
            }
            Err(why) => {
                self.failed += 1;
                pr_info!("not ok {} {} # {}\n", self.n, name, why)
            }
        }
    }
}

fn check(cond: bool, why: &'static str) -> Result<(), &'static str> {
    if cond {
        Ok(())
    } else {
        Err(why)
    }
}

/// The pmem pages a test mapping faults in, and what its handlers saw.
struct PmemMap {
    pfns: KVec<DevmapPfn>,
    pte_faults: AtomicUsize,
    pte_checked: AtomicUsize,
    pmd_faults: AtomicUsize,
    pmd_checked: AtomicUsize,
    pmd_refused: AtomicUsize,
}

#[vtable]
impl VmOperations for PmemMap {
    fn fault(&self, vmf: &VmFault) -> VmFaultReason {
        let Some(&pfn) = self.pfns.get(vmf.pgoff()) else {
            return VmFaultReason::SIGBUS;
        };
        let r = vmf.insert_mixed(pfn);
        self.pte_faults.fetch_add(1, Relaxed);
        if let Some(pte) = vmf.lock_pte() {
            let e = pte.entry();
            if e.is_present() && e.pfn() == pfn.pfn() {
                self.pte_checked.fetch_add(1, Relaxed);
            }
        }
        r
    }

    fn huge_fault(&self, vmf: &VmFault, order: u32) -> VmFaultReason {
        if order != PMD_ORDER {
            return VmFaultReason::FALLBACK;
        }
        let Some(huge) = vmf.pmd_fault() else {
            self.pmd_refused.fetch_add(1, Relaxed);
            return VmFaultReason::FALLBACK;
        };
        let Some(&pfn) = self.pfns.get(huge.pgoff()) else {
            return VmFaultReason::FALLBACK;
        };
        let r = match huge.insert_pfn(pfn, vmf.is_write()) {
            Ok(r) => r,
            Err(_) => return VmFaultReason::FALLBACK,
        };
        self.pmd_faults.fetch_add(1, Relaxed);
        if let Some(pmd) = vmf.lock_pmd() {
            let e = pmd.entry();
            if e.is_present() && e.is_leaf() && e.pfn() == pfn.pfn() {
                self.pmd_checked.fetch_add(1, Relaxed);
            }
        }
        r
    }
}

/// The driver data of the device-private test pagemap.
struct PrivateMem {
    frees: AtomicUsize,
    last_freed: AtomicUsize,
}

#[vtable]
impl DevPagemapOps for PrivateMem {
    fn page_free(&self, page: &FreePage) {
        self.last_freed.store(page.pfn(), Relaxed);
        self.frees.fetch_add(1, Relaxed);
    }

    fn migrate_to_ram(&self, _vmf: &VmFault) -> VmFaultReason {
        // The test never maps its device-private pages.
        VmFaultReason::SIGBUS
    }
}

/// Reads `len` bytes at `offset` of a user mapping: a real page fault.
fn read_user(addr: usize, offset: usize, len: usize) -> Result<KVec<u8>, &'static str> {
    let mut buf = KVec::from_elem(0u8, len, GFP_KERNEL).map_err(|_| "no memory")?;
    UserSlice::new(addr + offset, len)
        .reader()
        .read_slice(&mut buf)
        .map_err(|_| "reading the mapping failed (EFAULT)")?;
    Ok(buf)
}

/// A mapping of `MAP_PAGES` pmem pages, faulted through `PmemMap`.
fn map_test(t: &mut Ktap, pfns: &[DevmapPfn], pmd_capable: bool) -> Result<(), &'static str> {
    let mut v = KVec::new();
    v.extend_from_slice(pfns, GFP_KERNEL)
        .map_err(|_| "no memory")?;
    let data = Arc::new(
        PmemMap {
            pfns: v,
            pte_faults: AtomicUsize::new(0),
            pte_checked: AtomicUsize::new(0),
            pmd_faults: AtomicUsize::new(0),
            pmd_checked: AtomicUsize::new(0),
            pmd_refused: AtomicUsize::new(0),
        },
        GFP_KERNEL,
    )
    .map_err(|_| "no memory")?;
    let file = MmapFile::new(c_str!("rust_dax_test"), data.clone()).map_err(|_| "file")?;

    // PTE faults: a mapping of two pages at file page 1.
    let r = (|| {
        let map = file
            .map(2 * PAGE_SIZE, 1, true)
            .map_err(|_| "vm_mmap failed")?;
        let got = read_user(map.addr(), PAGE_SIZE + 100, 16)?;
        check(
            got.iter().all(|&b| b == pattern(2)),
            "data of pmem page 2 not seen",
        )?;
        check(data.pte_faults.load(Relaxed) == 1, "expected one PTE fault")?;
        check(
            data.pte_checked.load(Relaxed) == 1,
            "PTE under its lock is not the pfn",
        )?;
        Ok(())
    })();
    t.report("fault_pte_maps_pmem_pfn", r);

    // A PMD fault: 4 MiB from file page 0 (the file's get_unmapped_area
    // aligns the address with the offset).
    let r = (|| {
        if !pmd_capable {
            return Err("SKIP pmem pfns not PMD aligned");
        }
        let before = data.pte_faults.load(Relaxed);
        let map = file.map(4 << 20, 0, true).map_err(|_| "vm_mmap failed")?;
        check(map.addr() % (2 << 20) == 0, "mapping not PMD aligned")?;
        let got = read_user(map.addr(), 3 * PAGE_SIZE, 16)?;
        check(
            got.iter().all(|&b| b == pattern(3)),
            "data of pmem page 3 not seen",
        )?;
        let got = read_user(map.addr(), 600 * PAGE_SIZE, 16)?;
        check(
            got.iter().all(|&b| b == pattern(600)),
            "data of pmem page 600 not seen",
        )?;
        check(
            data.pmd_faults.load(Relaxed) == 2,
            "expected two PMD faults",
        )?;
        check(
            data.pmd_checked.load(Relaxed) == 2,
            "PMD under its lock is not a leaf of the pfn",
        )?;
        check(
            data.pte_faults.load(Relaxed) == before,
            "a PTE fault in a PMD mapping",
        )?;
        Ok(())
    })();
    t.report("fault_pmd_maps_aligned_range", r);

    // A mapping from file page 1: the PMD around its first page starts
    // before the VMA, so the fault context refuses a PMD and the handler
    // falls back to a PTE.
    let r = (|| {
        if !pmd_capable {
            return Err("SKIP pmem pfns not PMD aligned");
        }
        let refused = data.pmd_refused.load(Relaxed);
        let ptes = data.pte_faults.load(Relaxed);
        let map = file.map(4 << 20, 1, true).map_err(|_| "vm_mmap failed")?;
        let got = read_user(map.addr(), 0, 16)?;
        check(
            got.iter().all(|&b| b == pattern(1)),
            "data of pmem page 1 not seen",
        )?;
        check(
            data.pmd_refused.load(Relaxed) == refused + 1,
            "PMD not refused",
        )?;
        check(data.pte_faults.load(Relaxed) == ptes + 1, "no PTE fallback")?;
        Ok(())
    })();
    t.report("fault_pmd_refused_outside_vma", r);
    Ok(())
}

fn pmem_tests(t: &mut Ktap) {
    let mut found = None;
    for path in PMEM_DEVICES {
        if let Ok(dax) = BdevDax::open(path, true) {
            pr_info!("# using {}\n", path);
            found = Some((path, dax));
            break;
        }
    }
    let Some((path, dax)) = found else {
        t.report("bdev_dax_claim", Err("SKIP no unclaimed fsdax pmem device"));
        return;
    };
    let r = check(dax.is_holder(), "not the holder after a claim").and_then(|()| {
        check(
            BdevDax::open(path, true).is_err(),
            "a held device was claimed again",
        )
    });
    t.report("bdev_dax_claim", r);

    let guard = dax.read_lock();
    t.report("dax_alive", check(guard.is_alive(), "not alive"));
    let Ok(first) = usize::try_from(dax.start_offset() / PAGE_SIZE as u64) else {
        t.report("direct_access", Err("offset"));
        return;
    };
    let da = match guard.direct_access(first, MAP_PAGES, AccessMode::Access) {
        Ok(da) => da,
        Err(_) => {
            t.report("direct_access", Err("dax_direct_access failed"));
            return;
        }
    };
    t.report(
        "direct_access",
        check(da.nr_pages() == MAP_PAGES, "fewer pages than asked"),
    );

    // Write a pattern to every page, read it back.
    let r = (|| {
        for page in 0..MAP_PAGES {
            let bytes = [pattern(page); 64];
            da.write(page * PAGE_SIZE, &bytes).map_err(|_| "write")?;
            da.write(page * PAGE_SIZE + 100, &bytes)
                .map_err(|_| "write")?;
        }
        let mut buf = [0u8; 64];
        for page in [0, 1, 511, 512, MAP_PAGES - 1] {
            da.read(page * PAGE_SIZE, &mut buf).map_err(|_| "read")?;
            check(buf.iter().all(|&b| b == pattern(page)), "read back differs")?;
        }
        check(
            da.write(MAP_PAGES * PAGE_SIZE - 8, &buf).is_err(),
            "write past the mapping",
        )?;
        Ok(())
    })();
    t.report("direct_access_write_read", r);

    // Zero a page, then rewrite it through the recovery path.
    let r = (|| {
        let page = MAP_PAGES - 1;
        guard
            .zero_page_range(first + page, 1)
            .map_err(|_| "zero_page_range")?;
        let mut buf = [0xffu8; 64];
        da.read(page * PAGE_SIZE, &mut buf).map_err(|_| "read")?;
        check(buf.iter().all(|&b| b == 0), "page not zeroed")?;
        let rw = guard
            .direct_access(first + page, 1, AccessMode::RecoveryWrite)
            .map_err(|_| "direct_access for recovery")?;
        let bytes = [pattern(page); PAGE_SIZE];
        let n = rw.recovery_write(0, &bytes).map_err(|_| "recovery_write")?;
        check(n == PAGE_SIZE, "recovery_write wrote less")?;
        da.read(page * PAGE_SIZE + 100, &mut buf)
            .map_err(|_| "read")?;
        check(
            buf.iter().all(|&b| b == pattern(page)),
            "recovery_write data not read back",
        )
    })();
    t.report("zero_page_range_and_recovery_write", r);

    let Ok(pfn0) = da.devmap_pfn(0) else {
        t.report("pmem_folio", Err("pmem without a memory map (raw mode)"));
        return;
    };

    // The folio and pagemap of a pmem page.
    let r = (|| {
        let folio = Folio::try_get_from_pfn(pfn0.pfn()).ok_or("no folio for a pmem pfn")?;
        check(folio.is_zone_device(), "not ZONE_DEVICE")?;
        check(folio.is_fsdax(), "not FS DAX")?;
        check(
            !folio.is_longterm_pinnable(),
            "FS DAX folio is longterm pinnable",
        )?;
        check(
            folio.owner() == FolioOwner::None,
            "unmapped pmem has an owner",
        )?;
        let refs = folio.ref_count();
        let again = folio.clone();
        check(
            again.ref_count() == refs + 1,
            "a folio reference did not count",
        )?;
        drop(again);
        check(
            folio.ref_count() == refs,
            "a folio reference was not dropped",
        )?;
        let pgmap = DevPagemap::get(pfn0.pfn()).ok_or("no pagemap for a pmem pfn")?;
        check(
            pgmap.memory_type() == Some(MemoryType::FsDax),
            "pagemap not FS DAX",
        )?;
        check(
            pgmap.contains_pfn(pfn0.pfn()),
            "pagemap does not cover its pfn",
        )?;
        check(pgmap.ranges().count() >= 1, "pagemap without a range")?;
        check(
            pgmap.folio_order() == folio.order(),
            "folio order is not the pagemap's",
        )
    })();
    t.report("pmem_folio_and_pagemap", r);

    let mut pfns = KVec::new();
    for i in 0..MAP_PAGES {
        match da.devmap_pfn(i) {
            Ok(p) => {
                if pfns.push(p, GFP_KERNEL).is_err() {
                    t.report("fault_setup", Err("no memory"));
                    return;
                }
            }
            Err(_) => {
                t.report("fault_setup", Err("devmap_pfn failed"));
                return;
            }
        }
    }
    let pmd_capable = pfn0.is_aligned(PMD_ORDER);
    drop(guard);
    if let Err(why) = map_test(t, &pfns, pmd_capable) {
        t.report("fault_setup", Err(why));
    }

    // Dropping the handle releases the claim: it can be claimed again.
    drop(dax);
    let r = check(
        BdevDax::open(path, true).is_ok_and(|d| d.is_holder()),
        "cannot claim again after a release",
    );
    t.report("bdev_dax_release", r);
}

fn private_pagemap_tests(t: &mut Ktap) {
    let r = (|| {
        let region = FreeMemRegion::request(2 << 20, c_str!("rust_dax_test"))
            .map_err(|_| "request_free_mem_region failed")?;
        let range = region.range();
        let data = PrivateMem {
            frees: AtomicUsize::new(0),
            last_freed: AtomicUsize::new(0),
        };
        let reg = Registration::new(MemoryType::Private, range.clone(), 0, data, GFP_KERNEL)
            .map_err(|_| "memremap_pages failed")?;
        let first = usize::try_from(range.start).map_err(|_| "range")? / PAGE_SIZE;
        let pfn = first + 5;
        let pgmap = reg.pagemap();
        check(
            pgmap.memory_type() == Some(MemoryType::Private),
            "not device-private",
        )?;
        check(pgmap.contains_pfn(pfn), "pfn not in the pagemap")?;

        let folio = reg
            .try_get_free(pfn)
            .map_err(|_| "cannot hand out a free page")?;
        check(
            folio.pfn() == pfn && folio.ref_count() == 1,
            "handed out wrong",
        )?;
        check(
            folio.is_zone_device() && !folio.is_fsdax(),
            "wrong kind of folio",
        )?;
        check(
            reg.try_get_free(pfn).is_err(),
            "a page in use was handed out again",
        )?;
        check(
            reg.try_get_free(first.wrapping_sub(1)).is_err(),
            "a pfn outside the map",
        )?;
        check(
            reg.data().frees.load(Relaxed) == 0,
            "page_free before the last put",
        )?;
        drop(folio);
        check(
            reg.data().frees.load(Relaxed) == 1,
            "page_free not called at refcount 0",
        )?;
        check(
            reg.data().last_freed.load(Relaxed) == pfn,
            "page_free got another page",
        )?;
        let again = reg
            .try_get_free(pfn)
            .map_err(|_| "a freed page cannot be reused")?;
        drop(again);
        check(
            reg.data().frees.load(Relaxed) == 2,
            "second page_free missing",
        )?;
        Ok(())
    })();
    t.report("device_private_page_free", r);
}

struct RustDaxAbstractions;

impl kernel::Module for RustDaxAbstractions {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let mut t = Ktap { n: 0, failed: 0 };
        pr_info!("KTAP version 1\n");
        pmem_tests(&mut t);
        private_pagemap_tests(&mut t);
        pr_info!("1..{}\n", t.n);
        pr_info!("# {} failed\n", t.failed);
        Ok(Self)
    }
}
