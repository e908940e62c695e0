/* SPDX-License-Identifier: MIT */
/*
 * The x86-64 decoder for trapped guest instructions: just the port I/O and
 * mov forms a guest uses on devices, nothing else. Pure: unit-tested on the
 * host. Follows the Intel SDM, vol. 2A: §2.1 (instruction format, legacy
 * prefixes in §2.1.1, ModR/M and SIB in §2.1.5 with tables 2-2 and 2-3),
 * §2.2.1 (REX, byte registers in §2.2.1.2 and table 3-1 of §3.1.1.1, RIP-relative
 * addressing in §2.2.1.6), §2.3.11 (the 15-byte limit); and the pages for
 * IN, OUT, MOV, MOVZX and MOVSX/MOVSXD in vol. 2A/2B chapters 3 and 4.
 */
#include <errno.h>

#include "x86_decode.h"

#define REX_W 0x8 /* 64-bit operand size */
#define REX_R 0x4 /* extends ModRM.reg */

/* The bytes of one instruction, never read past end (the smaller of avail and 15). */
struct cursor {
	const uint8_t *code;
	size_t end;
	size_t pos;
};

/* What the prefixes said. */
struct prefixes {
	bool opsize16; /* 66 */
	bool addr32;   /* 67 */
	uint8_t rex;   /* 0 without an effective REX, else 0x40-0x4f */
};

static bool fetch(struct cursor *c, uint8_t *b)
{
	if (c->pos >= c->end)
		return false;
	*b = c->code[c->pos++];
	return true;
}

static bool skip(struct cursor *c, size_t n)
{
	if (c->end - c->pos < n)
		return false;
	c->pos += n;
	return true;
}

/* An n-byte little-endian immediate, sign-extended to 64 bits. */
static bool fetch_simm(struct cursor *c, unsigned n, uint64_t *v)
{
	uint64_t x = 0, sign = 1ull << (8 * n - 1);

	if (c->end - c->pos < n)
		return false;
	for (unsigned i = 0; i < n; i++)
		x |= (uint64_t)c->code[c->pos + i] << (8 * i);
	c->pos += n;
	*v = (x ^ sign) - sign;
	return true;
}

/* All bits of an n-byte value, n in 1..8. */
static uint64_t mask(unsigned n)
{
	return n >= 8 ? ~0ull : (1ull << (8 * n)) - 1;
}

/*
 * Prefixes up to the opcode, which goes to *op. A REX counts only right
 * before the opcode: a legacy prefix after it makes the CPU ignore it
 * (§2.2.1). Lock and rep (f0, f2, f3) end up as the opcode, and are refused
 * there like any other unknown one. The loop ends at the cursor's 15 bytes.
 */
static bool read_prefixes(struct cursor *c, struct prefixes *p, uint8_t *op)
{
	uint8_t b;

	*p = (struct prefixes){0};
	while (fetch(c, &b)) {
		switch (b) {
		case 0x66: p->opsize16 = true; break;
		case 0x67: p->addr32 = true; break;
		/* es cs ss ds fs gs: the CPU has applied the segment to the fault address. */
		case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65: break;
		case 0x40 ... 0x4f: p->rex = b; continue;
		default: *op = b; return true;
		}
		p->rex = 0;
	}
	return false;
}

/*
 * The ModRM byte and what follows it up to the immediate: the SIB byte and
 * the displacement (tables 2-2, 2-3). A register operand (mod == 3) means no
 * memory access, so nothing to emulate. The special cases go by the raw
 * 3-bit fields, before REX.B: r12 needs a SIB byte as rsp does, r13 a
 * displacement as rbp does. 67 changes only the address width, not this
 * format, in 64-bit mode. Returns ModRM.reg (without REX.R), or -1.
 */
