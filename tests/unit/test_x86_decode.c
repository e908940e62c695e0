/* SPDX-License-Identifier: MIT */
/* Unit test of hv's x86 decoder: assembler-made encodings, register semantics, refusals, fuzz. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "x86_decode.h"

/*
 * Each case: the instruction as gas spells it, and what the decoder must
 * make of it. The assembler, not this file, supplies the bytes and the
 * length, so an encoding mistake here cannot hide a decoder mistake.
 * dst == 0 means dst_size == size.
 */
#define ST(sz, r)     .op = X86_OP_STORE, .size = sz, .reg = r
#define STI(sz, v)    .op = X86_OP_STORE, .size = sz, .has_imm = true, .imm = v
#define LD(sz, r)     .op = X86_OP_LOAD, .size = sz, .reg = r
#define LDX(sz, d, r) .op = X86_OP_LOAD, .size = sz, .dst = d, .reg = r
#define PIN(sz)       .op = X86_OP_IN, .size = sz, .reg = X86_RAX
#define POUT(sz)      .op = X86_OP_OUT, .size = sz, .reg = X86_RAX
#define HIGH8         .high8 = true
#define SEXT          .sext = true
#define DX            .dx = true

#define CASES(X)                                                                 \
	/* Port I/O: imm8 and dx ports, 66 for 16 bits, REX.W changes nothing. */ \
	X("in $0x12, %al", PIN(1), .port = 0x12)                                   \
	X("in $0x80, %eax", PIN(4), .port = 0x80)                                  \
	X("in $0x71, %ax", PIN(2), .port = 0x71)                                   \
	X("in %dx, %al", PIN(1), DX)                                               \
	X("in %dx, %ax", PIN(2), DX)                                               \
	X("in %dx, %eax", PIN(4), DX)                                              \
	X("rex.W in %dx, %eax", PIN(4), DX)                                        \
	X("rex.W in $0xff, %eax", PIN(4), .port = 0xff)                            \
	X("out %al, $0xe9", POUT(1), .port = 0xe9)                                 \
	X("out %ax, $0x10", POUT(2), .port = 0x10)                                 \
	X("out %eax, $0xff", POUT(4), .port = 0xff)                                \
	X("out %al, %dx", POUT(1), DX)                                             \
	X("out %ax, %dx", POUT(2), DX)                                             \
	X("out %eax, %dx", POUT(4), DX)                                            \
	X("rex.W out %eax, %dx", POUT(4), DX)                                      \
	/* 88: byte stores, ah..bh without REX, spl..dil and r8b.. with it. */    \
	X("mov %al, (%rax)", ST(1, X86_RAX))                                       \
	X("mov %ah, (%rcx)", ST(1, X86_RAX), HIGH8)                                \
	X("mov %ch, 0x10(%rbx)", ST(1, X86_RCX), HIGH8)                            \
	X("mov %dh, (%rsp)", ST(1, X86_RDX), HIGH8)                                \
	X("mov %bh, -0x80(%rbp)", ST(1, X86_RBX), HIGH8)                           \
	X("mov %spl, (%rax)", ST(1, X86_RSP))                                      \
	X("mov %bpl, (%rax)", ST(1, X86_RBP))                                      \
	X("mov %sil, (%rdi)", ST(1, X86_RSI))                                      \
	X("mov %dil, (%r12)", ST(1, X86_RDI))                                      \
	X("mov %r8b, (%r9)", ST(1, X86_R8))                                        \
	X("mov %r15b, 0x12345678(%rax)", ST(1, X86_R15))                           \
	X("rex mov %al, (%rax)", ST(1, X86_RAX))                                   \
	/* 89: every addressing form, with 66, REX.W, 67 and segments. */         \
	X("mov %ax, (%rsp)", ST(2, X86_RAX))                                       \
	X("mov %eax, (%r12)", ST(4, X86_RAX))                                      \
	X("mov %ecx, (%rbp)", ST(4, X86_RCX))                                      \
	X("mov %edx, (%r13)", ST(4, X86_RDX))                                      \
	X("mov %r15d, 0x10(%rip)", ST(4, X86_R15))                                 \
	X("mov %rbx, (%rax,%rcx,8)", ST(8, X86_RBX))                               \
	X("mov %r11, 0x1000(,%rdx,4)", ST(8, X86_R11))                             \
	X("mov %esi, 0x12345678", ST(4, X86_RSI))                                  \
	X("mov %edi, -8(%rbp,%r14,2)", ST(4, X86_RDI))                             \
	X("mov %rsp, 0x80(%rsp)", ST(8, X86_RSP))                                  \
	X("mov %r12, 0x7f(%r13,%r12,1)", ST(8, X86_R12))                           \
	X("mov %r13, (%r13,%rax,1)", ST(8, X86_R13))                               \
	X("mov %eax, (,%rbp,1)", ST(4, X86_RAX))                                   \
	X("mov %eax, (%eax)", ST(4, X86_RAX))                                      \
	X("mov %r9w, 0x1000(%r10d)", ST(2, X86_R9))                                \
	X("mov %r10d, 0x10(%eip)", ST(4, X86_R10))                                 \
	X("mov %eax, %fs:(%rax)", ST(4, X86_RAX))                                  \
	X("mov %rax, %gs:0x30(%rbx)", ST(8, X86_RAX))                              \
	X("mov %eax, %es:(%rax)", ST(4, X86_RAX))                                  \
	X("ds mov %ebp, (%rax)", ST(4, X86_RBP))                                   \
	X("cs mov %r8d, (%rax)", ST(4, X86_R8))                                 \
	X("data16 mov %rax, (%rax)", ST(8, X86_RAX))                         \
	/* c6 /0, c7 /0: immediates, imm32 sign-extended for REX.W. */            \
	X("movb $0x5a, (%rax)", STI(1, 0x5a))                                      \
	X("movb $0xff, 0x10(%rip)", STI(1, 0xff))                                  \
	X("movb $0x80, %gs:(%r12)", STI(1, 0x80))                                  \
	X("movw $0x1234, (%rbx)", STI(2, 0x1234))                                  \
	X("movw $-1, %gs:(%r13)", STI(2, 0xffff))                                  \
	X("movl $0xdeadbeef, (%r8)", STI(4, 0xdeadbeef))                           \
	X("movl $1, 0x10(%rip)", STI(4, 1))                                        \
	X("movq $-2, (%rax)", STI(8, 0xfffffffffffffffe))                          \
	X("movq $0x7fffffff, 8(%rax,%rbx,1)", STI(8, 0x7fffffff))                  \
	X("movq $-0x80000000, 0x1000(,%rdx,4)", STI(8, 0xffffffff80000000))        \
	/* 8a, 8b: loads. */                                                       \
	X("mov (%rax), %al", LD(1, X86_RAX))                                       \
	X("mov (%rcx), %ah", LD(1, X86_RAX), HIGH8)                                \
	X("mov 4(%rsp), %bh", LD(1, X86_RBX), HIGH8)                               \
	X("mov (%rax), %dil", LD(1, X86_RDI))                                      \
	X("mov (%r8), %r8b", LD(1, X86_R8))                                        \
	X("mov (%rax), %ax", LD(2, X86_RAX))                                       \
	X("mov (%rsp), %eax", LD(4, X86_RAX))                                      \
	X("mov 0x10(%rip), %r15d", LD(4, X86_R15))                                 \
	X("mov (%rbx), %rcx", LD(8, X86_RCX))                                      \
	X("mov -0x1000(%r13), %r12", LD(8, X86_R12))                               \
	X("mov %fs:(%r12,%r13,8), %esp", LD(4, X86_RSP))                           \
	X("mov (%ebp), %r14w", LD(2, X86_R14))                                     \
	/* movzx, movsx, movsxd. */                                                \
	X("movzbl (%rax), %eax", LDX(1, 4, X86_RAX))                               \
	X("movzbw (%rax), %ax", LDX(1, 2, X86_RAX))                                \
	X("movzbq (%rax), %r9", LDX(1, 8, X86_R9))                                 \
	X("movzbl 0x10(%rip), %edi", LDX(1, 4, X86_RDI))                           \
	X("movzwl (%rax), %ecx", LDX(2, 4, X86_RCX))                               \
	X("movzwq (%rbp), %rdx", LDX(2, 8, X86_RDX))                               \
	X("movzwl %gs:(%r12), %r11d", LDX(2, 4, X86_R11))                          \
	X("movsbl (%rax), %eax", LDX(1, 4, X86_RAX), SEXT)                         \
	X("movsbw (%rax), %ax", LDX(1, 2, X86_RAX), SEXT)                          \
	X("movsbq (%rax), %r9", LDX(1, 8, X86_R9), SEXT)                           \
	X("movswl (%rax), %esi", LDX(2, 4, X86_RSI), SEXT)                         \
	X("movswq (%r13), %r15", LDX(2, 8, X86_R15), SEXT)                         \
	X("movslq (%rax), %rax", LDX(4, 8, X86_RAX), SEXT)                         \
	X("movslq 0x10(%rip), %r10", LDX(4, 8, X86_R10), SEXT)                     \
	/* a0-a3: moffs64, moffs32 with 67. */                                     \
	X("movabs 0x1122334455667788, %al", LD(1, X86_RAX))                        \
	X("movabs 0x1122334455667788, %ax", LD(2, X86_RAX))                        \
	X("movabs 0x1122334455667788, %eax", LD(4, X86_RAX))                       \
	X("movabs 0x1122334455667788, %rax", LD(8, X86_RAX))                       \
	X("addr32 movabs 0x11223344, %eax", LD(4, X86_RAX))                        \
	X("movabs %al, 0x1122334455667788", ST(1, X86_RAX))                        \
	X("movabs %eax, %fs:0x1122334455667788", ST(4, X86_RAX))                   \
	X("movabs %rax, 0x1122334455667788", ST(8, X86_RAX))                       \
	X("addr32 movabs %ax, 0x11223344", ST(2, X86_RAX))

