/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: hv's x86-64 decoder for trapped instructions (x86_decode.c),
 * on any bytes: the first up to 15 are the code; bytes after them, if any,
 * fill the registers the emulation reads and writes. What it accepts must
 * describe an access it can emulate; the same instruction must decode the
 * same with only its own bytes available, and not at all with fewer; and
 * with all the input available, it must not look past the 15-byte limit.
 */
#include <errno.h>
#include <sanitizer/asan_interface.h>

#include "fuzz.h"
#include "x86_decode.h"

static int same(const struct x86_insn *a, const struct x86_insn *b)
{
	return a->op == b->op && a->len == b->len && a->size == b->size &&
	       a->port_in_dx == b->port_in_dx && a->port_imm == b->port_imm && a->reg == b->reg &&
	       a->reg_high8 == b->reg_high8 && a->dst_size == b->dst_size &&
	       a->sign_extend == b->sign_extend && a->has_imm == b->has_imm && a->imm == b->imm;
}

static int width_ok(unsigned n)
{
	return n == 1 || n == 2 || n == 4 || n == 8;
}

static void check_insn(const struct x86_insn *insn, size_t avail)
{
	FUZZ_CHECK(insn->op != X86_OP_NONE);
	FUZZ_CHECK(insn->len >= 1 && insn->len <= X86_MAX_INSN_LEN && insn->len <= avail);
	FUZZ_CHECK(width_ok(insn->size) && width_ok(insn->dst_size));
	FUZZ_CHECK(insn->dst_size >= insn->size);
	FUZZ_CHECK(insn->reg < X86_NR_GPRS);
	FUZZ_CHECK(!insn->reg_high8 || (insn->reg <= X86_RBX && insn->size == 1));
	if (insn->op == X86_OP_IN || insn->op == X86_OP_OUT)
		FUZZ_CHECK(insn->size <= 4 && insn->reg == X86_RAX && !insn->has_imm);
	if (insn->op != X86_OP_LOAD)
		FUZZ_CHECK(!insn->sign_extend);
	if (insn->has_imm)
		FUZZ_CHECK(insn->op == X86_OP_STORE &&
			   (insn->size == 8 || insn->imm >> (8 * insn->size) == 0));
}

/* The emulation's two halves on registers from the input: only the destination changes. */
static void check_emulation(const struct x86_insn *insn, struct fuzz_in *in)
{
	uint64_t gpr[X86_NR_GPRS], before[X86_NR_GPRS];
	uint64_t data = fuzz_u64(in), v;
	int loads = insn->op == X86_OP_LOAD || insn->op == X86_OP_IN;

	for (unsigned i = 0; i < X86_NR_GPRS; i++)
		gpr[i] = before[i] = fuzz_u64(in);
	v = x86_write_value(insn, gpr);
	FUZZ_CHECK(insn->size == 8 || v >> (8 * insn->size) == 0);
	x86_read_complete(insn, gpr, data);
	for (unsigned i = 0; i < X86_NR_GPRS; i++)
		FUZZ_CHECK(gpr[i] == before[i] || (loads && i == insn->reg));
}

/* Decoding with more than 15 bytes available reads none past the 15th (they are poisoned). */
static void check_limit(const uint8_t *data, size_t size, int rc, const struct x86_insn *insn)
{
	uint8_t *all = fuzz_dup(data, size);
	struct x86_insn wide;

	ASAN_POISON_MEMORY_REGION(all + X86_MAX_INSN_LEN, size - X86_MAX_INSN_LEN);
	FUZZ_CHECK(x86_decode(all, size, &wide) == rc && same(&wide, insn));
	ASAN_UNPOISON_MEMORY_REGION(all + X86_MAX_INSN_LEN, size - X86_MAX_INSN_LEN);
	free(all);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t avail = size < X86_MAX_INSN_LEN ? size : X86_MAX_INSN_LEN;
	uint8_t *code = fuzz_dup(data, avail); /* exactly avail bytes: ASan sees a read past them */
	struct x86_insn insn, again;
	struct fuzz_in regs = { data + avail, size - avail };
	int rc = x86_decode(code, avail, &insn);

	if (size > X86_MAX_INSN_LEN)
		check_limit(data, size, rc, &insn);
	if (rc) {
		FUZZ_CHECK(rc == -EINVAL && insn.op == X86_OP_NONE);
		free(code);
		return 0;
	}
	check_insn(&insn, avail);
	/* Decoding reads nothing past the instruction: its own bytes decode it the same. */
	FUZZ_CHECK(x86_decode(code, insn.len, &again) == 0 && same(&insn, &again));
	/* One byte short is refused, never guessed at. */
	FUZZ_CHECK(x86_decode(code, insn.len - 1, &again) == -EINVAL);
	check_emulation(&insn, &regs);
	free(code);
	return 0;
}