static int read_modrm(struct cursor *c)
{
	uint8_t modrm, sib;
	unsigned mod, rm;

	if (!fetch(c, &modrm))
		return -1;
	mod = modrm >> 6;
	rm = modrm & 7;
	if (mod == 3)
		return -1;
	if (rm == 4) {
		if (!fetch(c, &sib))
			return -1;
		/* No base register, a disp32 instead. */
		if (mod == 0 && (sib & 7) == 5 && !skip(c, 4))
			return -1;
	}
	/* mod 0, rm 5: rip-relative, disp32. */
	if (mod == 0 && rm == 5 && !skip(c, 4))
		return -1;
	if (mod == 1 && !skip(c, 1))
		return -1;
	if (mod == 2 && !skip(c, 4))
		return -1;
	return (modrm >> 3) & 7;
}

/*
 * The register ModRM.reg names at width bytes. At width 1, 4-7 without any
 * REX are ah, ch, dh, bh (bits 8-15 of rax..rbx); with one they are spl,
 * bpl, sil, dil (§3.1.1.1, table 3-1).
 */
static void set_reg(struct x86_insn *insn, const struct prefixes *p, unsigned field,
		    unsigned width)
{
	if (width == 1 && !p->rex && field >= 4) {
		insn->reg = field - 4;
		insn->reg_high8 = true;
		return;
	}
	insn->reg = field | (p->rex & REX_R ? 8 : 0);
}

/* mov between memory and a register: size bytes accessed, the register dst_size wide. */
static int mov_reg(struct cursor *c, const struct prefixes *p, struct x86_insn *insn,
		   enum x86_op op, unsigned size, unsigned dst_size, bool sign_extend)
{
	int field = read_modrm(c);

	if (field < 0)
		return -EINVAL;
	insn->op = op;
	insn->size = size;
	insn->dst_size = dst_size;
	insn->sign_extend = sign_extend;
	set_reg(insn, p, field, dst_size);
	return 0;
}

/* c6 /0 ib and c7 /0 iw/id: an immediate, sign-extended from 32 bits for a 64-bit store. */
static int mov_imm(struct cursor *c, struct x86_insn *insn, unsigned size)
{
	/* The other ModRM.reg values are other instructions (c6 /7 is xabort, ...). */
	if (read_modrm(c) != 0)
		return -EINVAL;
	if (!fetch_simm(c, size < 4 ? size : 4, &insn->imm))
		return -EINVAL;
	insn->imm &= mask(size);
	insn->op = X86_OP_STORE;
	insn->size = insn->dst_size = size;
	insn->has_imm = true;
	return 0;
}

/* a0-a3: al/ax/eax/rax to or from an absolute address, 8 bytes long, 4 with 67. */
static int mov_moffs(struct cursor *c, const struct prefixes *p, struct x86_insn *insn,
		     uint8_t op, unsigned osize)
{
	if (!skip(c, p->addr32 ? 4 : 8))
		return -EINVAL;
	insn->op = op & 2 ? X86_OP_STORE : X86_OP_LOAD;
	insn->size = insn->dst_size = op & 1 ? osize : 1;
	insn->reg = X86_RAX;
	return 0;
}

/* e4-e7, ec-ef: bit 1 is out, bit 3 a dx port; REX.W has no effect here. */
static int port_io(struct cursor *c, const struct prefixes *p, struct x86_insn *insn, uint8_t op)
{
	if (!(op & 8)) {
		if (!fetch(c, &insn->port_imm))
			return -EINVAL;
	}
	insn->port_in_dx = op & 8;
	insn->op = op & 2 ? X86_OP_OUT : X86_OP_IN;
	insn->size = insn->dst_size = op & 1 ? (p->opsize16 ? 2 : 4) : 1;
	insn->reg = X86_RAX;
	return 0;
}

/*
 * 0f b6/b7 (movzx), 0f be/bf (movsx). The SDM has no r16, r/m16 form of
 * b7 and bf; the 66 encodings are refused rather than guessed at.
 */
