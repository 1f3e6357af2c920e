/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The parts of the DAX core that fs/dax_rs/ provides in Rust when
 * CONFIG_FS_DAX_RUST=y, for fs/dax.c, which then leaves its own out.
 */
#ifndef _FS_DAX_RS_H
#define _FS_DAX_RS_H

#include <linux/bits.h>
#include <linux/wait.h>
#include <linux/xarray.h>

/* 4096 queues, as the per-zone page wait tables; WAIT_TABLE_BITS in ffi.rs */
#define DAX_WAIT_TABLE_BITS 12
#define DAX_WAIT_TABLE_ENTRIES BIT(DAX_WAIT_TABLE_BITS)

/* Waiters of DAX entries, hashed by mapping and index (fs/dax.c) */
extern wait_queue_head_t dax_wait_table[DAX_WAIT_TABLE_ENTRIES];

/**
 * enum dax_wake_mode: waitqueue wakeup behaviour
 * @WAKE_ALL: wake all waiters in the waitqueue
 * @WAKE_NEXT: wake only the first waiter in the waitqueue
 */
enum dax_wake_mode {
	WAKE_ALL,
	WAKE_NEXT,
};

#ifdef CONFIG_FS_DAX_RUST
void dax_wake_entry(struct xa_state *xas, void *entry,
		    enum dax_wake_mode mode);
void *get_next_unlocked_entry(struct xa_state *xas, unsigned int order);
void *wait_entry_unlocked_exclusive(struct xa_state *xas, void *entry);
void put_unlocked_entry(struct xa_state *xas, void *entry,
			enum dax_wake_mode mode);
void dax_unlock_entry(struct xa_state *xas, void *entry);
void *dax_lock_entry(struct xa_state *xas, void *entry);
#endif

#endif /* _FS_DAX_RS_H */
