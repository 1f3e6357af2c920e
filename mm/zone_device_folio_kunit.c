// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of compound ZONE_DEVICE folios: zone_device_folio_init() and
 * zone_device_folio_split() on the struct pages of an FS DAX pagemap made
 * for the test.  Its pages are never mapped into a page table or handed
 * to a filesystem; the test holds them at refcount 0, the rule FS DAX
 * pages follow once they are refcounted like other pages.
 */
#include <kunit/test.h>
#include <linux/gfp.h>
#include <linux/ioport.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/rmap.h>
#include <linux/slab.h>
#include <linux/vmstat.h>

#include "internal.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

struct zdf_ctx {
	struct resource *res;
	struct dev_pagemap pgmap;
	unsigned long first_pfn;	/* PUD aligned, a PUD of pages follows */
	unsigned long end_pfn;		/* the first pfn past the pagemap */
};

static void zdf_set_counts(struct zdf_ctx *ctx, int count)
{
	unsigned long pfn;

	for (pfn = PHYS_PFN(ctx->pgmap.range.start); pfn < ctx->end_pfn; pfn++)
		set_page_count(pfn_to_page(pfn), count);
}

static int zdf_init(struct kunit *test)
{
	struct zdf_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	void *addr;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	/*
	 * Two PUDs of address space (section aligned), of which the pagemap
	 * covers all but the last PMD: a PUD-aligned PUD of pages lies inside
	 * it, and the last PUD-aligned run of pages leaves it.
	 */
	ctx->res = request_free_mem_region(&iomem_resource, 2 * PUD_SIZE,
					   "zone_device_folio_kunit");
	if (IS_ERR(ctx->res))
		kunit_skip(test, "no free physical address space: %ld",
			   PTR_ERR(ctx->res));
	ctx->pgmap.type = MEMORY_DEVICE_FS_DAX;
	ctx->pgmap.range.start = ctx->res->start;
	ctx->pgmap.range.end = ctx->res->end - PMD_SIZE;
	ctx->pgmap.nr_range = 1;
	addr = memremap_pages(&ctx->pgmap, NUMA_NO_NODE);
	if (IS_ERR(addr)) {
		release_mem_region(ctx->res->start, resource_size(ctx->res));
		KUNIT_FAIL(test, "memremap_pages: %ld", PTR_ERR(addr));
		return PTR_ERR(addr);
	}
	ctx->first_pfn = ALIGN(PHYS_PFN(ctx->res->start), 1UL << PUD_ORDER);
	ctx->end_pfn = PHYS_PFN(ctx->pgmap.range.end) + 1;
	if (ctx->first_pfn + (1UL << PUD_ORDER) > ctx->end_pfn) {
		memunmap_pages(&ctx->pgmap);
		release_mem_region(ctx->res->start, resource_size(ctx->res));
		kunit_skip(test, "no PUD-aligned PUD in the free region");
	}
	/* 6.12 memmap init leaves FS DAX pages at 1 */
	zdf_set_counts(ctx, 0);
	test->priv = ctx;
	return 0;
}

static void zdf_exit(struct kunit *test)
{
	struct zdf_ctx *ctx = test->priv;

	if (!ctx)
		return;
	zdf_set_counts(ctx, 1);
	memunmap_pages(&ctx->pgmap);
	release_mem_region(ctx->res->start, resource_size(ctx->res));
}

/* Report the first word of a struct page that differs from its snapshot. */
static bool zdf_page_same(struct kunit *test, unsigned long i,
			  const struct page *p, const struct page *before)
{
	const unsigned long *now = (const unsigned long *)p;
	const unsigned long *was = (const unsigned long *)before;
	unsigned int w;

	for (w = 0; w < sizeof(*p) / sizeof(long); w++) {
		if (now[w] != was[w]) {
			KUNIT_FAIL(test, "page %lu, word %u: %#lx, was %#lx",
				   i, w, now[w], was[w]);
			return false;
		}
	}
	return true;
}

/*
 * Make a folio of @order from @pfn and check it is one folio whose every
 * page finds the pagemap.  Give it an owner and the second-page flags a
 * large folio may carry, split it, and check that every struct page is
 * word for word what it was before.  Some fields a split must not touch
 * are seeded first: driver data on the first page and a tail, an index on
 * two tails.
 */