static int mov_extend(struct cursor *c, const struct prefixes *p, struct x86_insn *insn,
		      unsigned osize)
{
	uint8_t op;
	unsigned size;

	if (!fetch(c, &op))
		return -EINVAL;
	if (op != 0xb6 && op != 0xb7 && op != 0xbe && op != 0xbf)
		return -EINVAL;
	size = op & 1 ? 2 : 1;
	if (size == osize)
		return -EINVAL;
	return mov_reg(c, p, insn, X86_OP_LOAD, size, osize, op & 8);
}

static int decode_opcode(struct cursor *c, const struct prefixes *p, uint8_t op,
			 struct x86_insn *insn)
{
	/* Operand size: REX.W wins over 66 (§2.2.1.2). */
	unsigned osize = p->rex & REX_W ? 8 : p->opsize16 ? 2 : 4;

	switch (op) {
	case 0x88: return mov_reg(c, p, insn, X86_OP_STORE, 1, 1, false);
	case 0x89: return mov_reg(c, p, insn, X86_OP_STORE, osize, osize, false);
	case 0x8a: return mov_reg(c, p, insn, X86_OP_LOAD, 1, 1, false);
	case 0x8b: return mov_reg(c, p, insn, X86_OP_LOAD, osize, osize, false);
	case 0x63:
		/* movsxd without REX.W is a plain 16- or 32-bit move the SDM discourages. */
		if (osize != 8)
			return -EINVAL;
		return mov_reg(c, p, insn, X86_OP_LOAD, 4, 8, true);
	case 0xc6: return mov_imm(c, insn, 1);
	case 0xc7: return mov_imm(c, insn, osize);
	case 0xa0 ... 0xa3: return mov_moffs(c, p, insn, op, osize);
	case 0xe4 ... 0xe7:
	case 0xec ... 0xef: return port_io(c, p, insn, op);
	case 0x0f: return mov_extend(c, p, insn, osize);
	default: return -EINVAL;
	}
}

int x86_decode(const uint8_t *code, size_t avail, struct x86_insn *insn)
{
	struct cursor c = {code, avail < X86_MAX_INSN_LEN ? avail : X86_MAX_INSN_LEN, 0};
	struct prefixes p;
	uint8_t op;

	*insn = (struct x86_insn){.op = X86_OP_NONE};
	if (!read_prefixes(&c, &p, &op) || decode_opcode(&c, &p, op, insn) < 0) {
		*insn = (struct x86_insn){.op = X86_OP_NONE};
		return -EINVAL;
	}
	insn->len = c.pos;
	return 0;
}

uint64_t x86_write_value(const struct x86_insn *insn, const uint64_t gpr[X86_NR_GPRS])
{
	uint64_t v;

	if (insn->has_imm)
		v = insn->imm;
	else if (insn->reg_high8)
		v = gpr[insn->reg] >> 8;
	else
		v = gpr[insn->reg];
	return v & mask(insn->size);
}

void x86_read_complete(const struct x86_insn *insn, uint64_t gpr[X86_NR_GPRS], uint64_t data)
{
	uint64_t *r = &gpr[insn->reg];
	uint64_t sign;

	/* Nothing to put anywhere (and no size to shift by) for other ops. */
	if (insn->op != X86_OP_LOAD && insn->op != X86_OP_IN)
		return;
	sign = 1ull << (8 * insn->size - 1);
	data &= mask(insn->size);
	if (insn->sign_extend)
		data = (data ^ sign) - sign;
	switch (insn->dst_size) {
	case 8: *r = data; break;
	/* Writing a 32-bit register clears bits 32-63 (vol. 1 §3.4.1.1). */
	case 4: *r = data & mask(4); break;
	case 2: *r = (*r & ~mask(2)) | (data & mask(2)); break;
	case 1:
		if (insn->reg_high8)
			*r = (*r & ~0xff00ull) | (data & 0xff) << 8;
		else
			*r = (*r & ~mask(1)) | (data & mask(1));
		break;
	}
}
