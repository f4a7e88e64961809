/*
 * In-kernel tests of the x86_64 FP/SIMD switch (arch/x86_64/fpu.c,
 * switch.S): two threads load their own values into all sixteen XMM or
 * YMM registers, let the other run (a yield on even rounds, a time-slice
 * preemption on odd ones, which passes through the timer interrupt), and
 * read them back: they must be theirs. XMM: every CPU (FXSAVE or XSAVE).
 * YMM: with FXSAVE alone the upper halves would be the other thread's;
 * skipped (with the reason) when XCR0 does not enable YMM state, as on
 * QEMU's default qemu64, so it is a manual test that wildcard runs (which
 * must skip nothing) leave out; tests/kernel/run-ktests names it in a
 * -cpu max boot. The kernel is built without SIMD, so the compiler never
 * touches these registers: only the asm below does.
 */
#include <karst/ktest.h>
#include <karst/printk.h>
#include <karst/sched.h>
#include <karst/thread.h>
#include <karst/time.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#define SIMD_ROUNDS 12

struct simd_thread {
	unsigned id;
	bool ymm;	   /* all 32 bytes of each register, else the low 16 (XMM) */
	atomic_uint loads; /* rounds loaded */
	atomic_uint *other_loads;
	unsigned interleaved; /* rounds in which the other thread loaded */
	unsigned bad;	      /* registers that came back wrong */
	uint8_t in[16][32] __attribute__((aligned(32)));
	uint8_t out[16][32] __attribute__((aligned(32)));
};

static void ymm_load(const uint8_t (*in)[32])
{
	__asm__ __volatile__("vmovdqu 0(%0), %%ymm0\n\tvmovdqu 32(%0), %%ymm1\n\t"
			     "vmovdqu 64(%0), %%ymm2\n\tvmovdqu 96(%0), %%ymm3\n\t"
			     "vmovdqu 128(%0), %%ymm4\n\tvmovdqu 160(%0), %%ymm5\n\t"
			     "vmovdqu 192(%0), %%ymm6\n\tvmovdqu 224(%0), %%ymm7\n\t"
			     "vmovdqu 256(%0), %%ymm8\n\tvmovdqu 288(%0), %%ymm9\n\t"
			     "vmovdqu 320(%0), %%ymm10\n\tvmovdqu 352(%0), %%ymm11\n\t"
			     "vmovdqu 384(%0), %%ymm12\n\tvmovdqu 416(%0), %%ymm13\n\t"
			     "vmovdqu 448(%0), %%ymm14\n\tvmovdqu 480(%0), %%ymm15" ::"r"(in)
			     : "memory");
}

static void ymm_store(uint8_t (*out)[32])
{
	__asm__ __volatile__("vmovdqu %%ymm0, 0(%0)\n\tvmovdqu %%ymm1, 32(%0)\n\t"
			     "vmovdqu %%ymm2, 64(%0)\n\tvmovdqu %%ymm3, 96(%0)\n\t"
			     "vmovdqu %%ymm4, 128(%0)\n\tvmovdqu %%ymm5, 160(%0)\n\t"
			     "vmovdqu %%ymm6, 192(%0)\n\tvmovdqu %%ymm7, 224(%0)\n\t"
			     "vmovdqu %%ymm8, 256(%0)\n\tvmovdqu %%ymm9, 288(%0)\n\t"
			     "vmovdqu %%ymm10, 320(%0)\n\tvmovdqu %%ymm11, 352(%0)\n\t"
			     "vmovdqu %%ymm12, 384(%0)\n\tvmovdqu %%ymm13, 416(%0)\n\t"
			     "vmovdqu %%ymm14, 448(%0)\n\tvmovdqu %%ymm15, 480(%0)" ::"r"(out)
			     : "memory");
}

static void xmm_load(const uint8_t (*in)[32])
{
	__asm__ __volatile__("movdqu 0(%0), %%xmm0\n\tmovdqu 32(%0), %%xmm1\n\t"
			     "movdqu 64(%0), %%xmm2\n\tmovdqu 96(%0), %%xmm3\n\t"
			     "movdqu 128(%0), %%xmm4\n\tmovdqu 160(%0), %%xmm5\n\t"
			     "movdqu 192(%0), %%xmm6\n\tmovdqu 224(%0), %%xmm7\n\t"
			     "movdqu 256(%0), %%xmm8\n\tmovdqu 288(%0), %%xmm9\n\t"
			     "movdqu 320(%0), %%xmm10\n\tmovdqu 352(%0), %%xmm11\n\t"
			     "movdqu 384(%0), %%xmm12\n\tmovdqu 416(%0), %%xmm13\n\t"
			     "movdqu 448(%0), %%xmm14\n\tmovdqu 480(%0), %%xmm15" ::"r"(in)
			     : "memory");
}

