// SPDX-License-Identifier: GPL-2.0
/*
 * FS DAX behaviour tests, run on ext4 and xfs mounted with -o dax=always.
 *
 * dax_fs.sh mounts the file systems and runs this with DAX_TEST_EXT4 and
 * DAX_TEST_XFS naming their mount points (a variant whose directory is not
 * given is skipped) and DAX_TEST_BLOCKDEV naming a scratch block device
 * that O_DIRECT I/O may overwrite (tests that need it are skipped without).
 *
 * The tests cover every way user space reaches a DAX page (read/write,
 * shared and private mappings, MAP_SYNC, GUP through O_DIRECT,
 * process_vm_readv and /proc/pid/mem), PMD and PTE faults, partial
 * munmap/mprotect/mremap of PMD mappings, the accounting that appears once
 * DAX pages are mapped with references (smaps, meminfo), layout changes of
 * mapped and pinned ranges, FOLL_LONGTERM refusal, and regressions the
 * upstream version of this work hit.  See README for what the unpatched
 * 6.12 base is expected to fail.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/io_uring.h>
#include <linux/stat.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "dax_common.h"

#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 0x01
#endif
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_PUNCH_HOLE 0x02
#endif
#ifndef FALLOC_FL_COLLAPSE_RANGE
#define FALLOC_FL_COLLAPSE_RANGE 0x08
#endif

#define FILE_LEN (8 * MiB)

FIXTURE(dax) {
	const char *dir;
	char path[4096];
	int fd;
};

FIXTURE_VARIANT(dax) {
	const char *fs;
	const char *env;
};

FIXTURE_VARIANT_ADD(dax, ext4) {
	.fs = "ext4",
	.env = "DAX_TEST_EXT4",
};

FIXTURE_VARIANT_ADD(dax, xfs) {
	.fs = "xfs",
	.env = "DAX_TEST_XFS",
};

static int is_dax_fd(int fd)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx))
		return 0;
	return !!(stx.stx_attributes & STATX_ATTR_DAX);
}

/* A new file of @len bytes on the DAX file system, filled with @seed's pattern. */
static int make_file(const char *path, size_t len, unsigned int seed)
{
	char *buf = malloc(len);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || !buf)
		goto fail;
	/* allocate first so the extent can be PMD-sized and aligned */
	if (fallocate(fd, 0, 0, len))
		goto fail;
	dax_fill(buf, len, 0, seed);
	if (pwrite(fd, buf, len, 0) != (ssize_t)len || fsync(fd))
		goto fail;
	free(buf);
	return fd;
fail:
	free(buf);
	if (fd >= 0)
		close(fd);
	return -1;
}

static int pread_full(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, off + done);

		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

/* Map @len bytes of @fd at file offset @off, at a PMD-aligned address (+ @skew). */
static char *map_at(int fd, size_t len, off_t off, size_t skew, int prot, int flags)
{
	char *win = dax_pmd_window(len + skew);
	char *p;

	if (!win)
		return MAP_FAILED;
	p = mmap(win + skew, len, prot, flags | MAP_FIXED, fd, off);
	return p;
}

/* Run @fn(@arg) in a child; its termination signal, 0 if it exited normally. */
static int child_signal(void (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

/* Atomic accesses: the compiler must not drop or merge them. */
static void touch_read(void *p)
{
	(void)__atomic_load_n((char *)p, __ATOMIC_RELAXED);
}

static void touch_write(void *p)
{
	__atomic_store_n((char *)p, 1, __ATOMIC_RELAXED);
}

FIXTURE_SETUP(dax)
{
	self->fd = -1;
	self->dir = getenv(variant->env);
	if (!self->dir || !*self->dir)
		SKIP(return, "%s not set: no %s dax=always mount to test", variant->env,
		     variant->fs);
	snprintf(self->path, sizeof(self->path), "%s/dax_test.%d", self->dir, getpid());
	self->fd = make_file(self->path, FILE_LEN, 1);
	ASSERT_LE(0, self->fd) TH_LOG("cannot create %s: %s", self->path, strerror(errno));
	ASSERT_TRUE(is_dax_fd(self->fd))
		TH_LOG("%s is not a DAX file (STATX_ATTR_DAX)", self->path);
}

FIXTURE_TEARDOWN(dax)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->dir)
		unlink(self->path);
}