static void zdf_init_split(struct kunit *test, unsigned long pfn,
			   unsigned int order)
{
	struct zdf_ctx *ctx = test->priv;
	unsigned long i, nr = 1UL << order;
	struct page *head = pfn_to_page(pfn), *before;
	struct folio *folio = page_folio(head);

	head->zone_device_data = ctx;
	pfn_to_page(pfn + 5)->zone_device_data = test;
	pfn_to_page(pfn + 5)->index = 5;
	pfn_to_page(pfn + 7)->index = 7;
	before = kvmalloc_array(nr, sizeof(*before), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, before);
	for (i = 0; i < nr; i++)
		before[i] = *pfn_to_page(pfn + i);

	KUNIT_ASSERT_EQ(test, zone_device_folio_init(folio, order), 0);
	KUNIT_EXPECT_EQ(test, folio_order(folio), order);
	KUNIT_EXPECT_EQ(test, folio_nr_pages(folio), nr);
	KUNIT_EXPECT_TRUE(test, folio_test_large(folio));
	KUNIT_EXPECT_PTR_EQ(test, page_pgmap(head), &ctx->pgmap);
	for (i = 1; i < nr; i++) {
		struct page *p = pfn_to_page(pfn + i);

		if (page_folio(p) != folio || !PageTail(p) ||
		    page_pgmap(p) != &ctx->pgmap) {
			KUNIT_FAIL(test, "page %lu: in folio %d, tail %d, pgmap %d",
				   i, page_folio(p) == folio, PageTail(p),
				   page_pgmap(p) == &ctx->pgmap);
			break;
		}
	}

	/* an owner, as FS DAX sets it, and second-page flags */
	folio->mapping = (struct address_space *)&ctx->pgmap;
	folio->index = 42;
	folio->_flags_1 |= PAGE_FLAGS_SECOND & ~0xffUL;

	KUNIT_ASSERT_EQ(test, zone_device_folio_split(folio), 0);
	for (i = 0; i < nr; i++) {
		if (!zdf_page_same(test, i, pfn_to_page(pfn + i), &before[i]))
			break;
	}
	KUNIT_EXPECT_EQ(test, folio_order(page_folio(pfn_to_page(pfn + 1))), 0);
	KUNIT_EXPECT_FALSE(test, PageLocked(pfn_to_page(pfn + 1)));
	kvfree(before);
	head->zone_device_data = NULL;
	pfn_to_page(pfn + 5)->zone_device_data = NULL;
}

static void zdf_pmd_folio(struct kunit *test)
{
	struct zdf_ctx *ctx = test->priv;

	zdf_init_split(test, ctx->first_pfn + (1UL << PMD_ORDER), PMD_ORDER);
}

static void zdf_pud_folio(struct kunit *test)
{
	struct zdf_ctx *ctx = test->priv;

	zdf_init_split(test, ctx->first_pfn, PUD_ORDER);
}

/* the same pages, PMD then PUD then PMD: nothing is left over */
static void zdf_reuse(struct kunit *test)
{
	struct zdf_ctx *ctx = test->priv;

	zdf_init_split(test, ctx->first_pfn, PMD_ORDER);
	zdf_init_split(test, ctx->first_pfn, PUD_ORDER);
	zdf_init_split(test, ctx->first_pfn, PMD_ORDER);
}

static void zdf_refused(struct kunit *test)
{
	struct zdf_ctx *ctx = test->priv;
	unsigned long pfn = ctx->first_pfn;
	struct folio *folio = page_folio(pfn_to_page(pfn));
	unsigned long last_pud = ALIGN_DOWN(ctx->end_pfn - 1, 1UL << PUD_ORDER);
	struct page *ram;

	/* misaligned for the order */
	KUNIT_EXPECT_EQ(test, zone_device_folio_init(page_folio(pfn_to_page(pfn + 1)),
						     PMD_ORDER), -EINVAL);
	/* larger than a PUD */
	KUNIT_EXPECT_EQ(test, zone_device_folio_init(folio, PUD_ORDER + 1), -EINVAL);
	/* a run leaving the pagemap: the last PUD-aligned one */
	KUNIT_EXPECT_EQ(test, zone_device_folio_init(page_folio(pfn_to_page(last_pud)),
						     PUD_ORDER), -EINVAL);
	KUNIT_EXPECT_FALSE(test, folio_test_large(folio));
	/* already large, and a tail page passed as a folio */
	KUNIT_ASSERT_EQ(test, zone_device_folio_init(folio, PMD_ORDER), 0);
	KUNIT_EXPECT_EQ(test, zone_device_folio_init(folio, PMD_ORDER), -EINVAL);
	KUNIT_EXPECT_EQ(test, zone_device_folio_init((struct folio *)pfn_to_page(pfn + 1), 0),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, zone_device_folio_split(folio), 0);
	KUNIT_EXPECT_FALSE(test, folio_test_large(folio));
	/* order 0 is a no-op */
	KUNIT_EXPECT_EQ(test, zone_device_folio_init(folio, 0), 0);
	KUNIT_EXPECT_FALSE(test, folio_test_large(folio));

	/* not ZONE_DEVICE */
	ram = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ram);
	KUNIT_EXPECT_EQ(test, zone_device_folio_init(page_folio(ram), 0), -EINVAL);
	__free_page(ram);

	/*
	 * Pagemaps that must not be made into folios.  The checks read the
	 * pagemap's type and vmemmap_shift only, so flip them for one call
	 * rather than create such pagemaps.
	 */
	ctx->pgmap.type = MEMORY_DEVICE_PRIVATE;
	KUNIT_EXPECT_EQ(test, zone_device_folio_init(folio, PMD_ORDER), -EINVAL);
	ctx->pgmap.type = MEMORY_DEVICE_FS_DAX;
	ctx->pgmap.vmemmap_shift = PMD_ORDER;
	KUNIT_EXPECT_EQ(test, zone_device_folio_init(folio, PMD_ORDER), -EINVAL);
	ctx->pgmap.vmemmap_shift = 0;
	KUNIT_EXPECT_FALSE(test, folio_test_large(folio));
}

