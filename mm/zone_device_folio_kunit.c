// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of compound ZONE_DEVICE folios: zone_device_folio_init() and
 * zone_device_folio_split() on the struct pages of a device-private
 * pagemap made for the test (its pages are never mapped or handed out).
 */
#include <kunit/test.h>
#include <linux/ioport.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/rmap.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "internal.h"

static void zdf_page_free(struct page *page)
{
}

static vm_fault_t zdf_migrate_to_ram(struct vm_fault *vmf)
{
	return VM_FAULT_SIGBUS;
}

static const struct dev_pagemap_ops zdf_ops = {
	.page_free	= zdf_page_free,
	.migrate_to_ram	= zdf_migrate_to_ram,
};

/* rmap changes are made under a page table lock */
static DEFINE_SPINLOCK(zdf_ptl);

struct zdf_ctx {
	struct resource *res;
	struct dev_pagemap pgmap;
	unsigned long first_pfn;
};

static int zdf_init(struct kunit *test)
{
	struct zdf_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	void *addr;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	/* twice a PUD, so that a PUD-aligned run of pages lies inside */
	ctx->res = request_free_mem_region(&iomem_resource, 2 * PUD_SIZE,
					   "zone_device_folio_kunit");
	if (IS_ERR(ctx->res))
		kunit_skip(test, "no free physical address space: %ld",
			   PTR_ERR(ctx->res));
	ctx->pgmap.type = MEMORY_DEVICE_PRIVATE;
	ctx->pgmap.range.start = ctx->res->start;
	ctx->pgmap.range.end = ctx->res->end;
	ctx->pgmap.nr_range = 1;
	ctx->pgmap.ops = &zdf_ops;
	ctx->pgmap.owner = ctx;
	addr = memremap_pages(&ctx->pgmap, NUMA_NO_NODE);
	if (IS_ERR(addr)) {
		release_mem_region(ctx->res->start, resource_size(ctx->res));
		KUNIT_FAIL(test, "memremap_pages: %ld", PTR_ERR(addr));
		return PTR_ERR(addr);
	}
	ctx->first_pfn = ALIGN(PHYS_PFN(ctx->res->start), PUD_SIZE >> PAGE_SHIFT);
	test->priv = ctx;
	return 0;
}

static void zdf_exit(struct kunit *test)
{
	struct zdf_ctx *ctx = test->priv;

	if (!ctx)
		return;
	memunmap_pages(&ctx->pgmap);
	release_mem_region(ctx->res->start, resource_size(ctx->res));
}

/*
 * Make a folio of @order from @pfn, check it is one folio whose every page
 * finds the pagemap, give it an owner as FS DAX would, split it, and check
 * that every struct page is byte for byte what it was before.
 */
static void zdf_init_split(struct kunit *test, unsigned long pfn,
			   unsigned int order)
{
	struct zdf_ctx *ctx = test->priv;
	unsigned long i, nr = 1UL << order;
	struct page *head = pfn_to_page(pfn), *before;
	struct folio *folio = page_folio(head);

	before = kvmalloc_array(nr, sizeof(*before), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, before);
	for (i = 0; i < nr; i++)
		before[i] = *pfn_to_page(pfn + i);

	KUNIT_ASSERT_EQ(test, zone_device_folio_init(folio, order), 0);
	KUNIT_EXPECT_EQ(test, folio_order(folio), order);
	KUNIT_EXPECT_EQ(test, folio_nr_pages(folio), nr);
	KUNIT_EXPECT_TRUE(test, folio_test_large(folio));
	for (i = 1; i < nr; i++) {
		struct page *p = pfn_to_page(pfn + i);

		if (page_folio(p) != folio || !PageTail(p) ||
		    page_pgmap(p) != &ctx->pgmap) {
			KUNIT_FAIL(test, "page %lu: folio %p, want %p; tail %d; pgmap %p",
				   i, page_folio(p), folio, PageTail(p),
				   page_pgmap(p));
			break;
		}
	}
	KUNIT_EXPECT_PTR_EQ(test, page_pgmap(head), &ctx->pgmap);

	/* an owner, as FS DAX would set it */
	folio->mapping = (struct address_space *)&ctx->pgmap;
	folio->index = 42;

	zone_device_folio_split(folio);
	for (i = 0; i < nr; i++) {
		struct page *p = pfn_to_page(pfn + i);

		if (memcmp(p, &before[i], sizeof(*p))) {
			KUNIT_FAIL(test, "page %lu changed: flags %#lx (%#lx) pgmap %p (%p)",
				   i, p->flags, before[i].flags, p->pgmap,
				   before[i].pgmap);
			KUNIT_FAIL(test, "  mapping %p index %lu private %#lx",
				   p->mapping, p->index, page_private(p));
			break;
		}
	}
	KUNIT_EXPECT_EQ(test, folio_order(page_folio(pfn_to_page(pfn + 1))), 0);
	KUNIT_EXPECT_FALSE(test, PageLocked(pfn_to_page(pfn + 1)));
	kvfree(before);
}