/* --- data through every access path ------------------------------------ */

TEST_F(dax, write_read)
{
	char *buf = malloc(FILE_LEN);

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, pread_full(self->fd, buf, FILE_LEN, 0));
	ASSERT_EQ(-1, dax_check(buf, FILE_LEN, 0, 1));
	/* an unaligned write across a PMD boundary */
	dax_fill(buf, 3 * PMD_SIZE / 2, PMD_SIZE / 2 + 24, 2);
	ASSERT_EQ((ssize_t)(3 * PMD_SIZE / 2),
		  pwrite(self->fd, buf, 3 * PMD_SIZE / 2, PMD_SIZE / 2 + 24));
	memset(buf, 0, FILE_LEN);
	ASSERT_EQ(0, pread_full(self->fd, buf, 3 * PMD_SIZE / 2, PMD_SIZE / 2 + 24));
	ASSERT_EQ(-1, dax_check(buf, 3 * PMD_SIZE / 2, PMD_SIZE / 2 + 24, 2));
	free(buf);
}

TEST_F(dax, mmap_shared)
{
	char *buf = malloc(FILE_LEN);
	char *p = map_at(self->fd, FILE_LEN, 0, 0, PROT_READ | PROT_WRITE, MAP_SHARED);

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(-1, dax_check(p, FILE_LEN, 0, 1));
	dax_fill(p, FILE_LEN, 0, 3);
	ASSERT_EQ(0, msync(p, FILE_LEN, MS_SYNC));
	ASSERT_EQ(0, munmap(p, FILE_LEN));
	ASSERT_EQ(0, pread_full(self->fd, buf, FILE_LEN, 0));
	EXPECT_EQ(-1, dax_check(buf, FILE_LEN, 0, 3));
	free(buf);
}