struct expect {
	const char *text;
	enum x86_op op;
	unsigned size, dst, reg;
	bool high8, sext, has_imm, dx;
	uint64_t imm;
	uint8_t port;
};

#define C_CASE(t, ...) {.text = t, __VA_ARGS__},
static const struct expect cases[] = {CASES(C_CASE)};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

/*
 * The assembled cases, back to back in x86_case_code, and each one's length
 * (end label minus start label) in x86_case_len. Data, never executed.
 */
#define ASM_CASE(t, ...) "1: " t "\n2:\n.pushsection .rodata.x86_case_len\n.byte 2b - 1b\n.popsection\n"
__asm__(".pushsection .rodata.x86_case_len, \"a\"\n"
	"x86_case_len:\n"
	".popsection\n"
	".pushsection .rodata.x86_case_code, \"a\"\n"
	"x86_case_code:\n" CASES(ASM_CASE) ".popsection\n");
extern const uint8_t x86_case_code[] __attribute__((visibility("hidden")));
extern const uint8_t x86_case_len[NCASES] __attribute__((visibility("hidden")));

/* Refusals, also from the assembler: no memory operand, a lock or rep prefix, other opcodes. */
#define REFUSALS(X)                       \
	X("mov %eax, %ebx")                   \
	X("mov %ebx, %eax")                   \
	X("mov %ah, %al")                     \
	X("movzbl %al, %eax")                 \
	X("movsbq %r8b, %rax")                \
	X("movslq %eax, %rax")                \
	X("xrelease mov %eax, (%rax)")        \
	X("xrelease movb $1, (%rax)")         \
	X("lock addl $1, (%rax)")             \
	X("lock xchg %eax, (%rax)")           \
	X("rep movsb")                        \
	X("rep insb (%dx), (%rdi)")           \
	X("rep outsb (%rsi), (%dx)")          \
	X("insl (%dx), (%rdi)")               \
	X("outsw (%rsi), (%dx)")              \
	X("add %eax, (%rax)")                 \
	X("push (%rax)")                      \
	X("mov %es, (%rax)")                  \
	X("mov (%rax), %es")                  \
	X("mov $1, %eax")                     \
	X("mov $1, %al")                      \
	X("movabs $0x1122334455667788, %rax") \
	X("movsxd (%rax), %eax")              \
	X("movnti %eax, (%rax)")              \
	X("movaps (%rax), %xmm0")             \
	X("vmovdqa (%rax), %ymm0")            \
	X("cmpxchg %ecx, (%rax)")             \
	X("xabort $1")                        \
	X("nop")                              \
	X("hlt")