static long zdf_stat(enum node_stat_item item)
{
	return global_node_page_state(item);
}

/*
 * rmap of PMD and PUD mappings of the test's folios, with no page table:
 * the mapcounts and the node counters.  rmap updates the counters with
 * the per-cpu "__" helpers, as it does under a page table lock, so keep
 * preemption off around it.  The counters move by 512 or 262144 pages;
 * the bounds leave room for whatever else the system maps meanwhile.
 */
static void zdf_rmap(struct kunit *test)
{
	struct zdf_ctx *ctx = test->priv;
	struct folio *pud = page_folio(pfn_to_page(ctx->first_pfn));
	struct folio *pmd = page_folio(pfn_to_page(ctx->first_pfn + (1UL << PUD_ORDER)));
	struct vm_area_struct *vma = kunit_kzalloc(test, sizeof(*vma), GFP_KERNEL);
	long mapped, pmdmapped;

	if (!IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE) ||
	    !IS_ENABLED(CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD))
		kunit_skip(test, "no PUD-sized THP mappings on this kernel");
	KUNIT_ASSERT_NOT_NULL(test, vma);
	if (ctx->first_pfn + (1UL << PUD_ORDER) + (1UL << PMD_ORDER) > ctx->end_pfn)
		kunit_skip(test, "no room for a PMD folio after the PUD one");
	KUNIT_ASSERT_EQ(test, zone_device_folio_init(pud, PUD_ORDER), 0);
	KUNIT_ASSERT_EQ(test, zone_device_folio_init(pmd, PMD_ORDER), 0);

	/* two PUD mappings of one folio: entire mapcount 2, 1, 0 */
	mapped = zdf_stat(NR_FILE_MAPPED);
	pmdmapped = zdf_stat(NR_FILE_PMDMAPPED);
	preempt_disable();
	folio_add_file_rmap_pud(pud, &pud->page, vma);
	folio_add_file_rmap_pud(pud, &pud->page, vma);
	preempt_enable();
	KUNIT_EXPECT_EQ(test, folio_entire_mapcount(pud), 2);
	KUNIT_EXPECT_EQ(test, folio_mapcount(pud), 2);
	KUNIT_EXPECT_EQ(test, atomic_read(&pud->_nr_pages_mapped), ENTIRELY_MAPPED);
	/* the pages count as file mapped once, not as PMD mapped */
	KUNIT_EXPECT_GT(test, zdf_stat(NR_FILE_MAPPED) - mapped, (long)HPAGE_PUD_NR / 2);
	KUNIT_EXPECT_LT(test, zdf_stat(NR_FILE_MAPPED) - mapped, (long)HPAGE_PUD_NR * 3 / 2);
	KUNIT_EXPECT_LT(test, zdf_stat(NR_FILE_PMDMAPPED) - pmdmapped, (long)HPAGE_PUD_NR / 2);

	preempt_disable();
	folio_remove_rmap_pud(pud, &pud->page, vma);
	preempt_enable();
	KUNIT_EXPECT_EQ(test, folio_entire_mapcount(pud), 1);
	KUNIT_EXPECT_TRUE(test, folio_mapped(pud));
	preempt_disable();
	folio_remove_rmap_pud(pud, &pud->page, vma);
	preempt_enable();
	KUNIT_EXPECT_EQ(test, folio_entire_mapcount(pud), 0);
	KUNIT_EXPECT_EQ(test, folio_mapcount(pud), 0);
	KUNIT_EXPECT_FALSE(test, folio_mapped(pud));
	KUNIT_EXPECT_EQ(test, atomic_read(&pud->_nr_pages_mapped), 0);
	KUNIT_EXPECT_LT(test, abs(zdf_stat(NR_FILE_MAPPED) - mapped), (long)HPAGE_PUD_NR / 2);

	/* a PMD mapping of a PMD folio counts as PMD mapped */
	pmdmapped = zdf_stat(NR_FILE_PMDMAPPED);
	preempt_disable();
	folio_add_file_rmap_pmd(pmd, &pmd->page, vma);
	preempt_enable();
	KUNIT_EXPECT_EQ(test, folio_entire_mapcount(pmd), 1);
	KUNIT_EXPECT_GT(test, zdf_stat(NR_FILE_PMDMAPPED) - pmdmapped,
			(long)HPAGE_PMD_NR / 2);
	preempt_disable();
	folio_remove_rmap_pmd(pmd, &pmd->page, vma);
	preempt_enable();
	KUNIT_EXPECT_FALSE(test, folio_mapped(pmd));

	KUNIT_EXPECT_EQ(test, zone_device_folio_split(pmd), 0);
	KUNIT_EXPECT_EQ(test, zone_device_folio_split(pud), 0);
}

static struct kunit_case zdf_cases[] = {
	KUNIT_CASE(zdf_pmd_folio),
	KUNIT_CASE(zdf_pud_folio),
	KUNIT_CASE(zdf_rmap),
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