TEST_F(dax, mmap_private_cow)
{
	char *buf = malloc(FILE_LEN);
	char *p = map_at(self->fd, FILE_LEN, 0, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	int status;
	pid_t pid;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(-1, dax_check(p, FILE_LEN, 0, 1));
	/* the child writes its private copy; neither parent nor file see it */
	pid = fork();
	if (pid == 0) {
		dax_fill(p, FILE_LEN, 0, 5);
		_exit(dax_check(p, FILE_LEN, 0, 5) == -1 ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(-1, dax_check(p, FILE_LEN, 0, 1));
	dax_fill(p, PMD_SIZE, 0, 6);
	ASSERT_EQ(0, munmap(p, FILE_LEN));
	ASSERT_EQ(0, pread_full(self->fd, buf, FILE_LEN, 0));
	EXPECT_EQ(-1, dax_check(buf, FILE_LEN, 0, 1));
	free(buf);
}

TEST_F(dax, map_populate)
{
	char *p = mmap(NULL, FILE_LEN, PROT_READ, MAP_SHARED | MAP_POPULATE, self->fd, 0);

	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, dax_check(p, FILE_LEN, 0, 1));
	ASSERT_EQ(0, munmap(p, FILE_LEN));
}

TEST_F(dax, map_sync)
{
	char *buf = malloc(PMD_SIZE);
	char *p = mmap(NULL, FILE_LEN, PROT_READ | PROT_WRITE,
		       MAP_SHARED_VALIDATE | MAP_SYNC, self->fd, 0);

	ASSERT_NE(MAP_FAILED, p) TH_LOG("MAP_SYNC refused on a DAX file: %s", strerror(errno));
	dax_fill(p + PMD_SIZE, PMD_SIZE, PMD_SIZE, 7);
	ASSERT_EQ(0, munmap(p, FILE_LEN));
	ASSERT_EQ(0, pread_full(self->fd, buf, PMD_SIZE, PMD_SIZE));
	EXPECT_EQ(-1, dax_check(buf, PMD_SIZE, PMD_SIZE, 7));
	free(buf);
}

/* GUP-fast (FOLL_PIN) of DAX pages: O_DIRECT I/O to and from a DAX mapping */
TEST_F(dax, odirect_gup)
{
	const char *dev = getenv("DAX_TEST_BLOCKDEV");
	char *p;
	int bfd;

	if (!dev || !*dev)
		SKIP(return, "DAX_TEST_BLOCKDEV not set: no scratch device for O_DIRECT");
	bfd = open(dev, O_RDWR | O_DIRECT);
	ASSERT_LE(0, bfd) TH_LOG("%s: %s", dev, strerror(errno));
	/* PMD-mapped source: pins through a PMD */
	p = map_at(self->fd, FILE_LEN, 0, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ((ssize_t)FILE_LEN, pwrite(bfd, p, FILE_LEN, 0));
	/* ... and into a PTE-mapped destination */
	ASSERT_EQ(0, munmap(p, FILE_LEN));
	p = map_at(self->fd, FILE_LEN - PMD_SIZE, 0, 4 * KiB, PROT_READ | PROT_WRITE,
		   MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0, FILE_LEN - PMD_SIZE);
	ASSERT_EQ((ssize_t)(FILE_LEN - PMD_SIZE), pread(bfd, p, FILE_LEN - PMD_SIZE, 0));
	EXPECT_EQ(-1, dax_check(p, FILE_LEN - PMD_SIZE, 0, 1));
	ASSERT_EQ(0, munmap(p, FILE_LEN - PMD_SIZE));
	close(bfd);
}

/* GUP of another process's DAX mapping */
TEST_F(dax, process_vm_readv)
{
	char *p = map_at(self->fd, FILE_LEN, 0, 0, PROT_READ, MAP_SHARED);
	char *buf = malloc(FILE_LEN);
	struct iovec local, remote;
	int pipefd[2], status;
	pid_t pid;
	char c;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	if (pid == 0) {	/* keeps the mapping alive until the parent is done */
		close(pipefd[1]);
		read(pipefd[0], &c, 1);
		_exit(0);
	}
	ASSERT_LT(0, pid);
	local.iov_base = buf;
	local.iov_len = FILE_LEN;
	remote.iov_base = p;
	remote.iov_len = FILE_LEN;
	EXPECT_EQ((ssize_t)FILE_LEN, process_vm_readv(pid, &local, 1, &remote, 1, 0));
	EXPECT_EQ(-1, dax_check(buf, FILE_LEN, 0, 1));
	close(pipefd[1]);
	waitpid(pid, &status, 0);
	munmap(p, FILE_LEN);
	free(buf);
}

/* FOLL_FORCE GUP (access_remote_vm) through /proc/self/mem */
TEST_F(dax, proc_pid_mem)
{
	char *p = map_at(self->fd, FILE_LEN, 0, 0, PROT_READ, MAP_SHARED);
	char *buf = malloc(PMD_SIZE);
	int mfd = open("/proc/self/mem", O_RDWR);

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_LE(0, mfd);
	ASSERT_EQ((ssize_t)PMD_SIZE, pread(mfd, buf, PMD_SIZE, (off_t)(uintptr_t)(p + PMD_SIZE)));
	EXPECT_EQ(-1, dax_check(buf, PMD_SIZE, PMD_SIZE, 1));
	close(mfd);
	munmap(p, FILE_LEN);
	free(buf);
}

/* --- fault sizes and partial operations on PMD mappings ----------------- */

TEST_F(dax, pmd_fault)
{
	char *p;

	if (dax_trace_start())
		SKIP(return, "no tracefs with fs_dax events at " DAX_TRACEFS);
	p = map_at(self->fd, FILE_LEN, 0, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	touch_write(p);
	touch_write(p + PMD_SIZE + 4 * KiB);
	EXPECT_EQ(2, dax_trace_count("dax_pmd_fault_done", "NOPAGE"))
		TH_LOG("a 2 MiB-aligned mapping of 2 MiB-aligned extents must fault PMDs");
	EXPECT_EQ(0, dax_trace_count("dax_pte_fault_done", NULL));
	munmap(p, FILE_LEN);
}

TEST_F(dax, unaligned_falls_back_to_pte)
{
	char *p;

	if (dax_trace_start())
		SKIP(return, "no tracefs with fs_dax events at " DAX_TRACEFS);
	/* file offset 0 at an address 4 KiB past a PMD boundary */
	p = map_at(self->fd, PMD_SIZE, 0, 4 * KiB, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	for (size_t off = 0; off < 64 * KiB; off += 4 * KiB)
		touch_read(p + off);
	EXPECT_EQ(0, dax_trace_count("dax_pmd_fault_done", "NOPAGE"));
	EXPECT_EQ(16, dax_trace_count("dax_pte_fault_done", NULL));
	EXPECT_EQ(-1, dax_check(p, PMD_SIZE, 0, 1));
	munmap(p, PMD_SIZE);
}

TEST_F(dax, munmap_part_of_pmd)
{
	char *p = map_at(self->fd, FILE_LEN, 0, 0, PROT_READ | PROT_WRITE, MAP_SHARED);

	ASSERT_NE(MAP_FAILED, p);
	dax_fill(p, FILE_LEN, 0, 8);
	ASSERT_EQ(0, munmap(p + PMD_SIZE + 64 * KiB, 8 * KiB));
	EXPECT_EQ(SIGSEGV, child_signal(touch_read, p + PMD_SIZE + 68 * KiB));
	EXPECT_EQ(-1, dax_check(p + PMD_SIZE, 64 * KiB, PMD_SIZE, 8));
	EXPECT_EQ(-1, dax_check(p + PMD_SIZE + 72 * KiB, PMD_SIZE - 72 * KiB,
				PMD_SIZE + 72 * KiB, 8));
	/* the rest of the split PMD is still writable and the file sees it */
	dax_fill(p + PMD_SIZE + 72 * KiB, 4 * KiB, PMD_SIZE + 72 * KiB, 9);
	ASSERT_EQ(0, msync(p, PMD_SIZE, MS_SYNC));
	munmap(p, FILE_LEN);
	p = mmap(NULL, FILE_LEN, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, dax_check(p + PMD_SIZE + 72 * KiB, 4 * KiB, PMD_SIZE + 72 * KiB, 9));
	EXPECT_EQ(-1, dax_check(p + PMD_SIZE + 64 * KiB, 8 * KiB, PMD_SIZE + 64 * KiB, 8));
	munmap(p, FILE_LEN);
}

TEST_F(dax, mprotect_part_of_pmd)
{
	char *p = map_at(self->fd, FILE_LEN, 0, 0, PROT_READ | PROT_WRITE, MAP_SHARED);

	ASSERT_NE(MAP_FAILED, p);
	touch_write(p);
	ASSERT_EQ(0, mprotect(p + 512 * KiB, 4 * KiB, PROT_READ));
	EXPECT_EQ(SIGSEGV, child_signal(touch_write, p + 512 * KiB));
	EXPECT_EQ(0, child_signal(touch_write, p + 516 * KiB));
	EXPECT_EQ(-1, dax_check(p + 512 * KiB, 4 * KiB, 512 * KiB, 1));
	dax_fill(p + 516 * KiB, 4 * KiB, 516 * KiB, 10);
	EXPECT_EQ(-1, dax_check(p + 516 * KiB, 4 * KiB, 516 * KiB, 10));
	munmap(p, FILE_LEN);
}

TEST_F(dax, mremap_part_of_pmd)
{
	char *p = map_at(self->fd, FILE_LEN, 0, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	char *dst = dax_pmd_window(PMD_SIZE), *q;

	ASSERT_NE(MAP_FAILED, p);
	touch_read(p);
	q = mremap(p + 256 * KiB, 16 * KiB, 16 * KiB, MREMAP_MAYMOVE | MREMAP_FIXED,
		   dst + 8 * KiB);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(-1, dax_check(q, 16 * KiB, 256 * KiB, 1));
	EXPECT_EQ(-1, dax_check(p, 256 * KiB, 0, 1));
	EXPECT_EQ(-1, dax_check(p + 272 * KiB, PMD_SIZE - 272 * KiB, 272 * KiB, 1));
	EXPECT_EQ(SIGSEGV, child_signal(touch_read, p + 256 * KiB));
	munmap(q, 16 * KiB);
	munmap(p, FILE_LEN);
}

/* --- accounting that appears once DAX pages are mapped with references -- */

TEST_F(dax, smaps_rss_pte)
{
	char *p = map_at(self->fd, PMD_SIZE, 0, 4 * KiB, PROT_READ, MAP_SHARED);
	long mapped, unmapped;

	ASSERT_NE(MAP_FAILED, p);
	for (size_t off = 0; off < 64 * KiB; off += 4 * KiB)
		touch_read(p + off);
	EXPECT_EQ(64, dax_smaps_kb(p, "Rss"))
		TH_LOG("16 PTE-mapped DAX pages must count in Rss (base 6.12: 0)");
	EXPECT_EQ(0, dax_smaps_kb(p, "FilePmdMapped"));
	/*
	 * The mm's file RSS counter counts them too: it drops by 64 kB when
	 * they are unmapped.  Both reads take the same, already faulted code
	 * path, so no other file page joins the count in between.
	 */
	dax_proc_kb("/proc/self/status", "RssFile");
	mapped = dax_proc_kb("/proc/self/status", "RssFile");
	ASSERT_EQ(0, munmap(p, PMD_SIZE));
	unmapped = dax_proc_kb("/proc/self/status", "RssFile");
	ASSERT_LE(0, unmapped);
	EXPECT_LE(64, mapped - unmapped)
		TH_LOG("RssFile %ld kB mapped, %ld kB unmapped", mapped, unmapped);
}

TEST_F(dax, smaps_pmd_mapped)
{
	char *p = map_at(self->fd, FILE_LEN, 0, 0, PROT_READ, MAP_SHARED);

	ASSERT_NE(MAP_FAILED, p);
	touch_read(p);
	touch_read(p + 3 * PMD_SIZE);
	EXPECT_EQ(4096, dax_smaps_kb(p, "FilePmdMapped"))
		TH_LOG("2 PMD-mapped DAX folios must count in FilePmdMapped (base 6.12: 0)");
	EXPECT_EQ(4096, dax_smaps_kb(p, "Rss"));
	munmap(p, FILE_LEN);
}

TEST_F(dax, meminfo_file_pmd_mapped)
{
	long before = dax_proc_kb("/proc/meminfo", "FilePmdMapped"), during;
	char *p = map_at(self->fd, FILE_LEN, 0, 0, PROT_READ, MAP_SHARED);

	ASSERT_LE(0, before);
	ASSERT_NE(MAP_FAILED, p);
	for (size_t off = 0; off < FILE_LEN; off += PMD_SIZE)
		touch_read(p + off);
	during = dax_proc_kb("/proc/meminfo", "FilePmdMapped");
	munmap(p, FILE_LEN);
	EXPECT_LE(before + 8192, during)
		TH_LOG("FilePmdMapped %ld kB -> %ld kB with 4 PMDs mapped", before, during);
	EXPECT_EQ(before, dax_proc_kb("/proc/meminfo", "FilePmdMapped"));
}

/* --- layout changes of mapped and pinned ranges ------------------------- */

TEST_F(dax, truncate_sigbus)
{
	char *p = map_at(self->fd, FILE_LEN, 0, 0, PROT_READ | PROT_WRITE, MAP_SHARED);

	ASSERT_NE(MAP_FAILED, p);
	touch_write(p + 5 * MiB);
	ASSERT_EQ(0, ftruncate(self->fd, 3 * MiB + 100));
	EXPECT_EQ(SIGBUS, child_signal(touch_read, p + 5 * MiB));
	EXPECT_EQ(SIGBUS, child_signal(touch_read, p + 3 * MiB + 8 * KiB));
	EXPECT_EQ(-1, dax_check(p, 3 * MiB, 0, 1));
	/* grow again: the new range reads as zeroes */
	ASSERT_EQ(0, ftruncate(self->fd, FILE_LEN));
	EXPECT_TRUE(dax_is_zero(p + 4 * MiB, 4 * MiB));
	munmap(p, FILE_LEN);
}

TEST_F(dax, punch_hole_while_mapped)
{
	char *p = map_at(self->fd, FILE_LEN, 0, 0, PROT_READ | PROT_WRITE, MAP_SHARED);

	ASSERT_NE(MAP_FAILED, p);
	dax_fill(p, FILE_LEN, 0, 11);
	ASSERT_EQ(0, fallocate(self->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       PMD_SIZE + 64 * KiB, PMD_SIZE));
	EXPECT_TRUE(dax_is_zero(p + PMD_SIZE + 64 * KiB, PMD_SIZE));
	EXPECT_EQ(-1, dax_check(p, PMD_SIZE + 64 * KiB, 0, 11));
	EXPECT_EQ(-1, dax_check(p + 2 * PMD_SIZE + 64 * KiB, 2 * PMD_SIZE - 64 * KiB,
				2 * PMD_SIZE + 64 * KiB, 11));
	/* write into the hole again through the mapping */
	dax_fill(p + PMD_SIZE + 64 * KiB, PMD_SIZE, PMD_SIZE + 64 * KiB, 12);
	EXPECT_EQ(-1, dax_check(p + PMD_SIZE + 64 * KiB, PMD_SIZE, PMD_SIZE + 64 * KiB, 12));
	munmap(p, FILE_LEN);
}

TEST_F(dax, collapse_range_while_mapped)
{
	char *p = map_at(self->fd, FILE_LEN, 0, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	struct stat st;

	ASSERT_NE(MAP_FAILED, p);
	dax_fill(p, FILE_LEN, 0, 13);
	ASSERT_EQ(0, fallocate(self->fd, FALLOC_FL_COLLAPSE_RANGE, PMD_SIZE, PMD_SIZE))
		TH_LOG("collapse range: %s", strerror(errno));
	ASSERT_EQ(0, fstat(self->fd, &st));
	EXPECT_EQ((off_t)(FILE_LEN - PMD_SIZE), st.st_size);
	EXPECT_EQ(-1, dax_check(p, PMD_SIZE, 0, 13));
	/* what was at [4 MiB, 8 MiB) is now at [2 MiB, 6 MiB) */
	for (size_t off = PMD_SIZE; off < FILE_LEN - PMD_SIZE; off += 8)
		if (*(uint64_t *)(p + off) != dax_pattern(off + PMD_SIZE, 13)) {
			EXPECT_EQ(0, off) TH_LOG("wrong data after collapse at %zu", off);
			break;
		}
	EXPECT_EQ(SIGBUS, child_signal(touch_read, p + FILE_LEN - PMD_SIZE + 4 * KiB));
	munmap(p, FILE_LEN);
}

struct pin_ctx {
	int bfd;
	char *buf;
	size_t len;
	int loops, err;
};

static void *pin_loop(void *arg)
{
	struct pin_ctx *c = arg;

	for (int i = 0; i < c->loops; i++)
		if (pwrite(c->bfd, c->buf, c->len, 0) != (ssize_t)c->len) {
			c->err = errno ? errno : EIO;
			break;
		}
	return NULL;
}

/* Punch a range that an O_DIRECT write keeps pinned: it must wait, then complete. */
TEST_F_TIMEOUT(dax, punch_hole_while_pinned, 120)
{
	const char *dev = getenv("DAX_TEST_BLOCKDEV");
	struct pin_ctx c = { .len = FILE_LEN, .loops = 40 };
	pthread_t t;
	char *p;

	if (!dev || !*dev)
		SKIP(return, "DAX_TEST_BLOCKDEV not set: no scratch device for O_DIRECT");
	c.bfd = open(dev, O_RDWR | O_DIRECT);
	ASSERT_LE(0, c.bfd);
	p = map_at(self->fd, FILE_LEN, 0, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	c.buf = p;
	ASSERT_EQ(0, pthread_create(&t, NULL, pin_loop, &c));
	for (int i = 0; i < 8; i++) {
		ASSERT_EQ(0, fallocate(self->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				       (i % 4) * PMD_SIZE, PMD_SIZE));
		/* refill through the mapping: faults in new blocks while pinned */
		dax_fill(p + (i % 4) * PMD_SIZE, PMD_SIZE, (i % 4) * PMD_SIZE, 14);
	}
	pthread_join(t, NULL);
	EXPECT_EQ(0, c.err);
	EXPECT_EQ(-1, dax_check(p, FILE_LEN, 0, 14));
	munmap(p, FILE_LEN);
	close(c.bfd);
}

/* --- FOLL_LONGTERM ------------------------------------------------------ */

static int uring_register(void *addr, size_t len)
{
	struct io_uring_params params = { 0 };
	struct iovec iov = { .iov_base = addr, .iov_len = len };
	int fd = syscall(__NR_io_uring_setup, 4, &params), ret, err;

	if (fd < 0)
		return -errno;
	ret = syscall(__NR_io_uring_register, fd, IORING_REGISTER_BUFFERS, &iov, 1);
	err = errno;
	close(fd);
	return ret < 0 ? -err : 0;
}

static int uring_available(void)
{
	struct io_uring_params params = { 0 };
	int fd = syscall(__NR_io_uring_setup, 4, &params);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

TEST_F(dax, longterm_pin_refused)
{
	char *p = map_at(self->fd, FILE_LEN, 0, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	int ret;

	ASSERT_NE(MAP_FAILED, p);
	/* faulted first, so GUP-fast finds the pages mapped */
	dax_fill(p, FILE_LEN, 0, 1);
	if (!uring_available())
		SKIP(goto out, "io_uring_setup() fails: no io_uring in this kernel");
	ret = uring_register(p, FILE_LEN);
	EXPECT_EQ(-EOPNOTSUPP, ret) TH_LOG("FOLL_LONGTERM pin of FS DAX pages: %d", ret);
	ret = uring_register(p + 4 * KiB, 64 * KiB);
	EXPECT_EQ(-EOPNOTSUPP, ret);
out:
	munmap(p, FILE_LEN);
}

/* --- regressions of earlier versions of this work ----------------------- */

/* ndctl's mmap.sh crash on the 2024 posting: munmap of dirty shared PMD mappings */
TEST_F(dax, munmap_dirty_pmd_mappings)
{
	for (int round = 0; round < 16; round++) {
		int flags = MAP_SHARED | (round & 1 ? MAP_POPULATE : 0);
		char *p = map_at(self->fd, FILE_LEN, 0, (round & 2) ? 4 * KiB : 0,
				 PROT_READ | PROT_WRITE, flags);

		ASSERT_NE(MAP_FAILED, p);
		for (size_t off = 0; off < FILE_LEN - PMD_SIZE; off += 64 * KiB)
			p[off] = (char)round;
		if (round & 4)
			ASSERT_EQ(0, msync(p, FILE_LEN, MS_ASYNC));
		ASSERT_EQ(0, munmap(p, FILE_LEN));
		if (round & 8)
			ASSERT_EQ(0, fsync(self->fd));
	}
	/* no write through a dirty PMD was lost when it was unmapped */
	for (size_t off = 0; off < FILE_LEN - PMD_SIZE; off += 64 * KiB) {
		char c;

		ASSERT_EQ(1, pread(self->fd, &c, 1, off));
		ASSERT_EQ(15, c) TH_LOG("byte at %zu not written by the last round", off);
	}
}

/* A range that held a PMD entry and then PTE entries after a punch */
TEST_F(dax, pmd_then_pte_after_punch)
{
	char *p = map_at(self->fd, FILE_LEN, 0, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	char *q;

	ASSERT_NE(MAP_FAILED, p);
	touch_write(p);	/* PMD entry for [0, 2M) */
	ASSERT_EQ(0, fallocate(self->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       64 * KiB, 4 * KiB));
	munmap(p, FILE_LEN);
	/* PTE faults on the range through a misaligned mapping */
	q = map_at(self->fd, PMD_SIZE, 0, 4 * KiB, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, q);
	dax_fill(q, PMD_SIZE, 0, 15);
	ASSERT_EQ(0, munmap(q, PMD_SIZE));
	ASSERT_EQ(0, ftruncate(self->fd, 64 * KiB));
	ASSERT_EQ(0, ftruncate(self->fd, FILE_LEN));
	p = map_at(self->fd, FILE_LEN, 0, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, dax_check(p, 64 * KiB, 0, 15));
	EXPECT_TRUE(dax_is_zero(p + 64 * KiB, PMD_SIZE));
	dax_fill(p, FILE_LEN, 0, 16);
	EXPECT_EQ(-1, dax_check(p, FILE_LEN, 0, 16));
	munmap(p, FILE_LEN);
}

/* A hole read (zero page / empty entries) and then written through the mapping */
TEST_F(dax, hole_read_then_write)
{
	char path[4200], *p, *buf = malloc(FILE_LEN);
	int fd;

	snprintf(path, sizeof(path), "%s.sparse", self->path);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, FILE_LEN));
	p = map_at(fd, FILE_LEN, 0, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	/* PMD hole and PTE holes */
	EXPECT_TRUE(dax_is_zero(p, PMD_SIZE));
	for (size_t off = PMD_SIZE; off < 2 * PMD_SIZE; off += 64 * KiB)
		touch_read(p + off);
	dax_fill(p, FILE_LEN, 0, 17);
	ASSERT_EQ(0, msync(p, FILE_LEN, MS_SYNC));
	ASSERT_EQ(0, munmap(p, FILE_LEN));
	ASSERT_EQ(0, pread_full(fd, buf, FILE_LEN, 0));
	EXPECT_EQ(-1, dax_check(buf, FILE_LEN, 0, 17));
	close(fd);
	unlink(path);
	free(buf);
}

/* xfs reflink: two files share extents, both mapped; a write unshares */
TEST_F(dax, reflink_shared_mapped)
{
	char path[4200], *a, *b, *buf = malloc(FILE_LEN);
	int fd;

	snprintf(path, sizeof(path), "%s.clone", self->path);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, fd);
	if (ioctl(fd, FICLONE, self->fd)) {
		int err = errno;

		close(fd);
		unlink(path);
		free(buf);
		SKIP(return, "%s cannot reflink: %s", variant->fs, strerror(err));
	}
	a = map_at(self->fd, FILE_LEN, 0, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	b = map_at(fd, FILE_LEN, 0, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, a);
	ASSERT_NE(MAP_FAILED, b);
	EXPECT_EQ(-1, dax_check(a, FILE_LEN, 0, 1));
	EXPECT_EQ(-1, dax_check(b, FILE_LEN, 0, 1));
	dax_fill(b + PMD_SIZE, PMD_SIZE, PMD_SIZE, 18);
	EXPECT_EQ(-1, dax_check(a, FILE_LEN, 0, 1));
	EXPECT_EQ(-1, dax_check(b + PMD_SIZE, PMD_SIZE, PMD_SIZE, 18));
	ASSERT_EQ(0, munmap(b, FILE_LEN));
	ASSERT_EQ(0, munmap(a, FILE_LEN));
	ASSERT_EQ(0, pread_full(fd, buf, FILE_LEN, 0));
	EXPECT_EQ(-1, dax_check(buf, PMD_SIZE, 0, 1));
	EXPECT_EQ(-1, dax_check(buf + PMD_SIZE, PMD_SIZE, PMD_SIZE, 18));
	close(fd);
	unlink(path);
	free(buf);
}

TEST_HARNESS_MAIN