#define C_REFUSAL(t) t,
static const char *const refusal_text[] = {REFUSALS(C_REFUSAL)};
#define NREFUSALS (sizeof(refusal_text) / sizeof(refusal_text[0]))

__asm__(".pushsection .rodata.x86_refusal_len, \"a\"\n"
	"x86_refusal_len:\n"
	".popsection\n"
	".pushsection .rodata.x86_refusal_code, \"a\"\n"
	"x86_refusal_code:\n" REFUSALS(ASM_CASE) ".popsection\n");
extern const uint8_t x86_refusal_code[] __attribute__((visibility("hidden")));
extern const uint8_t x86_refusal_len[NREFUSALS] __attribute__((visibility("hidden")));

/* Decode bytes copied into a heap buffer of exactly avail bytes: ASan traps any read past it. */
static int decode_exact(const uint8_t *bytes, size_t avail, struct x86_insn *insn)
{
	uint8_t *buf = malloc(avail ? avail : 1);
	int ret;

	if (!buf)
		abort();
	memcpy(buf, bytes, avail);
	ret = x86_decode(avail ? buf : buf + 1, avail, insn);
	free(buf);
	return ret;
}

static bool same_insn(const struct x86_insn *a, const struct x86_insn *b)
{
	return a->op == b->op && a->len == b->len && a->size == b->size &&
	       a->port_in_dx == b->port_in_dx && a->port_imm == b->port_imm && a->reg == b->reg &&
	       a->reg_high8 == b->reg_high8 && a->dst_size == b->dst_size &&
	       a->sign_extend == b->sign_extend && a->has_imm == b->has_imm && a->imm == b->imm;
}

