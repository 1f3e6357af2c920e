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
 * mapped and pinned ranges (also once the mapping is gone, and all at
 * once), FOLL_LONGTERM refusal, regressions the upstream version of this
 * work hit, and memory failure of pages that reflinked files share.  See
 * README for what the unpatched 6.12 base is expected to fail.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/fsmap.h>
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
#include <sys/prctl.h>
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

/*
 * A layout break that removes more than 4096 PTE-sized DAX entries: the
 * scan removing them rests every 4096 entries, just after it freed a whole
 * node of the xarray, and must go on at the next index.  An entry it
 * skipped is left for truncate, which warns (the kernel-log suite).
 * 10240 faults take over a minute under QEMU TCG on the debug kernel.
 */
#define MANY_PTE_LEN (40 * MiB)	/* 10240 PTE entries */

TEST_F_TIMEOUT(dax, truncate_many_pte_entries, 300)
{
	char *p;

	ASSERT_EQ(0, ftruncate(self->fd, MANY_PTE_LEN));
	/* 4 KiB past a PMD boundary: every fault maps a PTE */
	p = map_at(self->fd, MANY_PTE_LEN, 0, 4 * KiB, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	for (size_t off = 0; off < MANY_PTE_LEN; off += 4 * KiB)
		touch_write(p + off);
	munmap(p, MANY_PTE_LEN);
	ASSERT_EQ(0, ftruncate(self->fd, 0));
	/* what is left reads back as a hole */
	ASSERT_EQ(0, ftruncate(self->fd, FILE_LEN));
	p = map_at(self->fd, FILE_LEN, 0, 0, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(dax_is_zero(p, FILE_LEN));
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

/*
 * Truncate or punch a range after its mapping is gone while O_DIRECT reads
 * into it are still in flight: GUP pinned the DAX pages when the reads were
 * issued, and the pins outlive the mapping.  The file system must wait for
 * them before it frees the blocks.  The test then allocates blocks again
 * and writes new data to them: had a read still been in flight, its DMA
 * would overwrite that with the scratch device's pattern.
 */
#define SCRATCH_SEED 0x5c
#define NEW_SEED 23

struct read_pin_ctx {
	int bfd;
	char *buf;
	size_t len;
	int loops;
	int done;	/* complete reads (atomic) */
	int unmapped;	/* set (atomic) before the mapping goes away */
	int finished;	/* atomic */
	int gone;	/* a read after the unmap failed to pin: expected */
	int err;	/* any other failure */
};

static void *read_pin_loop(void *arg)
{
	struct read_pin_ctx *c = arg;

	for (int i = 0; i < c->loops; i++) {
		ssize_t n = pread(c->bfd, c->buf, c->len, 0);

		if (n == (ssize_t)c->len) {
			__atomic_add_fetch(&c->done, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		/* only a read that runs into the unmap may fault part way */
		if (__atomic_load_n(&c->unmapped, __ATOMIC_SEQ_CST) &&
		    ((n < 0 && errno == EFAULT) || n >= 0))
			c->gone = 1;
		else
			c->err = n < 0 ? errno : EIO;
		break;
	}
	__atomic_store_n(&c->finished, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void layout_change_under_unmapped_pin(struct __test_metadata *_metadata, int fd,
					     int punch)
{
	const char *dev = getenv("DAX_TEST_BLOCKDEV");
	const char *what = punch ? "punch" : "truncate";
	struct read_pin_ctx c = { .len = FILE_LEN, .loops = 40 };
	char *p, *scratch, *buf, *chk;
	pthread_t t;
	long bad;
	int ret;

	if (!dev || !*dev)
		SKIP(return, "DAX_TEST_BLOCKDEV not set: no scratch device for O_DIRECT");
	c.bfd = open(dev, O_RDWR | O_DIRECT);
	ASSERT_LE(0, c.bfd) TH_LOG("%s: %s", dev, strerror(errno));
	buf = malloc(FILE_LEN);
	chk = malloc(FILE_LEN);
	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, chk);
	/* what the reads bring in: a pattern no file data has */
	scratch = mmap(NULL, FILE_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, scratch);
	dax_fill(scratch, FILE_LEN, 0, SCRATCH_SEED);
	ASSERT_EQ((ssize_t)FILE_LEN, pwrite(c.bfd, scratch, FILE_LEN, 0))
		TH_LOG("%s: %s", dev, strerror(errno));
	p = map_at(fd, FILE_LEN, 0, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	/* faulted first, so GUP-fast finds the PMDs */
	for (size_t off = 0; off < FILE_LEN; off += PMD_SIZE)
		touch_write(p + off);
	c.buf = p;
	ASSERT_EQ(0, pthread_create(&t, NULL, read_pin_loop, &c));
	/* one read done: the next one is being issued or in flight */
	for (int ms = 0; ms < 60000; ms++) {
		if (__atomic_load_n(&c.done, __ATOMIC_SEQ_CST) ||
		    __atomic_load_n(&c.finished, __ATOMIC_SEQ_CST))
			break;
		usleep(1000);
	}
	__atomic_store_n(&c.unmapped, 1, __ATOMIC_SEQ_CST);
	/*
	 * munmap(), but with the range kept reserved: a read the thread issues
	 * from now on fails with EFAULT rather than pins whatever would be
	 * mapped there next.
	 */
	EXPECT_EQ(p, mmap(p, FILE_LEN, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0));
	if (punch)
		ret = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, FILE_LEN);
	else
		ret = ftruncate(fd, 0);
	EXPECT_EQ(0, ret) TH_LOG("%s under an in-flight read: %s", what, strerror(errno));
	/* commit the free, so that the blocks can be allocated again at once */
	EXPECT_EQ(0, fsync(fd));
	dax_fill(buf, FILE_LEN, 0, NEW_SEED);
	EXPECT_EQ((ssize_t)FILE_LEN, pwrite(fd, buf, FILE_LEN, 0));
	EXPECT_EQ(0, fsync(fd));
	pthread_join(t, NULL);
	EXPECT_EQ(0, c.err) TH_LOG("O_DIRECT read into the mapping: %s", strerror(c.err));
	EXPECT_LE(1, c.done) TH_LOG("no O_DIRECT read completed before the unmap");
	ASSERT_EQ(0, pread_full(fd, chk, FILE_LEN, 0));
	bad = dax_check(chk, FILE_LEN, 0, NEW_SEED);
	EXPECT_EQ(-1, bad)
		TH_LOG("after the %s, file offset %ld holds %s", what, bad,
		       dax_pattern_offset(*(uint64_t *)(chk + bad), SCRATCH_SEED, FILE_LEN) >= 0 ?
		       "scratch data: a read in flight wrote into reallocated blocks" :
		       "neither the new nor the scratch data");
	/* and so does a new mapping */
	p = map_at(fd, FILE_LEN, 0, 0, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, dax_check(p, FILE_LEN, 0, NEW_SEED));
	munmap(p, FILE_LEN);
	munmap(c.buf, FILE_LEN);
	munmap(scratch, FILE_LEN);
	free(chk);
	free(buf);
	close(c.bfd);
}

TEST_F_TIMEOUT(dax, truncate_waits_for_unmapped_odirect, 180)
{
	layout_change_under_unmapped_pin(_metadata, self->fd, 0);
}

TEST_F_TIMEOUT(dax, punch_waits_for_unmapped_odirect, 180)
{
	layout_change_under_unmapped_pin(_metadata, self->fd, 1);
}

/*
 * Faults, truncation, hole punching and O_DIRECT pins of one file, all at
 * once, for DAX_TEST_RACE_SECONDS (default 20).  Nothing may fail but
 * accesses past EOF (SIGBUS, or EFAULT for O_DIRECT), nothing may hang,
 * and afterwards the file, the mappings made before the race and a new
 * mapping must all see the data written last.
 */
#define RACE_LEN (16 * MiB)
#define RACE_SEED 22

struct race_thread {
	pthread_t tid;
	int fd, bfd;
	int *stop;
	char *map;
	/*
	 * Updated with __atomic stores, so that a siglongjmp() out of a
	 * faulting access finds them in memory, not in a lost register.
	 */
	uint64_t rng;
	unsigned long ops, sigbus, efault;
	const char *what;	/* the call that failed */
	int err;
};

static __thread sigjmp_buf *race_jmp;

static void race_sigbus(int sig, siginfo_t *info, void *ctx)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };

	if (race_jmp)
		siglongjmp(*race_jmp, 1);
	/* not a faulting thread of the race: the access faults again and kills */
	sigaction(SIGBUS, &dfl, NULL);
}

static uint64_t race_rand(struct race_thread *t)
{
	uint64_t x = __atomic_load_n(&t->rng, __ATOMIC_RELAXED);

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	__atomic_store_n(&t->rng, x, __ATOMIC_RELAXED);
	return x;
}

static int race_stopped(struct race_thread *t)
{
	return __atomic_load_n(t->stop, __ATOMIC_RELAXED);
}

/* read or write a random word through the mapping; past EOF: SIGBUS */
static void *race_fault(void *arg)
{
	struct race_thread *t = arg;
	sigjmp_buf jb;

	race_jmp = &jb;
	if (sigsetjmp(jb, 1))
		__atomic_fetch_add(&t->sigbus, 1, __ATOMIC_RELAXED);
	while (!race_stopped(t)) {
		uint64_t x = race_rand(t);
		size_t off = (x >> 8) % (RACE_LEN / 8) * 8;
		uint64_t *word = (uint64_t *)(t->map + off);

		if (x & 1)
			__atomic_store_n(word, dax_pattern(off, RACE_SEED + 1), __ATOMIC_RELAXED);
		else
			(void)__atomic_load_n(word, __ATOMIC_RELAXED);
		__atomic_fetch_add(&t->ops, 1, __ATOMIC_RELAXED);
	}
	race_jmp = NULL;
	return NULL;
}

/* shrink to a random multiple of 2 MiB, grow back */
static void *race_truncate(void *arg)
{
	struct race_thread *t = arg;

	while (!race_stopped(t)) {
		uint64_t x = race_rand(t);

		if (ftruncate(t->fd, (x >> 8) % (RACE_LEN / PMD_SIZE) * PMD_SIZE)) {
			t->err = errno;
			t->what = "ftruncate (shrink)";
			break;
		}
		usleep(x % 2000);
		if (ftruncate(t->fd, RACE_LEN)) {
			t->err = errno;
			t->what = "ftruncate (grow)";
			break;
		}
		t->ops++;
		usleep((x >> 32) % 2000);
	}
	return NULL;
}

/* punch a random 2 MiB-aligned range */
static void *race_punch(void *arg)
{
	struct race_thread *t = arg;

	while (!race_stopped(t)) {
		uint64_t x = race_rand(t);
		off_t off = (x >> 8) % (RACE_LEN / PMD_SIZE) * PMD_SIZE;

		if (fallocate(t->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, PMD_SIZE)) {
			t->err = errno;
			t->what = "fallocate (punch hole)";
			break;
		}
		t->ops++;
		usleep(x % 2000);
	}
	return NULL;
}

/* O_DIRECT writes from and reads into random MiBs of the mapping: GUP pins */
static void *race_odirect(void *arg)
{
	struct race_thread *t = arg;

	while (!race_stopped(t)) {
		uint64_t x = race_rand(t);
		size_t off = (x >> 8) % (RACE_LEN / MiB) * MiB;
		ssize_t n;

		if (x & 1)
			n = pwrite(t->bfd, t->map + off, MiB, off);
		else
			n = pread(t->bfd, t->map + off, MiB, off);
		if (n == (ssize_t)MiB) {
			t->ops++;
		} else if ((n < 0 && errno == EFAULT) || n >= 0) {
			/* the range was past EOF when GUP faulted it */
			t->efault++;
		} else {
			t->err = errno;
			t->what = x & 1 ? "O_DIRECT write from the mapping" :
					  "O_DIRECT read into the mapping";
			break;
		}
	}
	return NULL;
}

TEST_F_TIMEOUT(dax, layout_race, 300)
{
	static const char * const names[] = {
		"faults (PMD mapping)", "faults (PTE mapping)", "truncate", "punch", "O_DIRECT",
	};
	void *(*const fn[])(void *) = {
		race_fault, race_fault, race_truncate, race_punch, race_odirect,
	};
	const char *dev = getenv("DAX_TEST_BLOCKDEV");
	const char *env = getenv("DAX_TEST_RACE_SECONDS");
	struct sigaction sa = { .sa_sigaction = race_sigbus, .sa_flags = SA_SIGINFO }, old;
	struct race_thread t[5];
	int secs = env && *env ? atoi(env) : 20, stop = 0, fd, bfd = -1, n = 4, started;
	char path[4200], *buf, *p;
	uint64_t devsize = 0;

	if (secs < 1 || secs > 240)
		secs = 20;
	snprintf(path, sizeof(path), "%s.race", self->path);
	fd = make_file(path, RACE_LEN, RACE_SEED);
	ASSERT_LE(0, fd) TH_LOG("cannot create %s: %s", path, strerror(errno));
	/* only the descriptor and the mappings are needed: nothing left behind */
	unlink(path);
	if (dev && *dev) {
		bfd = open(dev, O_RDWR | O_DIRECT);
		ASSERT_LE(0, bfd) TH_LOG("%s: %s", dev, strerror(errno));
		if (ioctl(bfd, BLKGETSIZE64, &devsize) == 0 && devsize >= RACE_LEN)
			n = 5;
		else
			TH_LOG("%s: no size (BLKGETSIZE64) or under %lu MiB: no O_DIRECT thread",
			       dev, RACE_LEN / MiB);
	} else {
		TH_LOG("DAX_TEST_BLOCKDEV not set: no O_DIRECT thread");
	}
	memset(t, 0, sizeof(t));
	for (int i = 0; i < n; i++) {
		t[i].fd = fd;
		t[i].bfd = bfd;
		t[i].stop = &stop;
		t[i].rng = ((uint64_t)getpid() << 32) ^ dax_pattern(i + 1, 0);
		if (fn[i] == race_truncate || fn[i] == race_punch)
			continue;
		/* the second faulting thread maps 4 KiB off a PMD boundary: PTEs */
		t[i].map = map_at(fd, RACE_LEN, 0, i == 1 ? 4 * KiB : 0,
				  PROT_READ | PROT_WRITE, MAP_SHARED);
		ASSERT_NE(MAP_FAILED, t[i].map);
	}
	ASSERT_EQ(0, sigaction(SIGBUS, &sa, &old));
	for (started = 0; started < n; started++)
		if (pthread_create(&t[started].tid, NULL, fn[started], &t[started]))
			break;
	if (started == n)
		for (int left = secs; left > 0; )
			left = sleep(left);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < started; i++)
		pthread_join(t[i].tid, NULL);
	sigaction(SIGBUS, &old, NULL);
	ASSERT_EQ(n, started) TH_LOG("pthread_create failed");
	for (int i = 0; i < n; i++) {
		TH_LOG("%s: %lu ops, %lu SIGBUS, %lu EFAULT", names[i], t[i].ops,
		       t[i].sigbus, t[i].efault);
		EXPECT_EQ(0, t[i].err) TH_LOG("%s: %s", t[i].what, strerror(t[i].err));
	}

	/* the data written last is what every mapping and read(2) see */
	buf = malloc(RACE_LEN);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, ftruncate(fd, RACE_LEN));
	dax_fill(buf, RACE_LEN, 0, RACE_SEED + 2);
	ASSERT_EQ((ssize_t)RACE_LEN, pwrite(fd, buf, RACE_LEN, 0));
	p = mmap(NULL, RACE_LEN, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, dax_check(p, RACE_LEN, 0, RACE_SEED + 2));
	munmap(p, RACE_LEN);
	for (int i = 0; i < n; i++) {
		if (!t[i].map)
			continue;
		EXPECT_EQ(-1, dax_check(t[i].map, RACE_LEN, 0, RACE_SEED + 2))
			TH_LOG("stale data through the mapping of the %s thread", names[i]);
		munmap(t[i].map, RACE_LEN);
	}
	memset(buf, 0, RACE_LEN);
	ASSERT_EQ(0, pread_full(fd, buf, RACE_LEN, 0));
	EXPECT_EQ(-1, dax_check(buf, RACE_LEN, 0, RACE_SEED + 2));
	EXPECT_EQ(0, fsync(fd));
	free(buf);
	if (bfd >= 0)
		close(bfd);
	close(fd);
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

/* --- memory failure (last: the poisoned page stays poisoned) ------------ */

/* The byte address on the device of @fd's block at @off, -1 if unknown. */
static long long fiemap_phys(int fd, off_t off, int *shared)
{
	union {
		struct fiemap fm;
		char buf[sizeof(struct fiemap) + sizeof(struct fiemap_extent)];
	} u;
	struct fiemap *fm = &u.fm;
	struct fiemap_extent *fe = &fm->fm_extents[0];

	memset(&u, 0, sizeof(u));
	fm->fm_start = off;
	fm->fm_length = 4 * KiB;
	fm->fm_flags = FIEMAP_FLAG_SYNC;
	fm->fm_extent_count = 1;
	if (ioctl(fd, FS_IOC_FIEMAP, fm) || fm->fm_mapped_extents != 1 ||
	    (fe->fe_flags & (FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_UNWRITTEN)))
		return -1;
	*shared = !!(fe->fe_flags & FIEMAP_EXTENT_SHARED);
	return fe->fe_physical + (off - fe->fe_logical);
}

/*
 * 1 if GETFSMAP names the inode of @fd as the owner of some blocks, which
 * xfs can tell only with a reverse mapping btree; 0 if not, -1 on error.
 */
static int fsmap_names_inode(int fd)
{
	const unsigned int count = 128;
	struct fsmap_head *h = calloc(1, fsmap_sizeof(count));
	int found = -1;
	struct stat st;

	if (!h || fstat(fd, &st))
		goto out;
	h->fmh_count = count;
	h->fmh_keys[1].fmr_device = UINT32_MAX;
	h->fmh_keys[1].fmr_physical = UINT64_MAX;
	h->fmh_keys[1].fmr_owner = UINT64_MAX;
	h->fmh_keys[1].fmr_offset = UINT64_MAX;
	h->fmh_keys[1].fmr_flags = UINT32_MAX;
	for (int batch = 0; batch < 256; batch++) {
		if (ioctl(fd, FS_IOC_GETFSMAP, h))
			goto out;
		found = 0;
		for (unsigned int i = 0; i < h->fmh_entries; i++)
			if (!(h->fmh_recs[i].fmr_flags & FMR_OF_SPECIAL_OWNER) &&
			    h->fmh_recs[i].fmr_owner == st.st_ino)
				found = 1;
		if (found || !h->fmh_entries ||
		    (h->fmh_recs[h->fmh_entries - 1].fmr_flags & FMR_OF_LAST))
			break;
		fsmap_advance(h);
	}
out:
	free(h);
	return found;
}

#define HWP_POISON_OFF (PMD_SIZE / 2 + 4 * KiB)	/* in the first PMD */
#define HWP_COW_OFF (2 * PMD_SIZE + 8 * KiB)	/* in the third */
#define HWP_COW_SEED 19
#define HWP_WAIT 60	/* seconds a child waits to be killed */

struct hwp_mapper {
	int fd, ready;
	int go;		/* >= 0: poison the page once a byte arrives here */
	int cow;	/* write a page first: unshares its PMD range */
};

/* exit status of the poisoning mapper when it is not killed */
#define HWP_NOGO 124	/* the parent closed @go without a byte */

/*
 * A mapper of one of the files: maps all of it, reads it, and waits to be
 * killed.  Reports to @ready: 'r' ready, or what went wrong.  With @go it
 * then poisons the shared page through its own mapping (MADV_HWPOISON)
 * when told to, and memory failure kills it with an action-required
 * SIGBUS; the other mapper only gets an action-optional one, because it
 * asked for early kill.
 */
static void hwp_mapper(void *arg)
{
	struct hwp_mapper *m = arg;
	char c = 'r', *p = MAP_FAILED;

	alarm(HWP_WAIT);	/* SIGALRM, not SIGBUS, if nobody kills it */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);	/* no core dump of a DAX mapping */
	if (prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0))
		c = 'k';
	p = map_at(m->fd, FILE_LEN, 0, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	if (p == MAP_FAILED) {
		c = 'm';
	} else {
		/* faults in every PMD, the poisoned page's among them */
		if (dax_check(p, FILE_LEN, 0, 1) != -1)
			c = 'd';
		if (m->cow) {
			dax_fill(p + HWP_COW_OFF, 4 * KiB, HWP_COW_OFF, HWP_COW_SEED);
			if (dax_check(p + HWP_COW_OFF, 4 * KiB, HWP_COW_OFF, HWP_COW_SEED) != -1)
				c = 'w';
		}
	}
	if (write(m->ready, &c, 1) != 1)
		_exit(1);
	if (m->go < 0 || c != 'r')
		for (;;)
			pause();
	if (read(m->go, &c, 1) != 1)
		_exit(HWP_NOGO);
	if (madvise(p + HWP_POISON_OFF, 4 * KiB, MADV_HWPOISON))
		_exit(errno);
	/* the action-required SIGBUS is due on the way out of madvise() */
	_exit(0);
}

static const char *hwp_mapper_error(char c)
{
	switch (c) {
	case 'k':
		return "prctl(PR_MCE_KILL, PR_MCE_KILL_EARLY) failed";
	case 'm':
		return "cannot map the file";
	case 'd':
		return "wrong data through the mapping";
	case 'w':
		return "the write through the mapping did not stick";
	default:
		return "died before it was ready";
	}
}

static pid_t fork_child(void (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	return pid;
}

/* how a child ended, for messages */
static const char *status_str(int status, char *buf, size_t size)
{
	if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, size, "exited with %d", WEXITSTATUS(status));
	return buf;
}

/*
 * Two xfs files share their extents (FICLONE).  One process maps each
 * file and reads it all; the mapper of the clone also writes a page, which
 * unshares (copies on write) that part of the clone and must leave the
 * original alone.  The mapper of the original then poisons a page still
 * shared by both files through its mapping (MADV_HWPOISON).  xfs finds
 * both owners of the block in its reverse map, and memory failure kills
 * the processes that map the page through either file (mf_dax_kill_procs()
 * and collect_procs_fsdax()): the caller with an action-required SIGBUS,
 * the mapper of the clone, which asked for early kill, with an
 * action-optional one.
 *
 * The poisoning is done by the original's mapper, not by a third process:
 * a fault on a shared extent unmaps the entry's range from every other
 * process mapping the same file (dax_insert_entry()), and memory failure
 * signals only the tasks that map the page when it runs.  A third
 * process's fault would leave the original's mapper nothing to be killed
 * for.  Needs xfs with rmapbt and reflink, CONFIG_MEMORY_FAILURE and
 * CAP_SYS_ADMIN.
 */
TEST_F_TIMEOUT(dax, reflink_hwpoison_kills_both, 180)
{
	struct hwp_mapper m1 = { .fd = self->fd }, m2 = { .go = -1, .cow = 1 };
	pid_t pid1 = -1, pid2 = -1;
	int pfd[2], go[2] = { -1, -1 }, status, shared1 = 0, shared2 = 0, rmap, poison_shared;
	long long phys1, phys2;
	char path[4200], ready[2] = { 0, 0 }, msg[64], *buf;
	ssize_t got = 0;

	if (strcmp(variant->fs, "xfs"))
		SKIP(return, "memory failure of shared extents: xfs only");
	snprintf(path, sizeof(path), "%s.hwpoison", self->path);
	m2.fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, m2.fd);
	if (ioctl(m2.fd, FICLONE, self->fd)) {
		int err = errno;

		close(m2.fd);
		unlink(path);
		SKIP(return, "%s cannot reflink: %s", variant->fs, strerror(err));
	}
	rmap = fsmap_names_inode(self->fd);
	if (rmap != 1) {
		const char *why = rmap < 0 ? strerror(errno) : "GETFSMAP names no inodes";

		close(m2.fd);
		unlink(path);
		SKIP(return, "xfs without rmapbt, memory failure cannot find a block's owners (%s)",
		     why);
	}
	buf = malloc(4 * KiB);
	ASSERT_NE(NULL, buf);

	ASSERT_EQ(0, pipe(pfd));
	m1.ready = pfd[1];
	m2.ready = pfd[1];
	pid2 = fork_child(hwp_mapper, &m2);
	ASSERT_LT(0, pid2);
	/* only the original's mapper and this process hold the go pipe */
	ASSERT_EQ(0, pipe(go));
	m1.go = go[0];
	pid1 = fork_child(hwp_mapper, &m1);
	ASSERT_LT(0, pid1);
	close(go[0]);
	close(pfd[1]);
	/* EOF only once both are gone; each kills itself after HWP_WAIT s */
	while (got < 2) {
		ssize_t n = read(pfd[0], ready + got, 2 - got);

		if (n <= 0)
			break;
		got += n;
	}
	close(pfd[0]);
	/* the order of the two bytes is not known, but both must say ready */
	EXPECT_TRUE(ready[0] == 'r' && ready[1] == 'r')
		TH_LOG("a mapper: %s", hwp_mapper_error(ready[0] != 'r' ? ready[0] : ready[1]));
	if (ready[0] != 'r' || ready[1] != 'r')
		goto kill;

	/* the clone's write was copied on write; the original is unchanged */
	EXPECT_EQ(0, pread_full(self->fd, buf, 4 * KiB, HWP_COW_OFF));
	EXPECT_EQ(-1, dax_check(buf, 4 * KiB, HWP_COW_OFF, 1))
		TH_LOG("a write to the clone's mapping changed the original");
	EXPECT_EQ(0, pread_full(m2.fd, buf, 4 * KiB, HWP_COW_OFF));
	EXPECT_EQ(-1, dax_check(buf, 4 * KiB, HWP_COW_OFF, HWP_COW_SEED))
		TH_LOG("the write to the clone's mapping is not in the clone");
	phys1 = fiemap_phys(self->fd, HWP_COW_OFF, &shared1);
	phys2 = fiemap_phys(m2.fd, HWP_COW_OFF, &shared2);
	EXPECT_TRUE(phys1 >= 0 && phys2 >= 0 && phys1 != phys2)
		TH_LOG("the written page is not a block of its own: %lld, %lld", phys1, phys2);
	/* ... while the page to poison is still one block of both files */
	phys1 = fiemap_phys(self->fd, HWP_POISON_OFF, &shared1);
	phys2 = fiemap_phys(m2.fd, HWP_POISON_OFF, &shared2);
	poison_shared = phys1 >= 0 && phys1 == phys2 && shared1 && shared2;
	EXPECT_TRUE(poison_shared)
		TH_LOG("the page to poison is not shared: %lld%s, %lld%s", phys1,
		       shared1 ? " (shared)" : "", phys2, shared2 ? " (shared)" : "");
	if (!poison_shared)
		goto kill;

	/* nothing has faulted the original since its mapper read it */
	ASSERT_EQ(1, write(go[1], "p", 1));
	ASSERT_EQ(pid1, waitpid(pid1, &status, 0));
	pid1 = -1;
	if (WIFEXITED(status) && (WEXITSTATUS(status) == EPERM || WEXITSTATUS(status) == EINVAL)) {
		kill(pid2, SIGKILL);
		waitpid(pid2, NULL, 0);
		close(go[1]);
		close(m2.fd);
		unlink(path);
		free(buf);
		SKIP(return, "MADV_HWPOISON: %s", WEXITSTATUS(status) == EPERM ?
		     "no CAP_SYS_ADMIN" : "EINVAL, no CONFIG_MEMORY_FAILURE");
	}
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS)
		TH_LOG("the mapper of the original, which poisoned the page, %s%s",
		       status_str(status, msg, sizeof(msg)),
		       WIFEXITED(status) && WEXITSTATUS(status) != HWP_NOGO &&
		       WEXITSTATUS(status) ? " (an errno of madvise)" : "");

	/* the clone's mapper is killed now, or by its alarm after HWP_WAIT s */
	ASSERT_EQ(pid2, waitpid(pid2, &status, 0));
	pid2 = -1;
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS)
		TH_LOG("the mapper of the clone: %s", status_str(status, msg, sizeof(msg)));
kill:
	if (pid1 > 0) {
		kill(pid1, SIGKILL);
		waitpid(pid1, NULL, 0);
	}
	if (pid2 > 0) {
		kill(pid2, SIGKILL);
		waitpid(pid2, NULL, 0);
	}
	close(go[1]);
	close(m2.fd);
	unlink(path);
	free(buf);
}

TEST_HARNESS_MAIN