static void zdf_pmd_folio(struct kunit *test)
{
	struct zdf_ctx *ctx = test->priv;

	zdf_init_split(test, ctx->first_pfn + (PMD_SIZE >> PAGE_SHIFT),
		       PMD_SHIFT - PAGE_SHIFT);
}

static void zdf_pud_folio(struct kunit *test)
{
	struct zdf_ctx *ctx = test->priv;

	zdf_init_split(test, ctx->first_pfn, PUD_SHIFT - PAGE_SHIFT);
}

/* the same pages, PMD then PUD then PMD: nothing is left over */
static void zdf_reuse(struct kunit *test)
{
	struct zdf_ctx *ctx = test->priv;

	zdf_init_split(test, ctx->first_pfn, PMD_SHIFT - PAGE_SHIFT);
	zdf_init_split(test, ctx->first_pfn, PUD_SHIFT - PAGE_SHIFT);
	zdf_init_split(test, ctx->first_pfn, PMD_SHIFT - PAGE_SHIFT);
}

static void zdf_refused(struct kunit *test)
{
	struct zdf_ctx *ctx = test->priv;
	unsigned long pfn = ctx->first_pfn;
	struct folio *folio = page_folio(pfn_to_page(pfn));

	/* misaligned for the order */
	KUNIT_EXPECT_EQ(test, zone_device_folio_init(page_folio(pfn_to_page(pfn + 1)),
						     PMD_SHIFT - PAGE_SHIFT),
			-EINVAL);
	/* larger than a PUD */
	KUNIT_EXPECT_EQ(test, zone_device_folio_init(folio, PUD_SHIFT - PAGE_SHIFT + 1),
			-EINVAL);
	KUNIT_EXPECT_FALSE(test, folio_test_large(folio));
	/* already large */
	KUNIT_ASSERT_EQ(test, zone_device_folio_init(folio, PMD_SHIFT - PAGE_SHIFT), 0);
	KUNIT_EXPECT_EQ(test, zone_device_folio_init(folio, PMD_SHIFT - PAGE_SHIFT), -EINVAL);
	zone_device_folio_split(folio);
	KUNIT_EXPECT_FALSE(test, folio_test_large(folio));
	/* order 0 is a no-op */
	KUNIT_EXPECT_EQ(test, zone_device_folio_init(folio, 0), 0);
	KUNIT_EXPECT_FALSE(test, folio_test_large(folio));
}

/*
 * A PUD mapping of a PUD-sized folio in the rmap: one "entire" mapping
 * that maps every page; removing it unmaps them all.
 */
static void zdf_pud_rmap(struct kunit *test)
{
	struct zdf_ctx *ctx = test->priv;
	struct folio *folio = page_folio(pfn_to_page(ctx->first_pfn));
	struct vm_area_struct *vma = kunit_kzalloc(test, sizeof(*vma), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, vma);
	KUNIT_ASSERT_EQ(test, zone_device_folio_init(folio, PUD_SHIFT - PAGE_SHIFT), 0);
	KUNIT_EXPECT_FALSE(test, folio_mapped(folio));

	spin_lock(&zdf_ptl);
	folio_add_file_rmap_pud(folio, &folio->page, vma);
	spin_unlock(&zdf_ptl);
	KUNIT_EXPECT_EQ(test, folio_entire_mapcount(folio), 1);
	KUNIT_EXPECT_EQ(test, folio_mapcount(folio), 1);
	KUNIT_EXPECT_TRUE(test, folio_mapped(folio));
	KUNIT_EXPECT_EQ(test, atomic_read(&folio->_nr_pages_mapped), ENTIRELY_MAPPED);

	spin_lock(&zdf_ptl);
	folio_remove_rmap_pud(folio, &folio->page, vma);
	spin_unlock(&zdf_ptl);
	KUNIT_EXPECT_EQ(test, folio_entire_mapcount(folio), 0);
	KUNIT_EXPECT_EQ(test, folio_mapcount(folio), 0);
	KUNIT_EXPECT_FALSE(test, folio_mapped(folio));
	KUNIT_EXPECT_EQ(test, atomic_read(&folio->_nr_pages_mapped), 0);

	zone_device_folio_split(folio);
}

static struct kunit_case zdf_cases[] = {
	KUNIT_CASE(zdf_pmd_folio),
	KUNIT_CASE(zdf_pud_folio),
	KUNIT_CASE(zdf_pud_rmap),
	KUNIT_CASE(zdf_reuse),
	KUNIT_CASE(zdf_refused),
	{}
};

static struct kunit_suite zdf_suite = {
	.name		= "zone_device_folio",
	.init		= zdf_init,
	.exit		= zdf_exit,
	.test_cases	= zdf_cases,
};

kunit_test_suite(zdf_suite);

MODULE_DESCRIPTION("KUnit tests of compound ZONE_DEVICE folios");
MODULE_LICENSE("GPL");