/* Every avail short of len is refused, without reading past it. */
static void check_truncations(const uint8_t *bytes, unsigned len, const char *text)
{
	struct x86_insn insn;

	for (unsigned avail = 0; avail < len; avail++) {
		bool ok = CHECK_EQ(decode_exact(bytes, avail, &insn), -EINVAL);

		ok &= CHECK_EQ(insn.op, X86_OP_NONE);
		if (!ok)
			fprintf(stderr, "    \"%s\" truncated to %u bytes\n", text, avail);
	}
}

static void check_case(const struct expect *e, const uint8_t *bytes, unsigned len)
{
	struct x86_insn insn, again;
	uint8_t buf[2 * X86_MAX_INSN_LEN];
	bool ok;

	/* In the stream, with the next cases' bytes after it: the length must stop right here. */
	ok = CHECK_EQ(x86_decode(bytes, X86_MAX_INSN_LEN, &insn), 0);
	ok = ok && CHECK_EQ(insn.op, e->op);
	ok = ok && CHECK_EQ(insn.len, len);
	ok = ok && CHECK_EQ(insn.size, e->size);
	ok = ok && CHECK_EQ(insn.dst_size, e->dst ? e->dst : e->size);
	ok = ok && CHECK_EQ(insn.reg, e->reg);
	ok = ok && CHECK_EQ(insn.reg_high8, e->high8);
	ok = ok && CHECK_EQ(insn.sign_extend, e->sext);
	ok = ok && CHECK_EQ(insn.has_imm, e->has_imm);
	ok = ok && CHECK_EQ(insn.imm, e->imm);
	ok = ok && CHECK_EQ(insn.port_in_dx, e->dx);
	ok = ok && CHECK_EQ(insn.port_imm, e->port);
	if (!ok) {
		fprintf(stderr, "    case \"%s\":", e->text);
		for (unsigned i = 0; i < len; i++)
			fprintf(stderr, " %02x", bytes[i]);
		fputc('\n', stderr);
		return;
	}

	/* Exactly its own bytes are enough. */
	CHECK_EQ(decode_exact(bytes, len, &again), 0);
	CHECK(same_insn(&insn, &again));
	check_truncations(bytes, len, e->text);

	/* A segment prefix in front changes nothing but the length; lock and rep are refused. */
	if (len < X86_MAX_INSN_LEN) {
		buf[0] = 0x3e;
		memcpy(buf + 1, bytes, len);
		if (CHECK_EQ(decode_exact(buf, len + 1, &again), 0)) {
			again.len--;
			CHECK(same_insn(&insn, &again));
		}
		for (unsigned i = 0; i < 3; i++) {
			buf[0] = (uint8_t[]){0xf0, 0xf2, 0xf3}[i];
			CHECK_EQ(decode_exact(buf, len + 1, &again), -EINVAL);
		}
	}
}

