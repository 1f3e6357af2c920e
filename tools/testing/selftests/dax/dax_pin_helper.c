// SPDX-License-Identifier: GPL-2.0
/*
 * dax_pin_helper PATH BLOCKDEV - for dax_fs.sh: DAX inodes are evicted, and
 * their file system unmounted, while O_DIRECT writes from their pages are
 * in flight.
 *
 * The helper makes PATH.deleted and PATH.kept on a DAX file system, maps
 * both, unlinks PATH.deleted and queues O_DIRECT writes of both mappings to
 * BLOCKDEV with Linux AIO, the deleted file's first.  GUP pins the DAX
 * pages when a write is submitted, and the pins stay until it completes,
 * whatever happens to the mapping.  The helper then unmaps and closes both
 * files: closing PATH.deleted evicts its inode, which must wait for the
 * writes before the blocks are freed.  To catch blocks that were not waited
 * for, it fills a new file, PATH.reuse, which may be given them.  It prints
 * "unmapped" and dax_fs.sh unmounts the file system, which evicts
 * PATH.kept and must wait for its writes too.  Finally the helper reaps the
 * writes and reads BLOCKDEV back: every write must have succeeded and
 * carried its own file's data.  PATH.kept stays behind, for dax_fs.sh to
 * remove.
 *
 * Synchronous O_DIRECT could not do this: a write issued after munmap()
 * pins nothing (EFAULT), and one issued before may be over before the
 * unmount begins.  Queued AIO keeps its pins from io_submit() to
 * completion.  Whether some are still held when the eviction or the
 * unmount gets to them depends on how fast BLOCKDEV (a loop device) drains
 * the queue: the helper prints how many writes were in flight, but does not
 * require any.
 *
 * Exit status: KSFT_PASS, KSFT_FAIL, or KSFT_SKIP (no AIO, BLOCKDEV too
 * small).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/fs.h>
#include <linux/stat.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest.h"
#include "dax_common.h"

#define LEN (4 * MiB)		/* of each file, and of each write */
#define MAX_WRITES 4		/* of each file */
#define DELETED_SEED 41
#define KEPT_SEED 42
#define REUSE_SEED 43
#define WAIT_SECONDS 120

static void die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "dax_pin_helper: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(code);
}

/* A new DAX file at @path with LEN bytes of @seed's pattern (or die) */
static int make_file(const char *path, unsigned int seed, char *buf)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	struct statx stx;

	if (fd < 0)
		die(KSFT_FAIL, "%s: %s", path, strerror(errno));
	/* commit what the eviction of the deleted file freed, so it can be reused */
	if (seed == REUSE_SEED)
		syncfs(fd);
	dax_fill(buf, LEN, 0, seed);
	if (fallocate(fd, 0, 0, LEN) || pwrite(fd, buf, LEN, 0) != (ssize_t)LEN || fsync(fd))
		die(KSFT_FAIL, "cannot fill %s: %s", path, strerror(errno));
	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) ||
	    !(stx.stx_attributes & STATX_ATTR_DAX))
		die(KSFT_FAIL, "%s is not a DAX file", path);
	return fd;
}

/* all of @fd, PMD-mapped and faulted in */
static char *map_file(int fd)
{
	char *win = dax_pmd_window(LEN), *p;

	p = win ? mmap(win, LEN, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0) : MAP_FAILED;
	if (p == MAP_FAILED)
		die(KSFT_FAIL, "mmap: %s", strerror(errno));
	for (size_t off = 0; off < LEN; off += PMD_SIZE)
		(void)__atomic_load_n(p + off, __ATOMIC_RELAXED);
	return p;
}

/* Reap completions (waiting up to @secs for at least one); how many. */
static int reap(aio_context_t ctx, int pending, long long *res, time_t secs)
{
	struct io_event ev[2 * MAX_WRITES];
	struct timespec ts = { .tv_sec = secs };
	long n = syscall(__NR_io_getevents, ctx, secs ? 1 : 0, pending, ev, &ts);

	if (n < 0 && errno != EINTR)
		die(KSFT_FAIL, "io_getevents: %s", strerror(errno));
	for (long i = 0; i < n; i++)
		res[ev[i].data] = ev[i].res;
	return n < 0 ? 0 : n;
}

