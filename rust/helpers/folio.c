// SPDX-License-Identifier: GPL-2.0

#include <linux/gfp.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/pagemap.h>

struct folio *rust_helper_folio_alloc(gfp_t gfp, unsigned int order)
{
	return folio_alloc(gfp, order);
}

void rust_helper_folio_get(struct folio *folio)
{
	folio_get(folio);
}

void rust_helper_folio_put(struct folio *folio)
{
	folio_put(folio);
}

int rust_helper_folio_ref_count(const struct folio *folio)
{
	return folio_ref_count(folio);
}

unsigned int rust_helper_folio_order(const struct folio *folio)
{
	return folio_order(folio);
}

unsigned long rust_helper_folio_pfn(struct folio *folio)
{
	return folio_pfn(folio);
}

bool rust_helper_folio_is_zone_device(const struct folio *folio)
{
	return folio_is_zone_device(folio);
}

bool rust_helper_folio_test_locked(const struct folio *folio)
{
	return folio_test_locked(folio);
}

void rust_helper_folio_lock(struct folio *folio)
{
	folio_lock(folio);
}

bool rust_helper_folio_trylock(struct folio *folio)
{
	return folio_trylock(folio);
}

struct folio *rust_helper_page_folio(struct page *page)
{
	return page_folio(page);
}

struct page *rust_helper_pfn_to_page(unsigned long pfn)
{
	return pfn_to_page(pfn);
}

bool rust_helper_folio_try_get(struct folio *folio)
{
	return folio_try_get(folio);
}

void rust_helper_put_dev_pagemap(struct dev_pagemap *pgmap)
{
	put_dev_pagemap(pgmap);
}

bool rust_helper_folio_is_fsdax(const struct folio *folio)
{
	return folio_is_fsdax(folio);
}

bool rust_helper_folio_is_longterm_pinnable(struct folio *folio)
{
	return folio_is_longterm_pinnable(folio);
}

void *rust_helper_folio_mapping_field(const struct folio *folio)
{
	return READ_ONCE(folio->mapping);
}

pgoff_t rust_helper_folio_index(const struct folio *folio)
{
	return READ_ONCE(folio->index);
}

unsigned long rust_helper_folio_dax_share(const struct folio *folio)
{
	return READ_ONCE(folio->page.share);
}
