/*
 * Check suite for the lock-order checker (kernel/sync/lockorder.c).
 *
 * Locks are plain addresses here: the checker only compares them. Stacks
 * are made-up return addresses, so a report can be matched line by line.
 * Each test starts from lockorder_reset(); the ones that expect a panic
 * run in the "panic" case and end in SIGABRT (the host panic() aborts).
 */
#include <check.h>
#include <karst/lockorder.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct lock_class cA = LOCK_CLASS_INIT("A");
static struct lock_class cB = LOCK_CLASS_INIT("B");
static struct lock_class cC = LOCK_CLASS_INIT("C");
static struct lock_class cD = LOCK_CLASS_INIT("D");
static struct lock_class cE = LOCK_CLASS_INIT("E");
static int lkA, lkA2, lkB, lkC, lkD;

static const uintptr_t st1[] = {0x401001, 0x402002, 0x403003, 0};
static const uintptr_t st2[] = {0x501001, 0x502002, 0};
static const uintptr_t st3[] = {0x601001, 0};
static const uintptr_t st4[] = {0x701001, 0x702002, 0x703003, 0x704004, 0x705005, 0x706006};

static struct lo_held H;

static void setup_common(enum lo_mode mode)
{
	lockorder_reset();
	lockorder_set_mode(mode);
	memset(&H, 0, sizeof(H));
}

static void setup_report(void)
{
	setup_common(LO_REPORT);
}

static void setup_panic(void)
{
	setup_common(LO_PANIC);
}

/* Capture what printk writes to stdout between cap_begin() and cap_end(). */
static char cap_buf[1 << 20];
static FILE *cap_file;
static int cap_saved_fd = -1;

static void cap_begin(void)
{
	fflush(stdout);
	cap_file = tmpfile();
	ck_assert_ptr_nonnull(cap_file);
	cap_saved_fd = dup(1);
	ck_assert_int_ge(cap_saved_fd, 0);
	ck_assert_int_ge(dup2(fileno(cap_file), 1), 0);
}

static const char *cap_end(void)
{
	fflush(stdout);
	dup2(cap_saved_fd, 1);
	close(cap_saved_fd);
	rewind(cap_file);
	size_t n = fread(cap_buf, 1, sizeof(cap_buf) - 1, cap_file);
	cap_buf[n] = '\0';
	fclose(cap_file);
	fputs(cap_buf, stdout); /* keep it visible in the test log */
	return cap_buf;
}

