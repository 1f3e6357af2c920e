// SPDX-License-Identifier: GPL-2.0
/*
 * The C part of the Rust DAX core: with CONFIG_FS_DAX_RUST, fs/dax.c is not
 * built, and this file provides what the crate in fs/dax_rs/ cannot.
 *
 * - The fs_dax tracepoints.  Rust in 6.12 can neither define a tracepoint
 *   nor hit one, so they are defined here, and the crate hits them through
 *   the small wrappers below.  Where a wrapper would cost a call on every
 *   fault or writeback, the C entry point stays here instead and hits the
 *   tracepoints around its Rust body: dax_iomap_fault() and
 *   dax_writeback_mapping_range().
 * - The hashed wait queues of DAX entries and the owner locks of FS DAX
 *   folios, which fs/dax_rs/ffi.rs uses by these names.
 * - The exports of the Rust functions for filesystem modules.
 */

#include <linux/dax.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/pfn_t.h>
#include <linux/writeback.h>

#define CREATE_TRACE_POINTS
#include <trace/events/fs_dax.h>

#include "dax_rs.h"

wait_queue_head_t dax_wait_table[DAX_WAIT_TABLE_ENTRIES];

/* Before any filesystem is mounted, so before any DAX entry can exist */
static int __init dax_rs_init_wait_table(void)
{
	unsigned int i;

	for (i = 0; i < DAX_WAIT_TABLE_ENTRIES; i++)
		init_waitqueue_head(&dax_wait_table[i]);
	return 0;
}
fs_initcall(dax_rs_init_wait_table);

/* What the owner locks serialise, and how they nest: dax_rs.h */
spinlock_t dax_owner_locks[DAX_OWNER_LOCKS] = {
	[0 ... DAX_OWNER_LOCKS - 1] = __SPIN_LOCK_UNLOCKED(dax_owner_locks)
};

/*
 * Handle a DAX fault of @order with fs/dax_rs/'s fault paths, hitting the
 * fs_dax fault tracepoints around them: in C a tracepoint that is off costs
 * a branch patched out of the code, in Rust a call to find that out.
 * Arguments and results are those of dax_iomap_fault() in either core.
 */
vm_fault_t dax_iomap_fault(struct vm_fault *vmf, unsigned int order,
			   pfn_t *pfnp, int *iomap_errp,
			   const struct iomap_ops *ops)
{
	struct inode *inode = vmf->vma->vm_file->f_mapping->host;
	vm_fault_t ret;
#ifdef CONFIG_FS_DAX_PMD
	pgoff_t max_pgoff;
#endif

	if (order == 0) {
		trace_dax_pte_fault(inode, vmf, 0);
		ret = dax_rs_pte_fault(vmf, pfnp, iomap_errp, ops);
		trace_dax_pte_fault_done(inode, vmf, ret);
		return ret;
	}
#ifdef CONFIG_FS_DAX_PMD
	if (order == PMD_ORDER) {
		/* the filesystem's locks keep truncation out: the size holds */
		max_pgoff = DIV_ROUND_UP(i_size_read(inode), PAGE_SIZE);
		trace_dax_pmd_fault(inode, vmf, max_pgoff, 0);
		ret = dax_rs_pmd_fault(vmf, max_pgoff, pfnp, ops);
		trace_dax_pmd_fault_done(inode, vmf, max_pgoff, ret);
		return ret;
	}
#endif
	return VM_FAULT_FALLBACK;
}
EXPORT_SYMBOL_GPL(dax_iomap_fault);

/*
 * Write the pages of @mapping that were written through its mappings back
 * to the persistent domain, within the byte range of @wbc.  This checks the
 * request, tags the entries to write back and hits the tracepoints of the
 * range; fs/dax_rs/ writes the tagged entries back.
 */
int dax_writeback_mapping_range(struct address_space *mapping,
				struct dax_device *dax_dev,
				struct writeback_control *wbc)
{
	struct inode *inode = mapping->host;
	pgoff_t index = wbc->range_start >> PAGE_SHIFT;
	pgoff_t end = wbc->range_end >> PAGE_SHIFT;
	int ret;

	if (WARN_ON_ONCE(inode->i_blkbits != PAGE_SHIFT))
		return -EIO;
	if (mapping_empty(mapping) || wbc->sync_mode != WB_SYNC_ALL)
		return 0;

	trace_dax_writeback_range(inode, index, end);
	tag_pages_for_writeback(mapping, index, end);
	ret = dax_rs_writeback_range(mapping, dax_dev, &index, end);
	if (ret < 0)
		mapping_set_error(mapping, ret);
	trace_dax_writeback_range_done(inode, index, end);
	return ret;
}
EXPORT_SYMBOL_GPL(dax_writeback_mapping_range);

/* The tracepoints the crate hits, one wrapper each (see ffi.rs) */

void dax_rs_trace_load_hole(struct inode *inode, struct vm_fault *vmf,
			    vm_fault_t result)
{
	trace_dax_load_hole(inode, vmf, result);
}

void dax_rs_trace_pmd_load_hole(struct inode *inode, struct vm_fault *vmf,
				struct folio *zero_folio, void *entry,
				bool fallback)
{
	if (fallback)
		trace_dax_pmd_load_hole_fallback(inode, vmf, zero_folio, entry);
	else
		trace_dax_pmd_load_hole(inode, vmf, zero_folio, entry);
}

void dax_rs_trace_insert_pfn_mkwrite(struct inode *inode, struct vm_fault *vmf,
				     vm_fault_t result)
{
	trace_dax_insert_pfn_mkwrite(inode, vmf, result);
}

void dax_rs_trace_insert_pfn_mkwrite_no_entry(struct inode *inode,
					      struct vm_fault *vmf,
					      vm_fault_t result)
{
	trace_dax_insert_pfn_mkwrite_no_entry(inode, vmf, result);
}

void dax_rs_trace_writeback_one(struct inode *inode, pgoff_t index,
				pgoff_t count)
{
	trace_dax_writeback_one(inode, index, count);
}

/*
 * The functions of fs/dax_rs/ffi.rs that modules call.  Each
 * export follows a note of what it is for, as they cannot follow their
 * definitions.
 */

/* layout.rs: before a filesystem frees or moves blocks */
EXPORT_SYMBOL_GPL(dax_layout_busy_page_range);
/* layout.rs: the same, for the whole file */
EXPORT_SYMBOL_GPL(dax_layout_busy_page);
/* layout.rs: the entries of a range that was unmapped */
EXPORT_SYMBOL_GPL(dax_delete_mapping_range);
/* layout.rs: unmap a range and wait until its pages are idle */
EXPORT_SYMBOL_GPL(dax_break_layout);
/* layout.rs: the same at eviction */
EXPORT_SYMBOL_GPL(dax_break_layout_final);
/* layout.rs: the page-free callback of FS DAX pagemaps */
EXPORT_SYMBOL_GPL(dax_page_free);
/* io.rs: read(2) and write(2) */
EXPORT_SYMBOL_GPL(dax_iomap_rw);
/* io.rs: zeroing a range */
EXPORT_SYMBOL_GPL(dax_zero_range);
/* io.rs: zeroing the rest of the last page at truncation */
EXPORT_SYMBOL_GPL(dax_truncate_page);
/* io.rs: unsharing reflinked blocks */
EXPORT_SYMBOL_GPL(dax_file_unshare);
/* fault.rs: the mapping of a MAP_SYNC fault after the metadata commit */
EXPORT_SYMBOL_GPL(dax_finish_sync_fault);
/* share.rs: reflink and deduplication of DAX files */
EXPORT_SYMBOL_GPL(dax_remap_file_range_prep);