static void test_assembled(void)
{
	unsigned off = 0;

	for (unsigned i = 0; i < NCASES; i++) {
		CHECK(x86_case_len[i] > 0 && x86_case_len[i] <= X86_MAX_INSN_LEN);
		check_case(&cases[i], x86_case_code + off, x86_case_len[i]);
		off += x86_case_len[i];
	}
}

static void test_refusals_assembled(void)
{
	unsigned off = 0;
	struct x86_insn insn;

	for (unsigned i = 0; i < NREFUSALS; i++) {
		unsigned len = x86_refusal_len[i];

		for (unsigned avail = 0; avail <= len; avail++) {
			if (!CHECK_EQ(decode_exact(x86_refusal_code + off, avail, &insn), -EINVAL))
				fprintf(stderr, "    \"%s\", %u bytes\n", refusal_text[i], avail);
			CHECK_EQ(insn.op, X86_OP_NONE);
		}
		off += len;
	}
}

/* Encodings no assembler writes on its own. */
static void test_hand_encodings(void)
{
	static const uint8_t c6_reg1[] = {0xc6, 0x08, 0x01};       /* c6 /1: not mov */
	static const uint8_t c7_reg7[] = {0xc7, 0x38, 1, 0, 0, 0}; /* c7 /7 */
	static const uint8_t movsxd16[] = {0x66, 0x63, 0x00};      /* movsxd without REX.W */
	static const uint8_t movzx16[] = {0x66, 0x0f, 0xb7, 0x00}; /* movzx r16, m16 */
	static const uint8_t movsx16[] = {0x66, 0x0f, 0xbf, 0x00};
	static const uint8_t two_byte[] = {0x0f, 0x0b};             /* ud2 */
	static const uint8_t rex_alone[] = {0x48, 0x41, 0x66, 0x40}; /* prefixes, no opcode */
	static const uint8_t *const refused[] = {c6_reg1, c7_reg7, movsxd16, movzx16,
						 movsx16, two_byte, rex_alone};
	static const size_t refused_len[] = {sizeof(c6_reg1), sizeof(c7_reg7), sizeof(movsxd16),
					     sizeof(movzx16), sizeof(movsx16), sizeof(two_byte),
					     sizeof(rex_alone)};
	/* REX, then a legacy prefix: the CPU ignores that REX. */
	static const uint8_t rex_then_ds[] = {0x48, 0x3e, 0x89, 0x01};
	static const uint8_t rex_then_66[] = {0x4c, 0x66, 0x88, 0x21}; /* ah, not spl or r12b */
	/* Two REX: the last one, right before the opcode, counts. */
	static const uint8_t two_rex[] = {0x44, 0x48, 0x8b, 0x01};
	uint8_t buf[32];
	struct x86_insn insn;

	for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		if (!CHECK_EQ(decode_exact(refused[i], refused_len[i], &insn), -EINVAL))
			fprintf(stderr, "    refused[%u]\n", i);
	}

	if (CHECK_EQ(decode_exact(rex_then_ds, sizeof(rex_then_ds), &insn), 0)) {
		CHECK_EQ(insn.size, 4);
		CHECK_EQ(insn.len, 4);
	}
	if (CHECK_EQ(decode_exact(rex_then_66, sizeof(rex_then_66), &insn), 0)) {
		CHECK_EQ(insn.reg, X86_RAX);
		CHECK(insn.reg_high8);
	}
	if (CHECK_EQ(decode_exact(two_rex, sizeof(two_rex), &insn), 0)) {
		CHECK_EQ(insn.size, 8);
		CHECK_EQ(insn.reg, X86_RAX);
	}

	/* 15 bytes is the limit: 13 prefixes and mov %eax,(%rax) fit, 14 do not. */
	memset(buf, 0x66, sizeof(buf));
	memcpy(buf + 13, (uint8_t[]){0x89, 0x00}, 2);
	if (CHECK_EQ(decode_exact(buf, 15, &insn), 0)) {
		CHECK_EQ(insn.len, 15);
		CHECK_EQ(insn.size, 2);
	}
	memset(buf, 0x2e, sizeof(buf));
	memcpy(buf + 14, (uint8_t[]){0x89, 0x00}, 2);
	CHECK_EQ(decode_exact(buf, 16, &insn), -EINVAL);
	CHECK_EQ(decode_exact(buf, sizeof(buf), &insn), -EINVAL);
	/* Prefixes only, however many bytes there are. */
	CHECK_EQ(decode_exact(buf, 14, &insn), -EINVAL);
	memset(buf, 0x40, sizeof(buf));
	CHECK_EQ(decode_exact(buf, sizeof(buf), &insn), -EINVAL);
	/* A length that runs past 15 in its displacement: 10 prefixes, 89 84 24 disp32. */
	memset(buf, 0x3e, 10);
	memcpy(buf + 10, (uint8_t[]){0x89, 0x84, 0x24, 1, 2, 3, 4}, 7);
	CHECK_EQ(decode_exact(buf, 17, &insn), -EINVAL);
	CHECK_EQ(decode_exact(buf + 2, 15, &insn), 0);
}