static int count_of(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

#define ck_assert_has(hay, needle)                                                                 \
	ck_assert_msg(strstr((hay), (needle)) != NULL, "missing \"%s\" in output:\n%s", (needle),  \
		      (hay))

static void acq(const struct lock_class *c, const void *lock, const uintptr_t *st)
{
	lockorder_acquire(&H, c, lock, st);
}

static void rel(const void *lock)
{
	lockorder_release(&H, lock);
}

/* ---- panic mode ---------------------------------------------------------- */

START_TEST(test_reversal_panics)
{
	acq(&cA, &lkA, st1);
	acq(&cB, &lkB, st2);
	ck_assert_int_eq(lockorder_edges(), 1);
	ck_assert(lockorder_path(&cA, &cB));
	ck_assert(!lockorder_path(&cB, &cA));
	rel(&lkB);
	rel(&lkA);
	ck_assert_int_eq(H.depth, 0);

	/* The same order again is fine. */
	acq(&cA, &lkA, st1);
	acq(&cB, &lkB, st2);
	rel(&lkA);
	rel(&lkB);
	ck_assert_int_eq(lockorder_edges(), 1);
	ck_assert_uint_eq(lockorder_violations(), 0);

	acq(&cB, &lkB, st2);
	acq(&cA, &lkA, st3); /* panics */
	ck_abort_msg("taking A while holding B did not panic");
}
END_TEST

START_TEST(test_recursive_panics)
{
	acq(&cA, &lkA, st1);
	acq(&cA, &lkA, st2); /* panics */
	ck_abort_msg("re-taking a held lock did not panic");
}
END_TEST

/* ---- report mode --------------------------------------------------------- */

START_TEST(test_report_counts_and_continues)
{
	char want[512];
	acq(&cA, &lkA, st1);
	acq(&cB, &lkB, st2); /* records A -> B with st2 */
	rel(&lkB);
	rel(&lkA);

	acq(&cB, &lkB, st3);
	cap_begin();
	acq(&cA, &lkA, st4);
	const char *out = cap_end();
	ck_assert_uint_eq(lockorder_violations(), 1);
	snprintf(want, sizeof(want),
		 "lock order reversal: acquiring \"A\" (lock %p) while holding \"B\"\n"
		 " the reverse order \"A\" -> \"B\" was first seen at:\n"
		 "  #0 0x501001\n"
		 "  #1 0x502002\n"
		 " this acquisition:\n"
		 "  #0 0x701001\n"
		 "  #1 0x702002\n"
		 "  #2 0x703003\n"
		 "  #3 0x704004\n"
		 "  #4 0x705005\n"
		 "  #5 0x706006\n",
		 (void *)&lkA);
	ck_assert_has(out, want);

	/* It went on: the lock is on the held stack, the reverse edge is not
	 * recorded. */
	ck_assert_int_eq(H.depth, 2);
	ck_assert_ptr_eq(H.e[1].lock, &lkA);
	ck_assert_uint_eq(H.e[1].where, 0x701001);
	ck_assert_int_eq(lockorder_edges(), 1);
	ck_assert(!lockorder_path(&cB, &cA));
	rel(&lkA);
	rel(&lkB);
	ck_assert_int_eq(H.depth, 0);

	/* The right order stays quiet; the wrong one is counted every time. */
	acq(&cA, &lkA, st1);
	acq(&cB, &lkB, st2);
	rel(&lkB);
	rel(&lkA);
	ck_assert_uint_eq(lockorder_violations(), 1);
	acq(&cB, &lkB, st3);
	acq(&cA, &lkA, NULL);
	ck_assert_uint_eq(lockorder_violations(), 2);
	rel(&lkA);
	rel(&lkB);
}
END_TEST

START_TEST(test_transitive_reversal)
{
	acq(&cA, &lkA, st1);
	acq(&cB, &lkB, st2); /* A -> B */
	rel(&lkB);
	rel(&lkA);
	acq(&cB, &lkB, st2);
	acq(&cC, &lkC, st3); /* B -> C */
	rel(&lkC);
	rel(&lkB);
	ck_assert(lockorder_path(&cA, &cC));
	ck_assert_int_eq(lockorder_edges(), 2);

	/* D is held too, with no order to A: only C conflicts. */
	acq(&cD, &lkD, st1);
	acq(&cC, &lkC, st1);
	cap_begin();
	acq(&cA, &lkA, st4);
	const char *out = cap_end();
	ck_assert_uint_eq(lockorder_violations(), 1);
	ck_assert_has(out, "lock order reversal: acquiring \"A\"");
	ck_assert_has(out, "while holding \"C\"\n");
	ck_assert_has(out, " the reverse order \"A\" -> \"B\" -> \"C\" was first seen at:\n"
			   "  \"A\" -> \"B\":\n"
			   "  #0 0x501001\n"
			   "  #1 0x502002\n"
			   "  \"B\" -> \"C\":\n"
			   "  #0 0x601001\n"
			   " this acquisition:\n"
			   "  #0 0x701001\n");
	/* Nothing recorded by the offending acquisition, not even D -> A. */
	ck_assert_int_eq(lockorder_edges(), 3); /* A->B, B->C, D->C */
	ck_assert(!lockorder_path(&cD, &cA));
	ck_assert(!lockorder_path(&cC, &cA));
	ck_assert(lockorder_path(&cD, &cC));
}
END_TEST

START_TEST(test_same_class_nesting)
{
	acq(&cA, &lkA, st1);
	acq(&cA, &lkA2, st2);
	ck_assert_uint_eq(lockorder_violations(), 0);
	ck_assert_int_eq(lockorder_edges(), 0);
	ck_assert(!lockorder_path(&cA, &cA));
	acq(&cB, &lkB, st3); /* A -> B once, for both */
	ck_assert_int_eq(lockorder_edges(), 1);
	rel(&lkA);
	rel(&lkB);
	rel(&lkA2);
	ck_assert_int_eq(H.depth, 0);

	/* The other way round between the two instances is fine as well. */
	acq(&cA, &lkA2, st1);
	acq(&cA, &lkA, st2);
	rel(&lkA);
	rel(&lkA2);
	ck_assert_uint_eq(lockorder_violations(), 0);
	ck_assert_int_eq(lockorder_edges(), 1);
}
END_TEST

START_TEST(test_recursive_reported)
{
	char want[256];
	acq(&cA, &lkA, st1);
	acq(&cB, &lkB, st2);
	cap_begin();
	acq(&cA, &lkA, st3);
	const char *out = cap_end();
	ck_assert_uint_eq(lockorder_violations(), 1);
	snprintf(want, sizeof(want),
		 "recursive acquisition of \"A\" (lock %p)\n"
		 " first acquired at:\n"
		 "  #0 0x401001\n"
		 " this acquisition:\n"
		 "  #0 0x601001\n",
		 (void *)&lkA);
	ck_assert_has(out, want);
	/* Not pushed twice, and no B -> A edge came of it. */
	ck_assert_int_eq(H.depth, 2);
	ck_assert_int_eq(lockorder_edges(), 1);
	ck_assert(!lockorder_path(&cB, &cA));
	rel(&lkA);
	ck_assert_int_eq(H.depth, 1);
	ck_assert_ptr_eq(H.e[0].lock, &lkB);
	rel(&lkB);
	ck_assert_int_eq(H.depth, 0);
}
END_TEST

START_TEST(test_out_of_order_release)
{
	acq(&cA, &lkA, st1);
	acq(&cB, &lkB, st2);
	acq(&cC, &lkC, st3);
	ck_assert_int_eq(lockorder_edges(), 3); /* A->B, A->C, B->C */

	rel(&lkB); /* from the middle */
	ck_assert_int_eq(H.depth, 2);
	ck_assert_ptr_eq(H.e[0].lock, &lkA);
	ck_assert_ptr_eq(H.e[1].lock, &lkC);
	ck_assert_ptr_eq(H.e[1].cls, &cC);
	ck_assert_uint_eq(H.e[1].where, 0x601001);

	acq(&cD, &lkD, st4); /* A->D and C->D, but no B->D: B is gone */
	ck_assert_int_eq(lockorder_edges(), 5);

	rel(&lkB); /* not held any more: nothing happens */
	ck_assert_int_eq(H.depth, 3);
	rel(&lkA); /* from the bottom */
	ck_assert_int_eq(H.depth, 2);
	ck_assert_ptr_eq(H.e[0].lock, &lkC);
	ck_assert_ptr_eq(H.e[1].lock, &lkD);

	/* Taking B again while C and D are held: B -> C (and so B -> C -> D)
	 * is recorded, a reversal. In report mode B is still pushed. */
	acq(&cB, &lkB, st2);
	ck_assert_uint_eq(lockorder_violations(), 1);
	rel(&lkB);
	rel(&lkD);
	rel(&lkC);
	ck_assert_int_eq(H.depth, 0);

	/* D was only ever ordered after C, so D then B is caught through the
	 * path B -> C -> D. */
	acq(&cD, &lkD, st1);
	acq(&cB, &lkB, st2);
	ck_assert_uint_eq(lockorder_violations(), 2);
	rel(&lkD);
	rel(&lkB);
	ck_assert_uint_eq(lockorder_violations(), 2);
}
END_TEST

START_TEST(test_path_answers)
{
	acq(&cA, &lkA, st1);
	acq(&cB, &lkB, st2);
	rel(&lkA);
	acq(&cC, &lkC, st3);
	rel(&lkC);
	rel(&lkB);
	acq(&cD, &lkD, st1); /* seen, but never with another */
	rel(&lkD);

	ck_assert_int_eq(lockorder_edges(), 2);
	ck_assert(lockorder_path(&cA, &cB));
	ck_assert(lockorder_path(&cB, &cC));
	ck_assert(lockorder_path(&cA, &cC));
	ck_assert(!lockorder_path(&cB, &cA));
	ck_assert(!lockorder_path(&cC, &cB));
	ck_assert(!lockorder_path(&cC, &cA));
	ck_assert(!lockorder_path(&cA, &cA));
	ck_assert(!lockorder_path(&cA, &cD));
	ck_assert(!lockorder_path(&cD, &cA));
	ck_assert(!lockorder_path(&cA, &cE)); /* never seen */
	ck_assert(!lockorder_path(&cE, &cA));
	ck_assert_int_eq(cE.id, 0);
	ck_assert_int_ne(cD.id, 0);

	/* Reset forgets it all, ids included. */
	lockorder_reset();
	ck_assert_int_eq(lockorder_edges(), 0);
	ck_assert_int_eq(cA.id, 0);
	ck_assert_int_eq(cD.id, 0);
	ck_assert(!lockorder_path(&cA, &cB));
	acq(&cB, &lkB, st2);
	acq(&cA, &lkA, st1); /* was a reversal before the reset */
	ck_assert_uint_eq(lockorder_violations(), 0);
	ck_assert(lockorder_path(&cB, &cA));
	rel(&lkA);
	rel(&lkB);
}
END_TEST

/* ---- consistent orders ----------------------------------------------------- */

#define NORD   12
#define NINST  2 /* locks per class */
#define MAXRUN 10

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/*
 * One random walk that takes locks in the total order of the classes (same
 * class nesting included) and releases them in any order. pairs[a][b] is
 * set for every ordered pair the walk held together, which is exactly the
 * edge set the checker should end with.
 */
struct walk {
	struct lo_held held;
	struct lock_class *cls;
	int (*locks)[NINST];
	int ncls;
	uint64_t seed;
	bool pairs[NORD + 4][NORD + 4];
	/* shadow of the held stack: class and instance */
	int n, sc[LO_MAX_HELD], si[LO_MAX_HELD];
	bool ok; /* the held stack matched the shadow all along */
};

static void walk_step(struct walk *w)
{
	uint64_t r = xorshift(&w->seed);
	int top = -1;
	for (int i = 0; i < w->n; i++)
		top = w->sc[i] > top ? w->sc[i] : top;
	bool release = w->n > 0 && (r % 3 == 0 || w->n == MAXRUN);
	if (!release) {
		/* A class at or above the highest held one, and a free instance. */
		int lo = top < 0 ? 0 : top;
		int c = lo + (int)((r >> 8) % (uint64_t)(w->ncls - lo));
		int inst = -1;
		for (int k = 0; k < NINST && inst < 0; k++) {
			int cand = (int)(((r >> 20) + (uint64_t)k) % NINST);
			bool busy = false;
			for (int i = 0; i < w->n; i++)
				busy |= w->sc[i] == c && w->si[i] == cand;
			if (!busy)
				inst = cand;
		}
		if (inst < 0) {
			release = w->n > 0;
		} else {
			uintptr_t st[] = {0x1000 + (uintptr_t)c, 0};
			lockorder_acquire(&w->held, &w->cls[c], &w->locks[c][inst], st);
			for (int i = 0; i < w->n; i++)
				if (w->sc[i] != c)
					w->pairs[w->sc[i]][c] = true;
			w->sc[w->n] = c;
			w->si[w->n] = inst;
			w->n++;
		}
	}
	if (release) {
		int i = (int)((r >> 32) % (uint64_t)w->n);
		lockorder_release(&w->held, &w->locks[w->sc[i]][w->si[i]]);
		for (int j = i; j < w->n - 1; j++) {
			w->sc[j] = w->sc[j + 1];
			w->si[j] = w->si[j + 1];
		}
		w->n--;
	}
	bool same = w->held.depth == w->n;
	for (int i = 0; same && i < w->n; i++)
		same = w->held.e[i].lock == &w->locks[w->sc[i]][w->si[i]] &&
		       w->held.e[i].cls == &w->cls[w->sc[i]];
	w->ok &= same;
}

static void walk_drain(struct walk *w)
{
	while (w->n > 0) {
		w->n--;
		lockorder_release(&w->held, &w->locks[w->sc[w->n]][w->si[w->n]]);
	}
	w->ok &= w->held.depth == 0;
}

static struct lock_class ord[NORD];
static int ord_locks[NORD][NINST];
static const char *const ord_names[NORD] = {"o0", "o1", "o2", "o3", "o4",  "o5",
					    "o6", "o7", "o8", "o9", "o10", "o11"};

static void name_classes(struct lock_class *cls, const char *const *names, int n)
{
	for (int i = 0; i < n; i++) {
		cls[i].name = names[i];
		cls[i].id = 0;
	}
}

static int count_pairs(bool (*pairs)[NORD + 4], int n)
{
	int e = 0;
	for (int a = 0; a < n; a++)
		for (int b = 0; b < n; b++)
			e += pairs[a][b];
	return e;
}

/* Paths the checker reports must be the transitive closure of the pairs. */
static void check_closure(struct lock_class *cls, bool (*pairs)[NORD + 4], int n)
{
	bool reach[NORD + 4][NORD + 4];
	memcpy(reach, pairs, sizeof(reach));
	for (int k = 0; k < n; k++)
		for (int i = 0; i < n; i++)
			for (int j = 0; j < n; j++)
				reach[i][j] |= reach[i][k] && reach[k][j];
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			ck_assert_msg(lockorder_path(&cls[i], &cls[j]) == reach[i][j],
				      "path %s -> %s: checker %d, expected %d", cls[i].name,
				      cls[j].name, lockorder_path(&cls[i], &cls[j]), reach[i][j]);
}

START_TEST(test_consistent_order_no_false_positive)
{
	static struct walk w;
	name_classes(ord, ord_names, NORD);
	memset(&w, 0, sizeof(w));
	w.cls = ord;
	w.locks = ord_locks;
	w.ncls = NORD;
	w.seed = 0x9e3779b97f4a7c15ull;
	w.ok = true;
	for (int i = 0; i < 20000; i++)
		walk_step(&w);
	walk_drain(&w);
	ck_assert(w.ok);
	ck_assert_uint_eq(lockorder_violations(), 0);
	int want = count_pairs(w.pairs, NORD);
	ck_assert_int_gt(want, NORD); /* the walk did explore */
	ck_assert_int_eq(lockorder_edges(), want);
	check_closure(ord, w.pairs, NORD);
}
END_TEST

/* ---- overflows --------------------------------------------------------------- */

#define NMANY (LO_MAX_CLASSES + 44)
static struct lock_class many[NMANY];
static char many_names[NMANY][8];

START_TEST(test_class_overflow)
{
	static struct lock_class cX = LOCK_CLASS_INIT("X");
	static int lkX;
	for (int i = 0; i < NMANY; i++) {
		snprintf(many_names[i], sizeof(many_names[i]), "m%d", i);
		many[i].name = many_names[i];
	}
	cap_begin();
	acq(&cX, &lkX, st1);
	for (int i = 0; i < NMANY; i++) {
		acq(&many[i], &many[i], st2);
		rel(&many[i]);
	}
	rel(&lkX);
	/* And once more: still quiet. */
	for (int i = 0; i < NMANY; i++) {
		acq(&many[i], &many[i], st2);
		acq(&cX, &lkX, st3); /* a reversal only for tracked classes */
		rel(&lkX);
		rel(&many[i]);
	}
	const char *out = cap_end();
	ck_assert_int_eq(count_of(out, "lock classes"), 1);
	ck_assert_has(out, "(\"m255\" is one too many)");
	ck_assert_int_eq(H.depth, 0);

	/* X took id 1, the first LO_MAX_CLASSES - 1 of many[] the rest. */
	ck_assert_int_eq(cX.id, 1);
	for (int i = 0; i < NMANY; i++)
		ck_assert_int_eq(many[i].id, i < LO_MAX_CLASSES - 1 ? i + 2 : 0);
	ck_assert_int_eq(lockorder_edges(), LO_MAX_CLASSES - 1);
	ck_assert_uint_eq(lockorder_violations(), LO_MAX_CLASSES - 1);
	ck_assert(lockorder_path(&cX, &many[LO_MAX_CLASSES - 2]));
	ck_assert(!lockorder_path(&cX, &many[LO_MAX_CLASSES - 1]));
}
END_TEST

START_TEST(test_held_overflow)
{
	enum { N = LO_MAX_HELD + 4 };
	static struct lock_class hc[N];
	static char names[N][8];
	static int locks[N];
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "h%d", i);
		hc[i].name = names[i];
	}
	cap_begin();
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < N; i++)
			acq(&hc[i], &locks[i], st1);
		ck_assert_int_eq(H.depth, LO_MAX_HELD);
		for (int i = 0; i < LO_MAX_HELD; i++)
			ck_assert_ptr_eq(H.e[i].lock, &locks[i]);
		for (int i = N - 1; i >= 0; i--)
			rel(&locks[i]);
		ck_assert_int_eq(H.depth, 0);
	}
	const char *out = cap_end();
	ck_assert_int_eq(count_of(out, "more than 16 locks"), 1);
	ck_assert_uint_eq(lockorder_violations(), 0);
	/* The excess acquisitions are still checked against what is held. */
	ck_assert_int_eq(lockorder_edges(),
			 LO_MAX_HELD * (LO_MAX_HELD - 1) / 2 + (N - LO_MAX_HELD) * LO_MAX_HELD);
	ck_assert(lockorder_path(&hc[0], &hc[N - 1]));
	ck_assert(!lockorder_path(&hc[LO_MAX_HELD], &hc[N - 1]));
}
END_TEST

