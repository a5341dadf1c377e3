// SPDX-License-Identifier: MIT
/*
 * The switch of the deterministic backend's user-level actors
 * (det_context.c): save the callee-saved registers and the stack pointer of
 * the running context on its own stack, load another's. Chosen by
 * measurement over glibc's swapcontext() (a sigprocmask system call per
 * switch) and pthread hand-offs (docs/exploration.md, bench/bench_switch.c).
 *
 * Not saved: the floating-point control words (x86 MXCSR and x87 control
 * word, aarch64 FPCR) and the signal mask. They belong to the host thread,
 * as they do with pthread hand-offs on one core; nothing in the library
 * changes them.
 *
 * Written as top-level assembly in a C file so that the build needs no
 * assembler language of its own. Only this file includes nothing: it also
 * assembles for aarch64 with `clang --target=aarch64-linux-gnu -ffreestanding
 * -c` on an x86-64 host (docs/exploration.md).
 */
#include <stddef.h>
#include <stdint.h>

/* Save the running context's registers on its stack and its stack pointer
 * in *@save_sp, then resume the context whose stack pointer is @new_sp. */
void mmn__ctx_swap(void **save_sp, void *new_sp);
/* The stack pointer of a new context that, once resumed, calls @fn(@arg)
 * (which must never return) on the stack whose highest address is @top. */
void *mmn__ctx_init(void *top, void (*fn)(void *), void *arg);

#if defined(__x86_64__)

/* SysV: rbx, rbp, r12-r15 are callee-saved. A new context's first resume
 * "returns" into mmn__ctx_entry with @fn in r12 and @arg in r13. */
__asm__(".text\n"
	".globl mmn__ctx_swap\n"
	".hidden mmn__ctx_swap\n"
	".type mmn__ctx_swap,@function\n"
	".p2align 4\n"
	"mmn__ctx_swap:\n"
	"	.cfi_startproc\n"
	"	pushq %rbp\n"
	"	pushq %rbx\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	movq %rsp, (%rdi)\n"
	"	movq %rsi, %rsp\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbx\n"
	"	popq %rbp\n"
	"	ret\n"
	"	.cfi_endproc\n"
	".size mmn__ctx_swap, .-mmn__ctx_swap\n"
	".type mmn__ctx_entry,@function\n"
	".p2align 4\n"
	"mmn__ctx_entry:\n"
	"	movq %r13, %rdi\n"
	"	callq *%r12\n"
	"	ud2\n"
	".size mmn__ctx_entry, .-mmn__ctx_entry\n");

extern char mmn__ctx_entry[] __attribute__((visibility("hidden")));

void *mmn__ctx_init(void *top, void (*fn)(void *), void *arg)
{
	/* 7 slots popped by the swap (r15 r14 r13 r12 rbx rbp, return
	 * address); after them the stack pointer is 16-aligned, so that the
	 * call in mmn__ctx_entry enters @fn as the ABI wants. */
	uintptr_t t = (uintptr_t)top & ~(uintptr_t)15;
	void **sp = (void **)(t - 72);

	sp[0] = NULL;                          /* r15 */
	sp[1] = NULL;                          /* r14 */
	sp[2] = arg;                           /* r13 */
	sp[3] = (void *)(uintptr_t)fn;         /* r12 */
	sp[4] = NULL;                          /* rbx */
	sp[5] = NULL;                          /* rbp: the end of a backtrace */
	sp[6] = (void *)mmn__ctx_entry;        /* return address */
	sp[7] = NULL;
	sp[8] = NULL;
	return sp;
}

#elif defined(__aarch64__)

/* AAPCS64: x19-x28, the frame pointer x29, the link register x30 and the
 * low halves of v8-v15 (d8-d15) are callee-saved. A new context's first
 * resume returns (x30) into mmn__ctx_entry with @fn in x19, @arg in x20. */
__asm__(".text\n"
	".globl mmn__ctx_swap\n"
	".hidden mmn__ctx_swap\n"
	".type mmn__ctx_swap,%function\n"
	".p2align 4\n"
	"mmn__ctx_swap:\n"
	"	sub sp, sp, #160\n"
	"	stp x19, x20, [sp, #0]\n"
	"	stp x21, x22, [sp, #16]\n"
	"	stp x23, x24, [sp, #32]\n"
	"	stp x25, x26, [sp, #48]\n"
	"	stp x27, x28, [sp, #64]\n"
	"	stp x29, x30, [sp, #80]\n"
	"	stp d8, d9, [sp, #96]\n"
	"	stp d10, d11, [sp, #112]\n"
	"	stp d12, d13, [sp, #128]\n"
	"	stp d14, d15, [sp, #144]\n"
	"	mov x9, sp\n"
	"	str x9, [x0]\n"
	"	mov sp, x1\n"
	"	ldp x19, x20, [sp, #0]\n"
	"	ldp x21, x22, [sp, #16]\n"
	"	ldp x23, x24, [sp, #32]\n"
	"	ldp x25, x26, [sp, #48]\n"
	"	ldp x27, x28, [sp, #64]\n"
	"	ldp x29, x30, [sp, #80]\n"
	"	ldp d8, d9, [sp, #96]\n"
	"	ldp d10, d11, [sp, #112]\n"
	"	ldp d12, d13, [sp, #128]\n"
	"	ldp d14, d15, [sp, #144]\n"
	"	add sp, sp, #160\n"
	"	ret\n"
	".size mmn__ctx_swap, .-mmn__ctx_swap\n"
	".type mmn__ctx_entry,%function\n"
	".p2align 4\n"
	"mmn__ctx_entry:\n"
	"	mov x0, x20\n"
	"	blr x19\n"
	"	brk #0\n"
	".size mmn__ctx_entry, .-mmn__ctx_entry\n");

extern char mmn__ctx_entry[] __attribute__((visibility("hidden")));

void *mmn__ctx_init(void *top, void (*fn)(void *), void *arg)
{
	uintptr_t t = (uintptr_t)top & ~(uintptr_t)15;
	void **sp = (void **)(t - 160);

	for (int i = 0; i < 20; i++)
		sp[i] = NULL;
	sp[0] = (void *)(uintptr_t)fn;          /* x19 */
	sp[1] = arg;                            /* x20 */
	sp[11] = (void *)mmn__ctx_entry;        /* x30 (x29 = 0 ends a backtrace) */
	return sp;
}

#else
#error "lib/sync/det_switch.c: user-level actors need a switch for this architecture"
#endif