/* The case with this text, decoded; the test stops at a missing one, it is a typo here. */
static struct x86_insn decoded(const char *text)
{
	unsigned off = 0;
	struct x86_insn insn;

	for (unsigned i = 0; i < NCASES; i++) {
		if (strcmp(cases[i].text, text) == 0) {
			if (x86_decode(x86_case_code + off, x86_case_len[i], &insn) != 0)
				break;
			return insn;
		}
		off += x86_case_len[i];
	}
	fprintf(stderr, "no decodable case \"%s\"\n", text);
	abort();
}

/* Registers set to a pattern with every byte different, one register then changed. */
static void fill(uint64_t gpr[X86_NR_GPRS])
{
	for (unsigned i = 0; i < X86_NR_GPRS; i++)
		gpr[i] = 0x1111111111111111ull * (i + 1) ^ 0x0123456789abcdefull;
}

static void writes(const char *text, unsigned reg, uint64_t set, uint64_t want)
{
	struct x86_insn insn = decoded(text);
	uint64_t gpr[X86_NR_GPRS];

	fill(gpr);
	gpr[reg] = set;
	if (!CHECK_EQ(x86_write_value(&insn, gpr), want))
		fprintf(stderr, "    \"%s\"\n", text);
}

/* After a read of data by text, register reg holds want, which was before; no other changed. */
static void reads(const char *text, uint64_t data, unsigned reg, uint64_t before, uint64_t want)
{
	struct x86_insn insn = decoded(text);
	uint64_t gpr[X86_NR_GPRS], other[X86_NR_GPRS];

	fill(gpr);
	gpr[reg] = before;
	memcpy(other, gpr, sizeof(gpr));
	other[reg] = want;
	x86_read_complete(&insn, gpr, data);
	for (unsigned i = 0; i < X86_NR_GPRS; i++) {
		if (!CHECK_EQ(gpr[i], other[i]))
			fprintf(stderr, "    \"%s\", register %u\n", text, i);
	}
}