START_TEST(test_edge_overflow)
{
	enum { N = 70 }; /* 70 * 69 / 2 = 2415 ordered pairs > LO_MAX_EDGES */
	static struct lock_class ec[N];
	static char names[N][8];
	static int locks[N];
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "e%d", i);
		ec[i].name = names[i];
	}
	cap_begin();
	for (int i = 0; i < N; i++)
		for (int j = i + 1; j < N; j++) {
			acq(&ec[i], &locks[i], st1);
			acq(&ec[j], &locks[j], st2);
			rel(&locks[j]);
			rel(&locks[i]);
		}
	const char *out = cap_end();
	ck_assert_int_eq(count_of(out, "edge table full"), 1);
	ck_assert_int_eq(lockorder_edges(), LO_MAX_EDGES);
	ck_assert_uint_eq(lockorder_violations(), 0);
	ck_assert_int_eq(H.depth, 0);
	/* The recorded orders are still enforced. */
	acq(&ec[1], &locks[1], st1);
	acq(&ec[0], &locks[0], st2);
	ck_assert_uint_eq(lockorder_violations(), 1);
}
END_TEST

/* ---- concurrency ------------------------------------------------------------- */

#define NTHREADS 8
#define NCONC	 NORD
static struct lock_class conc[NCONC];
static int conc_locks[NCONC][NINST];
static pthread_barrier_t conc_start;
static int conc_iters;

