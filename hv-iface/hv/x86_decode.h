/* SPDX-License-Identifier: MIT */
/* Decoding the one x86-64 instruction a guest trapped on (port I/O, MMIO mov) so hv can emulate it; pure. */
#ifndef HV_X86_DECODE_H
#define HV_X86_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest instruction the CPU executes; a longer one raises #GP (Intel SDM vol. 2A §2.3.11). */
#define X86_MAX_INSN_LEN 15

/* General-purpose registers in x86 encoding order: rax rcx rdx rbx rsp rbp rsi rdi r8..r15. */
enum {
	X86_RAX,
	X86_RCX,
	X86_RDX,
	X86_RBX,
	X86_RSP,
	X86_RBP,
	X86_RSI,
	X86_RDI,
	X86_R8,
	X86_R9,
	X86_R10,
	X86_R11,
	X86_R12,
	X86_R13,
	X86_R14,
	X86_R15,
	X86_NR_GPRS
};

enum x86_op { X86_OP_NONE, X86_OP_IN, X86_OP_OUT, X86_OP_LOAD, X86_OP_STORE };

struct x86_insn {
	enum x86_op op;
	unsigned len;  /* bytes of the whole instruction, prefixes included */
	unsigned size; /* bytes accessed: 1, 2, 4 or 8 (port I/O: 1, 2 or 4) */
	/* IN/OUT: the port is dx when port_in_dx, else port_imm (an imm8) */
	bool port_in_dx;
	uint8_t port_imm;
	/*
	 * The register operand, an X86_* index: what a STORE or OUT writes
	 * (unless has_imm), where a LOAD or IN puts its data. X86_RAX for port
	 * I/O and for the moffs forms (a0-a3).
	 */
	unsigned reg;
	/* reg (then X86_RAX..X86_RBX) means its bits 8-15: ah, ch, dh or bh. */
	bool reg_high8;
	/* LOAD / IN: width in bytes of the destination register, >= size; == size otherwise. */
	unsigned dst_size;
	/* LOAD: the data is sign-extended to dst_size (movsx, movsxd), else zero-extended. */
	bool sign_extend;
	/* STORE: the value written is imm (c6, c7), not register reg. */
	bool has_imm;
	/* STORE with has_imm: the immediate, already extended to size bytes. */
	uint64_t imm;
};

/*
 * Decode the instruction at code[0, avail). Returns 0 and fills *insn, or -EINVAL
 * (insn->op == X86_OP_NONE) for anything this decoder does not emulate: it never
 * reads past code + avail, and an instruction longer than avail is -EINVAL.
 *
 * Accepted, in 64-bit mode: in/out with an imm8 or dx port (e4-e7, ec-ef);
 * mov stores 88, 89, c6 /0, c7 /0; mov loads 8a, 8b; movzx, movsx
 * (0f b6, b7, be, bf); movsxd with REX.W (48 63); mov to and from moffs
 * (a0-a3). Prefixes 66, 67, segment overrides (ignored: the fault address
 * comes from the CPU) and REX. Refused: register-only forms (mod == 3),
 * lock and rep prefixes, 63 without REX.W, 66 with 0f b7 or 0f bf (not in
 * the SDM), and every other opcode.
 */
int x86_decode(const uint8_t *code, size_t avail, struct x86_insn *insn);

/* STORE / OUT: the value the instruction writes (its low insn->size bytes matter). */
uint64_t x86_write_value(const struct x86_insn *insn, const uint64_t gpr[X86_NR_GPRS]);

/*
 * LOAD / IN: put data (insn->size bytes read) into the destination register with the
 * CPU's rules: a 32-bit destination zero-extends to 64 bits, 8- and 16-bit
 * destinations keep the register's other bits, movzx/movsx/movsxd extend to their
 * destination width (in: al/ax/eax, with eax zero-extending rax).
 */
void x86_read_complete(const struct x86_insn *insn, uint64_t gpr[X86_NR_GPRS], uint64_t data);

#endif /* HV_X86_DECODE_H */