static void test_write_value(void)
{
	writes("mov %al, (%rax)", X86_RAX, 0x1122334455667788, 0x88);
	writes("mov %ah, (%rcx)", X86_RAX, 0x1122334455667788, 0x77);
	writes("mov %bh, -0x80(%rbp)", X86_RBX, 0xaabbccddeeff0102, 0x01);
	writes("mov %sil, (%rdi)", X86_RSI, 0x000000000000abcd, 0xcd);
	writes("mov %dil, (%r12)", X86_RDI, 0xffffffffffffff7e, 0x7e);
	writes("mov %r15b, 0x12345678(%rax)", X86_R15, 0x1234, 0x34);
	writes("mov %ax, (%rsp)", X86_RAX, 0x1122334455667788, 0x7788);
	writes("mov %eax, (%r12)", X86_RAX, 0x1122334455667788, 0x55667788);
	writes("mov %rbx, (%rax,%rcx,8)", X86_RBX, 0x8877665544332211, 0x8877665544332211);
	writes("mov %r9w, 0x1000(%r10d)", X86_R9, 0xfedcba9876543210, 0x3210);
	writes("movb $0xff, 0x10(%rip)", X86_RAX, 0, 0xff);
	writes("movw $-1, %gs:(%r13)", X86_RAX, 0, 0xffff);
	writes("movl $0xdeadbeef, (%r8)", X86_R8, 0, 0xdeadbeef);
	writes("movq $-2, (%rax)", X86_RAX, 0, 0xfffffffffffffffe);
	writes("out %al, %dx", X86_RAX, 0x1122334455667788, 0x88);
	writes("out %ax, $0x10", X86_RAX, 0x1122334455667788, 0x7788);
	writes("out %eax, %dx", X86_RAX, 0x1122334455667788, 0x55667788);
	writes("rex.W out %eax, %dx", X86_RAX, 0x1122334455667788, 0x55667788);
	writes("movabs %rax, 0x1122334455667788", X86_RAX, 0x0102030405060708, 0x0102030405060708);
	writes("movabs %al, 0x1122334455667788", X86_RAX, 0x0102030405060708, 0x08);
}

static void test_read_complete(void)
{
	const uint64_t ones = 0x1111111111111111;

	/* 8 and 16 bits keep the rest of the register; bits beyond size in data are not read. */
	reads("mov (%rax), %al", 0xffffffab, X86_RAX, ones, 0x11111111111111ab);
	reads("mov (%rcx), %ah", 0x1ff, X86_RAX, ones, 0x111111111111ff11);
	reads("mov 4(%rsp), %bh", 0x42, X86_RBX, 0, 0x4200);
	reads("mov (%rax), %dil", 0x42, X86_RDI, ~0ull, 0xffffffffffffff42);
	reads("mov (%r8), %r8b", 0x00, X86_R8, ~0ull, 0xffffffffffffff00);
	reads("mov (%rax), %ax", 0xabcdef, X86_RAX, ones, 0x111111111111cdef);
	reads("mov (%ebp), %r14w", 0x8000, X86_R14, 0, 0x8000);
	/* 32 bits zero-extend; 64 bits replace. */
	reads("mov (%rsp), %eax", 0xffffffff89abcdef, X86_RAX, ~0ull, 0x89abcdef);
	reads("mov 0x10(%rip), %r15d", 0xffffffff, X86_R15, ~0ull, 0xffffffff);
	reads("mov (%rbx), %rcx", 0x8000000000000001, X86_RCX, ones, 0x8000000000000001);
	/* movzx, movsx, movsxd: extended to the destination, then the width rules above. */
	reads("movzbl (%rax), %eax", 0xff, X86_RAX, ~0ull, 0xff);
	reads("movzbw (%rax), %ax", 0xff, X86_RAX, ones, 0x11111111111100ff);
	reads("movzbq (%rax), %r9", 0x1ff, X86_R9, ~0ull, 0xff);
	reads("movzwq (%rbp), %rdx", 0xffff, X86_RDX, ~0ull, 0xffff);
	reads("movsbq (%rax), %r9", 0x80, X86_R9, 0, 0xffffffffffffff80);
	reads("movsbq (%rax), %r9", 0x7f, X86_R9, ~0ull, 0x7f);
	reads("movsbl (%rax), %eax", 0x80, X86_RAX, ~0ull, 0xffffff80);
	reads("movsbw (%rax), %ax", 0x80, X86_RAX, ones, 0x111111111111ff80);
	reads("movswl (%rax), %esi", 0x8000, X86_RSI, ~0ull, 0xffff8000);
	reads("movswq (%r13), %r15", 0x8000, X86_R15, 0, 0xffffffffffff8000);
	reads("movslq (%rax), %rax", 0x80000000, X86_RAX, 0, 0xffffffff80000000);
	reads("movslq (%rax), %rax", 0x17fffffff, X86_RAX, ~0ull, 0x7fffffff);
	/* in: al and ax keep the rest of rax, eax zero-extends it. */
	reads("in %dx, %al", 0x42, X86_RAX, ones, 0x1111111111111142);
	reads("in $0x71, %ax", 0x12345, X86_RAX, ones, 0x1111111111112345);
	reads("in %dx, %eax", 0x12345678, X86_RAX, ~0ull, 0x12345678);
	reads("rex.W in %dx, %eax", 0xffffffff12345678, X86_RAX, ~0ull, 0x12345678);
	reads("movabs 0x1122334455667788, %al", 0x99, X86_RAX, ones, 0x1111111111111199);
	reads("movabs 0x1122334455667788, %rax", 0x99, X86_RAX, ones, 0x99);

	/* Not a load: nothing changes. */
	reads("mov %eax, (%r12)", 0x99, X86_RAX, ones, ones);
	reads("out %eax, %dx", 0x99, X86_RAX, ones, ones);
}