int main(int argc, char **argv)
{
	struct iocb cb[2 * MAX_WRITES], *cbs[2 * MAX_WRITES];
	long long res[2 * MAX_WRITES];
	char deleted[4096], kept[4096], reuse[4096], *buf, *rb, *map[2];
	int fd[2], bfd, nw, n, done = 0, fail = 0;
	aio_context_t ctx = 0;
	uint64_t devsize;
	time_t end;

	if (argc != 3)
		die(KSFT_FAIL, "usage: dax_pin_helper PATH BLOCKDEV");
	snprintf(deleted, sizeof(deleted), "%s.deleted", argv[1]);
	snprintf(kept, sizeof(kept), "%s.kept", argv[1]);
	snprintf(reuse, sizeof(reuse), "%s.reuse", argv[1]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	buf = malloc(LEN);
	if (!buf)
		die(KSFT_FAIL, "out of memory");
	bfd = open(argv[2], O_RDWR | O_DIRECT);
	if (bfd < 0 || ioctl(bfd, BLKGETSIZE64, &devsize))
		die(KSFT_FAIL, "%s: %s", argv[2], strerror(errno));
	nw = devsize / (2 * LEN);
	if (nw > MAX_WRITES)
		nw = MAX_WRITES;
	if (nw < 1)
		die(KSFT_SKIP, "%s: under %lu MiB", argv[2], 2 * LEN / MiB);
	/* the sysctl exists only with CONFIG_AIO */
	if (access("/proc/sys/fs/aio-max-nr", F_OK))
		die(KSFT_SKIP, "no Linux AIO in this kernel (CONFIG_AIO)");
	if (syscall(__NR_io_setup, 2 * nw, &ctx))
		die(KSFT_FAIL, "io_setup: %s", strerror(errno));

	fd[0] = make_file(deleted, DELETED_SEED, buf);
	fd[1] = make_file(kept, KEPT_SEED, buf);
	map[0] = map_file(fd[0]);
	map[1] = map_file(fd[1]);
	if (unlink(deleted))
		die(KSFT_FAIL, "unlink %s: %s", deleted, strerror(errno));

	/* BLOCKDEV gets nw copies of the deleted file, then nw of the kept one */
	for (int i = 0; i < 2 * nw; i++) {
		memset(&cb[i], 0, sizeof(cb[i]));
		cb[i].aio_data = i;
		cb[i].aio_lio_opcode = IOCB_CMD_PWRITE;
		cb[i].aio_fildes = bfd;
		cb[i].aio_buf = (uintptr_t)map[i / nw];
		cb[i].aio_nbytes = LEN;
		cb[i].aio_offset = (long long)i * LEN;
		cbs[i] = &cb[i];
		res[i] = -EINPROGRESS;
	}
	for (n = 0; n < 2 * nw; ) {
		long r = syscall(__NR_io_submit, ctx, 2 * nw - n, cbs + n);

		if (r <= 0)
			die(KSFT_FAIL, "io_submit: %s", r ? strerror(errno) : "nothing queued");
		n += r;
	}
	done += reap(ctx, 2 * nw - done, res, 0);
	printf("queued %d O_DIRECT writes of %lu MiB from DAX mappings, %d already complete\n",
	       2 * nw, LEN / MiB, done);

	/* from here on only the writes in flight keep the DAX pages busy */
	if (munmap(map[0], LEN) || munmap(map[1], LEN))
		die(KSFT_FAIL, "munmap: %s", strerror(errno));
	close(fd[1]);	/* stays cached: the unmount evicts it */
	close(fd[0]);	/* the last reference: evicted now */
	close(make_file(reuse, REUSE_SEED, buf));
	unlink(reuse);
	done += reap(ctx, 2 * nw - done, res, 0);
	printf("unmapped: %d of %d writes in flight\n", 2 * nw - done, 2 * nw);

	end = time(NULL) + WAIT_SECONDS;
	while (done < 2 * nw && time(NULL) < end)
		done += reap(ctx, 2 * nw - done, res, end - time(NULL) > 0 ? end - time(NULL) : 1);
	if (done < 2 * nw)
		die(KSFT_FAIL, "%d writes still in flight after %d s", 2 * nw - done, WAIT_SECONDS);

	/* every write succeeded and carried the data of its own file */
	rb = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rb == MAP_FAILED)
		die(KSFT_FAIL, "mmap: %s", strerror(errno));
	for (int i = 0; i < 2 * nw; i++) {
		unsigned int seed = i < nw ? DELETED_SEED : KEPT_SEED;
		const char *what = i < nw ? "deleted" : "kept";
		long bad;

		if (res[i] != (long long)LEN) {
			fprintf(stderr, "dax_pin_helper: write %d (%s file): %s\n", i, what,
				res[i] < 0 ? strerror(-res[i]) : "short");
			fail = 1;
			continue;
		}
		if (pread(bfd, rb, LEN, (off_t)i * LEN) != (ssize_t)LEN)
			die(KSFT_FAIL, "read back %s: %s", argv[2], strerror(errno));
		bad = dax_check(rb, LEN, 0, seed);
		if (bad < 0)
			continue;
		fprintf(stderr,
			"dax_pin_helper: write %d (%s file) carried wrong data at %ld: %s\n",
			i, what, bad,
			dax_pattern_offset(*(uint64_t *)(rb + bad), REUSE_SEED, LEN) >= 0 ?
			"the data of a file that got the blocks while the write was in flight" :
			"not any file's");
		fail = 1;
	}
	syscall(__NR_io_destroy, ctx);
	printf("%d writes complete%s\n", 2 * nw, fail ? "" : " and correct");
	return fail ? KSFT_FAIL : KSFT_PASS;
}
