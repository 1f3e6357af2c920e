/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the DAX selftests: PMD- and PUD-aligned windows, data
 * patterns that are a function of the file offset, smaps and meminfo
 * readers, and counting fs_dax trace events.
 */
#ifndef __DAX_COMMON_H
#define __DAX_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define KiB 1024UL
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)
#define PMD_SIZE (2 * MiB)
#define PUD_SIZE GiB

/* An @align-aligned (a power of two), reserved (PROT_NONE) window of @len bytes. */
static inline char *dax_aligned_window(size_t len, size_t align)
{
	char *p = mmap(NULL, len + align, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	return (char *)(((uintptr_t)p + align - 1) & ~(align - 1));
}

/* A PMD-aligned, reserved (PROT_NONE) window of @len bytes. */
static inline char *dax_pmd_window(size_t len)
{
	return dax_aligned_window(len, PMD_SIZE);
}

static inline uint64_t dax_pattern(size_t off, unsigned int seed)
{
	return ((uint64_t)off * 0x9e3779b97f4a7c15ULL) ^ seed;
}

/* Fill @p, which holds file offsets [@off, @off + @len), with @seed's pattern. */
static inline void dax_fill(char *p, size_t len, size_t off, unsigned int seed)
{
	for (size_t i = 0; i < len; i += 8)
		*(uint64_t *)(p + i) = dax_pattern(off + i, seed);
}

/* -1 if @p holds @seed's pattern for [@off, @off + @len), else the first bad offset */
static inline long dax_check(const char *p, size_t len, size_t off, unsigned int seed)
{
	for (size_t i = 0; i < len; i += 8)
		if (*(const uint64_t *)(p + i) != dax_pattern(off + i, seed))
			return (long)(off + i);
	return -1;
}

/*
 * The offset in [0, @len) whose @seed pattern @word is, or -1: tells what
 * landed where it should not.
 */
static inline long dax_pattern_offset(uint64_t word, unsigned int seed, size_t len)
{
	uint64_t k = dax_pattern(1, 0), inv = k, off;

	/* k is odd: Newton's iteration gives its inverse modulo 2^64 */
	for (int i = 0; i < 6; i++)
		inv *= 2 - k * inv;
	off = (word ^ seed) * inv;
	return off < len && !(off & 7) ? (long)off : -1;
}

static inline int dax_is_zero(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

/*
 * The text after "@field:" in the smaps entry of the VMA that contains
 * @addr, without its newline, into @buf: 0, or -1 if there is no such line.
 */
static inline int dax_smaps_field(const void *addr, const char *field, char *buf, size_t size)
{
	unsigned long lo, hi, a = (unsigned long)addr;
	size_t flen = strlen(field);
	char line[512], perms[8];
	int in = 0, ret = -1;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* "lo-hi perms ..." starts a VMA; no field name looks like that */
		if (sscanf(line, "%lx-%lx %4s ", &lo, &hi, perms) == 3) {
			in = a >= lo && a < hi;
			continue;
		}
		if (in && !strncmp(line, field, flen) && line[flen] == ':') {
			snprintf(buf, size, "%.*s", (int)strcspn(line + flen + 1, "\n"),
				 line + flen + 1);
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* A smaps field (kB) of the VMA that contains @addr; -1 if not found. */
static inline long dax_smaps_kb(const void *addr, const char *field)
{
	char buf[64], *end;
	long val;

	if (dax_smaps_field(addr, field, buf, sizeof(buf)))
		return -1;
	val = strtol(buf, &end, 10);
	return end == buf ? -1 : val;
}

/* A "Field:  N kB" line of @path (/proc/meminfo, /proc/self/status); -1 if absent. */
static inline long dax_proc_kb(const char *path, const char *field)
{
	size_t flen = strlen(field);
	char line[256];
	long val = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, flen) && line[flen] == ':') {
			if (sscanf(line + flen + 1, "%ld", &val) != 1)
				val = -1;
			break;
		}
	fclose(f);
	return val;
}

/* fs_dax trace events, for counting PMD and PTE faults. */
#define DAX_TRACEFS "/sys/kernel/tracing"

static inline int dax_trace_write(const char *file, const char *val)
{
	char path[256];
	int fd, ret;

	snprintf(path, sizeof(path), DAX_TRACEFS "/%s", file);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -1;
	ret = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
	close(fd);
	return ret;
}

/* 0 when fs_dax fault events are being recorded from now on */
static inline int dax_trace_start(void)
{
	if (dax_trace_write("tracing_on", "0") || dax_trace_write("trace", "") ||
	    dax_trace_write("events/fs_dax/dax_pmd_fault_done/enable", "1") ||
	    dax_trace_write("events/fs_dax/dax_pte_fault_done/enable", "1"))
		return -1;
	return dax_trace_write("tracing_on", "1");
}

/* Lines of the trace that contain both @event and @what (NULL: any). */
static inline int dax_trace_count(const char *event, const char *what)
{
	char line[1024];
	int n = 0;
	FILE *f;

	dax_trace_write("tracing_on", "0");
	f = fopen(DAX_TRACEFS "/trace", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (line[0] != '#' && strstr(line, event) && (!what || strstr(line, what)))
			n++;
	fclose(f);
	dax_trace_write("tracing_on", "1");
	return n;
}

#endif /* __DAX_COMMON_H */