/* A random byte, weighted towards the bytes this decoder cares about so many strings decode. */
static uint8_t interesting_byte(void)
{
	static const uint8_t pool[] = {0x66, 0x67, 0x2e, 0x3e, 0x26, 0x36, 0x64, 0x65, 0x40, 0x41,
				       0x44, 0x48, 0x4c, 0x4f, 0xf0, 0xf2, 0xf3, 0x88, 0x89, 0x8a,
				       0x8b, 0x63, 0xc6, 0xc7, 0xa0, 0xa1, 0xa2, 0xa3, 0xe4, 0xe5,
				       0xe6, 0xe7, 0xec, 0xed, 0xee, 0xef, 0x0f, 0xb6, 0xb7, 0xbe,
				       0xbf, 0x04, 0x05, 0x24, 0x25, 0x44, 0x84, 0x00, 0xc0, 0xff};

	if (rnd() & 1)
		return (uint8_t)rnd();
	return pool[rnd_below(sizeof(pool))];
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static void test_fuzz(void)
{
	unsigned accepted = 0;
	uint8_t bytes[24];

	for (unsigned n = 0; n < 300000; n++) {
		size_t avail = rnd_below(sizeof(bytes) + 1);
		struct x86_insn insn, again;
		int ret;

		for (size_t i = 0; i < avail; i++)
			bytes[i] = interesting_byte();
		ret = decode_exact(bytes, avail, &insn);
		if (ret != 0) {
			if (!CHECK_EQ(ret, -EINVAL) || !CHECK_EQ(insn.op, X86_OP_NONE))
				break;
			continue;
		}
		accepted++;
		bool ok = CHECK(insn.op != X86_OP_NONE) && CHECK(insn.len >= 1) &&
			  CHECK(insn.len <= avail) && CHECK(insn.len <= X86_MAX_INSN_LEN) &&
			  CHECK(insn.size == 1 || insn.size == 2 || insn.size == 4 ||
				insn.size == 8) &&
			  CHECK(insn.dst_size >= insn.size && insn.dst_size <= 8) &&
			  CHECK(insn.reg < X86_NR_GPRS) && CHECK(!insn.reg_high8 || insn.reg < 4);
		/* Its own bytes alone decode the same; one fewer does not decode. */
		ok = ok && CHECK_EQ(decode_exact(bytes, insn.len, &again), 0) &&
		     CHECK(same_insn(&insn, &again)) &&
		     CHECK_EQ(decode_exact(bytes, insn.len - 1, &again), -EINVAL);
		if (!ok) {
			fprintf(stderr, "    fuzz input:");
			for (size_t i = 0; i < avail; i++)
				fprintf(stderr, " %02x", bytes[i]);
			fputc('\n', stderr);
			break;
		}
	}
	/* The weighting works: a run that accepts almost nothing tests almost nothing. */
	CHECK(accepted > 10000);
}

int main(void)
{
	test_assembled();
	test_refusals_assembled();
	test_hand_encodings();
	test_write_value();
	test_read_complete();
	test_fuzz();
	return check_finish("test_x86_decode");
}
