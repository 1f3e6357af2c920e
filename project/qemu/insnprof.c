// SPDX-License-Identifier: GPL-2.0
/*
 * insnprof: a QEMU (plugin API 1) plugin that counts how often each guest
 * instruction executes, in kernel space only, for attributing a
 * benchmark's instructions to kernel symbols.  Each translation block gets
 * one inline counter; at exit every instruction address is written with
 * the summed count of the blocks that contain it.
 *
 * qemu ... -plugin insnprof.so,out=FILE (`daxrs bench --profile`; plugin
 * API 1, QEMU 7.x: the few declarations it needs are written here, as the
 * distribution ships no qemu-plugin.h)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
typedef struct {
	const char *target_name;
	struct { int min, cur; } version;
	bool system_emulation;
	union { struct { int smp_vcpus, max_vcpus; } system; };
} qemu_info_t;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
		void (*cb)(qemu_plugin_id_t, struct qemu_plugin_tb *));
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb,
		enum qemu_plugin_op op, void *ptr, uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
		void (*cb)(qemu_plugin_id_t, void *), void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

struct block {
	struct block *next;
	uint64_t count;
	size_t n;
	uint64_t addr[];
};

static struct block *blocks;
static const char *outfile = "insnprof.out";

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb);
	struct block *b;

	if (qemu_plugin_tb_vaddr(tb) < 0xffff800000000000ULL)
		return;
	b = calloc(1, sizeof(*b) + n * sizeof(uint64_t));
	if (!b)
		return;
	b->n = n;
	for (size_t i = 0; i < n; i++)
		b->addr[i] = qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, i));
	b->next = blocks;
	blocks = b;
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
						 &b->count, 1);
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
	FILE *f = fopen(outfile, "w");

	if (!f) {
		perror(outfile);
		return;
	}
	for (struct block *b = blocks; b; b = b->next) {
		if (!b->count)
			continue;
		for (size_t i = 0; i < b->n; i++)
			fprintf(f, "%llx %llu\n", (unsigned long long)b->addr[i],
				(unsigned long long)b->count);
	}
	fclose(f);
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
			int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (!strncmp(argv[i], "out=", 4))
			outfile = argv[i] + 4;
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