static void *conc_thread(void *arg)
{
	struct walk *w = arg;
	pthread_barrier_wait(&conc_start);
	for (int i = 0; i < conc_iters; i++)
		walk_step(w);
	walk_drain(w);
	return NULL;
}

START_TEST(test_concurrent)
{
	static struct walk w[NTHREADS];
	pthread_t t[NTHREADS];
	name_classes(conc, ord_names, NCONC);
	conc_iters = 20000;
	ck_assert_int_eq(pthread_barrier_init(&conc_start, NULL, NTHREADS), 0);
	for (int i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].cls = conc;
		w[i].locks = conc_locks;
		w[i].ncls = NCONC;
		w[i].seed = 0x2545f4914f6cdd1dull * (uint64_t)(i + 1);
		w[i].ok = true;
		ck_assert_int_eq(pthread_create(&t[i], NULL, conc_thread, &w[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	pthread_barrier_destroy(&conc_start);

	static bool pairs[NORD + 4][NORD + 4];
	for (int i = 0; i < NTHREADS; i++) {
		ck_assert_msg(w[i].ok, "thread %d: held stack diverged from its shadow", i);
		for (int a = 0; a < NCONC; a++)
			for (int b = 0; b < NCONC; b++)
				pairs[a][b] |= w[i].pairs[a][b];
	}
	ck_assert_uint_eq(lockorder_violations(), 0);
	ck_assert_int_eq(lockorder_edges(), count_pairs(pairs, NCONC));
	/* Every class got its own id, handed out densely. */
	bool seen[NCONC + 1] = {false};
	for (int c = 0; c < NCONC; c++) {
		ck_assert_int_ge(conc[c].id, 1);
		ck_assert_int_le(conc[c].id, NCONC);
		ck_assert(!seen[conc[c].id]);
		seen[conc[c].id] = true;
	}
	check_closure(conc, pairs, NCONC);
}
END_TEST

static Suite *lockorder_suite(void)
{
	Suite *s = suite_create("lockorder");

	TCase *tc = tcase_create("panic");
	tcase_add_checked_fixture(tc, setup_panic, NULL);
	tcase_add_test_raise_signal(tc, test_reversal_panics, SIGABRT);
	tcase_add_test_raise_signal(tc, test_recursive_panics, SIGABRT);
	suite_add_tcase(s, tc);

	tc = tcase_create("report");
	tcase_add_checked_fixture(tc, setup_report, NULL);
	tcase_add_test(tc, test_report_counts_and_continues);
	tcase_add_test(tc, test_transitive_reversal);
	tcase_add_test(tc, test_same_class_nesting);
	tcase_add_test(tc, test_recursive_reported);
	tcase_add_test(tc, test_out_of_order_release);
	tcase_add_test(tc, test_path_answers);
	tcase_add_test(tc, test_consistent_order_no_false_positive);
	suite_add_tcase(s, tc);

	tc = tcase_create("overflow");
	tcase_add_checked_fixture(tc, setup_report, NULL);
	tcase_add_test(tc, test_class_overflow);
	tcase_add_test(tc, test_held_overflow);
	tcase_add_test(tc, test_edge_overflow);
	suite_add_tcase(s, tc);

	tc = tcase_create("concurrent");
	tcase_add_checked_fixture(tc, setup_report, NULL);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_concurrent);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(lockorder_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