static void xmm_store(uint8_t (*out)[32])
{
	__asm__ __volatile__("movdqu %%xmm0, 0(%0)\n\tmovdqu %%xmm1, 32(%0)\n\t"
			     "movdqu %%xmm2, 64(%0)\n\tmovdqu %%xmm3, 96(%0)\n\t"
			     "movdqu %%xmm4, 128(%0)\n\tmovdqu %%xmm5, 160(%0)\n\t"
			     "movdqu %%xmm6, 192(%0)\n\tmovdqu %%xmm7, 224(%0)\n\t"
			     "movdqu %%xmm8, 256(%0)\n\tmovdqu %%xmm9, 288(%0)\n\t"
			     "movdqu %%xmm10, 320(%0)\n\tmovdqu %%xmm11, 352(%0)\n\t"
			     "movdqu %%xmm12, 384(%0)\n\tmovdqu %%xmm13, 416(%0)\n\t"
			     "movdqu %%xmm14, 448(%0)\n\tmovdqu %%xmm15, 480(%0)" ::"r"(out)
			     : "memory");
}

static void simd_worker(void *arg)
{
	struct simd_thread *t = arg;
	for (unsigned r = 0; r < SIMD_ROUNDS; r++) {
		for (int i = 0; i < 16; i++)
			for (int j = 0; j < 32; j++)
				t->in[i][j] = (uint8_t)(t->id * 0x40 + r * 0x11 + i * 3 + j);
		unsigned seen = atomic_load(t->other_loads);
		if (t->ymm)
			ymm_load(t->in);
		else
			xmm_load(t->in);
		atomic_fetch_add(&t->loads, 1);
		/* Wait for the other thread to load its values (or finish):
		 * yielding, or spinning until the time slice runs out. */
		uint64_t t0 = time_ns();
		while (atomic_load(t->other_loads) == seen && time_ns() - t0 < 20 * SCHED_SLICE_NS)
			if (r % 2 == 0)
				thread_yield();
		if (atomic_load(t->other_loads) != seen)
			t->interleaved++;
		if (t->ymm)
			ymm_store(t->out);
		else
			xmm_store(t->out);
		for (int i = 0; i < 16; i++)
			t->bad += memcmp(t->in[i], t->out[i], t->ymm ? 32 : 16) != 0;
	}
}

static bool ymm_enabled(const char **why)
{
	uint32_t a, b, c, d;
	__asm__ __volatile__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	if (!(c & (1u << 27))) {
		*why = "no OSXSAVE: the CPU has no XSAVE (e.g. qemu64), switches use FXSAVE";
		return false;
	}
	uint32_t lo, hi;
	__asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	if ((lo & 6) != 6) {
		*why = "XCR0 does not enable YMM state: the CPU has no AVX";
		return false;
	}
	return true;
}

static void simd_switch_test(bool ymm)
{
	static struct simd_thread a, b;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.id = 1, b.id = 2;
	a.ymm = b.ymm = ymm;
	a.other_loads = &b.loads, b.other_loads = &a.loads;
	struct thread *ta = thread_create("simd_a", simd_worker, &a, THREAD_PRIO_DEFAULT);
	struct thread *tb = thread_create("simd_b", simd_worker, &b, THREAD_PRIO_DEFAULT);
	KT_ASSERT(ta != NULL && tb != NULL);
	thread_join(ta);
	thread_join(tb);
	printk("    %s: %u rounds each; interleaved %u and %u; registers wrong %u and %u\n",
	       ymm ? "ymm0-15" : "xmm0-15", SIMD_ROUNDS, a.interleaved, b.interleaved, a.bad,
	       b.bad);
	KT_EXPECT(a.bad == 0 && b.bad == 0);
	/* The test means something only if the threads did interleave. */
	KT_EXPECT(a.interleaved + b.interleaved >= SIMD_ROUNDS);
}

KTEST(fpu_xmm_survives_switch)
{
	simd_switch_test(false);
}

KTEST_FLAGS(fpu_ymm_survives_switch, KTEST_MANUAL)
{
	const char *why = NULL;
	if (!ymm_enabled(&why))
		KT_SKIP(why);
	simd_switch_test(true);
}
