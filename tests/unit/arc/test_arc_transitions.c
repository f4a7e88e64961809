/*
 * The ARC's decisions against the paper's.
 *
 * First every transition of Megiddo & Modha's case analysis (FAST'03,
 * Fig. 4), driven by hand on a tiny cache of equal-size blocks. Then a
 * reference model of ARC(c), written here from the paper, replays random
 * traces beside the library: with unit blocks, no held buffers and a fixed
 * c, every hit/miss, p and the four list sizes must be identical after
 * every request, whatever the number of list shards.
 *
 * The paper's p is real (delta = |B2|/|B1| is a real ratio). The library
 * keeps p in bytes with 16 fraction bits, which for 4 KiB blocks is pages
 * with 28 fraction bits; the model keeps p in pages with the same 28
 * fraction bits, so both round the same way and agree exactly. (Rounding
 * delta to whole pages instead, as OpenZFS does, is not the paper's
 * algorithm and measurably worse: see fs/arc/arc_impl.h.)
 */
#include "arc_test_util.h"
#include <stdio.h>

/* ---- The reference model: ARC(c) on unit pages, straight from the paper. */

enum { M_NONE, M_T1, M_T2, M_B1, M_B2 };

#define MFX 28 /* fraction bits of the model's p */

struct model {
	int c;
	int64_t p;     /* pages << MFX */
	int n;	       /* universe of pages */
	int *where;    /* M_* per page */
	uint64_t *lru; /* last-move stamp per page */
	uint64_t clock;
	int len[5];
	/* how often each case of the analysis ran */
	unsigned long hit_t1, hit_t2, b1_d1, b1_dn, b2_d1, b2_dn, iva_lt, iva_eq, ivb_2c, ivb,
	    iv_free, rep_t1, rep_t2, rep_tie;
};

static void m_init(struct model *m, int c, int n)
{
	memset(m, 0, sizeof(*m));
	m->c = c;
	m->n = n;
	m->where = calloc((size_t)n, sizeof(int));
	m->lru = calloc((size_t)n, sizeof(uint64_t));
}

static void m_free(struct model *m)
{
	free(m->where);
	free(m->lru);
}

static void m_move(struct model *m, int x, int to)
{
	m->len[m->where[x]]--;
	m->where[x] = to;
	m->len[to]++;
	m->lru[x] = ++m->clock; /* to the MRU end */
}

static int m_lru_of(struct model *m, int list)
{
	int best = -1;
	for (int i = 0; i < m->n; i++)
		if (m->where[i] == list && (best < 0 || m->lru[i] < m->lru[best]))
			best = i;
	ck_assert_int_ge(best, 0);
	return best;
}

static void m_replace(struct model *m, bool in_b2)
{
	int64_t t1 = (int64_t)m->len[M_T1] << MFX;
	if (t1 >= 1 && ((in_b2 && t1 == m->p) || t1 > m->p)) {
		if (in_b2 && t1 == m->p)
			m->rep_tie++;
		m->rep_t1++;
		m_move(m, m_lru_of(m, M_T1), M_B1);
	} else {
		m->rep_t2++;
		m_move(m, m_lru_of(m, M_T2), M_B2);
	}
}

/* One request; returns true on a hit. */
static bool m_access(struct model *m, int x)
{
	int c = m->c;
	switch (m->where[x]) {
	case M_T1:
	case M_T2: /* case I */
		if (m->where[x] == M_T1)
			m->hit_t1++;
		else
			m->hit_t2++;
		m_move(m, x, M_T2);
		return true;
	case M_B1: { /* case II */
		int b1 = m->len[M_B1], b2 = m->len[M_B2];
		int64_t d = b1 >= b2 ? 1LL << MFX : ((int64_t)b2 << MFX) / b1;
		if (d > 1LL << MFX)
			m->b1_dn++;
		else
			m->b1_d1++;
		m->p = m->p + d < ((int64_t)c << MFX) ? m->p + d : (int64_t)c << MFX;
		m_replace(m, false);
		m_move(m, x, M_T2);
		return false;
	}
	case M_B2: { /* case III */
		int b1 = m->len[M_B1], b2 = m->len[M_B2];
		int64_t d = b2 >= b1 ? 1LL << MFX : ((int64_t)b1 << MFX) / b2;
		if (d > 1LL << MFX)
			m->b2_dn++;
		else
			m->b2_d1++;
		m->p = m->p - d > 0 ? m->p - d : 0;
		m_replace(m, true);
		m_move(m, x, M_T2);
		return false;
	}
	}
	/* case IV */
	int l1 = m->len[M_T1] + m->len[M_B1];
	int total = l1 + m->len[M_T2] + m->len[M_B2];
	if (l1 == c) {
		if (m->len[M_T1] < c) {
			m->iva_lt++;
			m_move(m, m_lru_of(m, M_B1), M_NONE);
			m_replace(m, false);
		} else {
			m->iva_eq++;
			m_move(m, m_lru_of(m, M_T1), M_NONE);
		}
	} else if (l1 < c && total >= c) {
		if (total == 2 * c) {
			m->ivb_2c++;
			m_move(m, m_lru_of(m, M_B2), M_NONE);
		} else {
			m->ivb++;
		}
		m_replace(m, false);
	} else {
		m->iv_free++;
	}
	m_move(m, x, M_T1);
	return false;
}

/* ---- Hand-driven transitions on the library. */

static struct fill_ctx F;

static enum arc_state st_of(struct arc *a, uint64_t n)
{
	struct arc_key k = kkey(n);
	return arc_key_state(a, &k);
}

static struct arc_stats stats(struct arc *a)
{
	struct arc_stats s;
	arc_stats_get(a, &s);
	return s;
}

START_TEST(test_hit_in_mru_promotes)
{
	struct arc *a = mk_arc(4, 1);
	ck_assert(!touch(a, 0, &F));
	ck_assert_int_eq(st_of(a, 0), ARC_STATE_MRU);
	ck_assert(touch(a, 0, &F));
	ck_assert_int_eq(st_of(a, 0), ARC_STATE_MFU);
	struct arc_stats s = stats(a);
	ck_assert_uint_eq(s.mru_hits, 1);
	ck_assert_uint_eq(s.hits, 1);
	ck_assert_uint_eq(s.misses, 1);
	ck_assert_uint_eq(s.mru_size, 0);
	ck_assert_uint_eq(s.mfu_size, BS);
	verify_ok(a, true);
	arc_destroy(a);
}
END_TEST

START_TEST(test_hit_in_mfu_stays)
{
	struct arc *a = mk_arc(4, 1);
	touch(a, 0, &F);
	touch(a, 0, &F);
	ck_assert(touch(a, 0, &F));
	ck_assert_int_eq(st_of(a, 0), ARC_STATE_MFU);
	ck_assert_uint_eq(stats(a).mfu_hits, 1);
	verify_ok(a, true);
	arc_destroy(a);
}
END_TEST

/* IV.A with |T1| = c: T1's LRU leaves without a ghost. */
START_TEST(test_miss_mru_full_t1_is_c)
{
	struct arc *a = mk_arc(4, 1);
	for (int i = 0; i < 4; i++)
		touch(a, i, &F);
	ck_assert(!touch(a, 4, &F));
	ck_assert_int_eq(st_of(a, 0), ARC_STATE_NONE);
	for (int i = 1; i <= 4; i++)
		ck_assert_int_eq(st_of(a, i), ARC_STATE_MRU);
	struct arc_stats s = stats(a);
	ck_assert_uint_eq(s.mru_ghost_size, 0);
	ck_assert_uint_eq(s.deleted, 1);
	verify_ok(a, true);
	arc_destroy(a);
}
END_TEST

/* IV.A with |T1| < c: B1's LRU is deleted, then REPLACE. */
START_TEST(test_miss_mru_full_t1_below_c)
{
	struct arc *a = mk_arc(4, 1);
	for (int i = 0; i < 4; i++)
		touch(a, i, &F);
	touch(a, 0, &F); /* T2 = {0}, T1 = {1,2,3} */
	touch(a, 4, &F); /* IV.B: REPLACE moves 1 to B1 */
	ck_assert_int_eq(st_of(a, 1), ARC_STATE_MRU_GHOST);
	/* |L1| = c = 4, |T1| = 3 */
	ck_assert(!touch(a, 5, &F));
	ck_assert_int_eq(st_of(a, 1), ARC_STATE_NONE);	    /* B1's LRU deleted */
	ck_assert_int_eq(st_of(a, 2), ARC_STATE_MRU_GHOST); /* REPLACE: T1 > p = 0 */
	ck_assert_int_eq(st_of(a, 0), ARC_STATE_MFU);
	ck_assert_int_eq(st_of(a, 5), ARC_STATE_MRU);
	verify_ok(a, true);
	arc_destroy(a);
}
END_TEST

/* IV.B with a full directory (total = 2c): B2's LRU is deleted, then REPLACE;
 * then both ghost-hit cases with their change of p. */
START_TEST(test_miss_both_full_and_ghost_hits)
{
	struct arc *a = mk_arc(2, 1);
	enum { A, B, C, D, E };
	touch(a, A, &F);
	touch(a, B, &F);
	touch(a, A, &F);
	touch(a, B, &F); /* T2 = {B, A} */
	touch(a, C, &F); /* IV.B, REPLACE: T1 = 0 so A goes to B2 */
	ck_assert_int_eq(st_of(a, A), ARC_STATE_MFU_GHOST);
	touch(a, C, &F); /* T2 = {C, B}, B2 = {A} */
	touch(a, D, &F); /* IV.B: B goes to B2 */
	ck_assert_int_eq(st_of(a, B), ARC_STATE_MFU_GHOST);
	struct arc_stats s = stats(a);
	ck_assert_uint_eq(s.mru_size + s.mfu_size + s.mru_ghost_size + s.mfu_ghost_size, 4 * BS);
	ck_assert(!touch(a, E, &F));			    /* IV.B with total = 2c */
	ck_assert_int_eq(st_of(a, A), ARC_STATE_NONE);	    /* B2's LRU deleted */
	ck_assert_int_eq(st_of(a, D), ARC_STATE_MRU_GHOST); /* REPLACE: T1 = 1 > p = 0 */
	ck_assert_int_eq(st_of(a, E), ARC_STATE_MRU);
	ck_assert_int_eq(st_of(a, C), ARC_STATE_MFU);
	ck_assert_uint_eq(stats(a).p, 0);
	verify_ok(a, true);

	/* Case II: D is in B1; |B1| = |B2| = 1 so p grows by one block. */
	unsigned long fills = atomic_load(&F.calls);
	ck_assert(!touch(a, D, &F));
	ck_assert_uint_eq(atomic_load(&F.calls), fills + 1); /* refetched through the fill */
	s = stats(a);
	ck_assert_uint_eq(s.p, BS);
	ck_assert_uint_eq(s.mru_ghost_hits, 1);
	ck_assert_int_eq(st_of(a, D), ARC_STATE_MFU);
	ck_assert_int_eq(st_of(a, C), ARC_STATE_MFU_GHOST); /* REPLACE: T1 = p, so T2 gives */
	verify_ok(a, true);

	/* Case III: B is in B2 (|B1| = 0 <= |B2| = 2): p shrinks by one block. */
	ck_assert(!touch(a, B, &F));
	s = stats(a);
	ck_assert_uint_eq(s.p, 0);
	ck_assert_uint_eq(s.mfu_ghost_hits, 1);
	ck_assert_int_eq(st_of(a, B), ARC_STATE_MFU);
	ck_assert_int_eq(st_of(a, E), ARC_STATE_MRU_GHOST); /* REPLACE: T1 = 1 > p = 0 */
	verify_ok(a, true);
	arc_destroy(a);
}
END_TEST

/* Case II with |B2| > |B1|: p grows by the ratio, in blocks. */
START_TEST(test_ghost_hit_ratio)
{
	/* Find, with the model, a trace whose last request is a B1 hit with
	 * |B2| / |B1| >= 2, then check the library's p moved by exactly that. */
	struct model m;
	for (unsigned seed = 1; seed < 500; seed++) {
		m_init(&m, 4, 24);
		srand(seed);
		int trace[400], n = 0;
		bool found = false;
		int64_t want_p = 0, want_delta = 0;
		while (n < 400 && !found) {
			int x = rand() % 24;
			int b1 = m.len[M_B1], b2 = m.len[M_B2];
			int64_t p0 = m.p;
			bool ratio = m.where[x] == M_B1 && b2 >= 2 * b1;
			trace[n++] = x;
			m_access(&m, x);
			if (ratio && m.p < (int64_t)m.c << MFX) {
				found = true;
				want_p = m.p;
				want_delta = m.p - p0;
			}
		}
		m_free(&m);
		if (!found)
			continue;
		struct arc *a = mk_arc(4, 1);
		for (int i = 0; i < n - 1; i++)
			touch(a, (uint64_t)trace[i], &F);
		uint64_t p0 = stats(a).p;
		ck_assert_int_eq(st_of(a, (uint64_t)trace[n - 1]), ARC_STATE_MRU_GHOST);
		touch(a, (uint64_t)trace[n - 1], &F);
		uint64_t p1 = stats(a).p;
		ck_assert_uint_eq(p1, (uint64_t)want_p >> 16); /* pages << 28 to bytes */
		ck_assert_uint_ge(p1 - p0, 2 * BS);
		ck_assert_int_ge(want_delta, 2LL << MFX);
		verify_ok(a, true);
		arc_destroy(a);
		return;
	}
	ck_abort_msg("no trace with a B1 hit at ratio >= 2 found");
}
END_TEST

/* ---- Random traces: the library and the model side by side. */

static int next_request(int kind, int n, int i, unsigned *rs)
{
	unsigned r = (unsigned)rand_r(rs);
	switch (kind) {
	case 0: /* uniform */
		return (int)(r % (unsigned)n);
	case 1: { /* skewed: a hot eighth gets most requests */
		int hot = n / 8 > 0 ? n / 8 : 1;
		return r % 4 ? (int)(r / 4 % (unsigned)hot) : (int)(r / 4 % (unsigned)n);
	}
	case 2: /* loops of varying length with noise */
		return r % 10 ? i % (n / 2 + 1) : (int)(r / 10 % (unsigned)n);
	default: /* phases: the hot set moves */
		return (int)((r % (unsigned)(n / 4 + 1) + (unsigned)(i / 500) * 7) % (unsigned)n);
	}
}

static void compare_run(int c, int n, int kind, int len, unsigned seed, unsigned nsub,
			struct model *tot)
{
	struct model m;
	m_init(&m, c, n);
	/* 64 buckets and stripes, not the default 1024: arc_verify walks them
	 * all after every request, and chains of several headers are worth
	 * exercising too. */
	struct arc_config cfg = {.name = "model",
				 .c_max = (uint64_t)c * BS,
				 .c_min = (uint64_t)c * BS,
				 .nsublists = nsub,
				 .hash_log2 = 6};
	struct arc *a;
	ck_assert_int_eq(arc_create(&cfg, &a), 0);
	unsigned rs = seed;
	for (int i = 0; i < len; i++) {
		int x = next_request(kind, n, i, &rs);
		bool mh = m_access(&m, x);
		bool ah = touch(a, (uint64_t)x, &F);
		struct arc_stats s = stats(a);
		ck_assert_msg(mh == ah,
			      "c=%d n=%d kind=%d seed=%u req %d (page %d): model %s, ARC %s", c, n,
			      kind, seed, i, x, mh ? "hit" : "miss", ah ? "hit" : "miss");
		ck_assert_msg(s.p == (uint64_t)m.p >> 16, "req %d: p %llu vs model %llu bytes", i,
			      (unsigned long long)s.p, (unsigned long long)(m.p >> 16));
		ck_assert_uint_eq(s.mru_size, (uint64_t)m.len[M_T1] * BS);
		ck_assert_uint_eq(s.mfu_size, (uint64_t)m.len[M_T2] * BS);
		ck_assert_uint_eq(s.mru_ghost_size, (uint64_t)m.len[M_B1] * BS);
		ck_assert_uint_eq(s.mfu_ghost_size, (uint64_t)m.len[M_B2] * BS);
		if (len <= 4000 || i % 97 == 0)
			verify_ok(a, true);
	}
	for (int x = 0; x < n; x++) {
		static const enum arc_state map[] = {ARC_STATE_NONE, ARC_STATE_MRU, ARC_STATE_MFU,
						     ARC_STATE_MRU_GHOST, ARC_STATE_MFU_GHOST};
		ck_assert_int_eq(st_of(a, (uint64_t)x), map[m.where[x]]);
	}
	verify_ok(a, true);
	tot->hit_t1 += m.hit_t1, tot->hit_t2 += m.hit_t2, tot->b1_d1 += m.b1_d1;
	tot->b1_dn += m.b1_dn, tot->b2_d1 += m.b2_d1, tot->b2_dn += m.b2_dn;
	tot->iva_lt += m.iva_lt, tot->iva_eq += m.iva_eq, tot->ivb_2c += m.ivb_2c;
	tot->ivb += m.ivb, tot->iv_free += m.iv_free, tot->rep_t1 += m.rep_t1;
	tot->rep_t2 += m.rep_t2, tot->rep_tie += m.rep_tie;
	m_free(&m);
	arc_destroy(a);
}

START_TEST(test_matches_paper_model)
{
	static const int cs[] = {1, 2, 3, 5, 8, 16, 40, 100};
	struct model tot;
	memset(&tot, 0, sizeof(tot));
	unsigned seed = 1;
	for (size_t ci = 0; ci < ARRAY_SIZE(cs); ci++) {
		for (int kind = 0; kind < 4; kind++) {
			for (int mult = 2; mult <= 6; mult += 2) {
				int c = cs[ci], n = c * mult + 3;
				unsigned nsub = (seed & 1) ? 1 : 4;
				compare_run(c, n, kind, c >= 40 ? 6000 : 3000, seed, nsub, &tot);
				seed++;
			}
		}
	}
	printf("paper cases: hitT1 %lu hitT2 %lu B1(d=1) %lu B1(d>1) %lu B2(d=1) %lu "
	       "B2(d>1) %lu IV.A(T1<c) %lu IV.A(T1=c) %lu IV.B(2c) %lu IV.B %lu IV(room) %lu "
	       "REPLACE T1 %lu T2 %lu tie %lu\n",
	       tot.hit_t1, tot.hit_t2, tot.b1_d1, tot.b1_dn, tot.b2_d1, tot.b2_dn, tot.iva_lt,
	       tot.iva_eq, tot.ivb_2c, tot.ivb, tot.iv_free, tot.rep_t1, tot.rep_t2, tot.rep_tie);
	/* Every branch of the case analysis was exercised and agreed. */
	ck_assert(tot.hit_t1 && tot.hit_t2 && tot.b1_d1 && tot.b1_dn && tot.b2_d1 && tot.b2_dn);
	ck_assert(tot.iva_lt && tot.iva_eq && tot.ivb_2c && tot.ivb && tot.iv_free);
	ck_assert(tot.rep_t1 && tot.rep_t2 && tot.rep_tie);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("arc_transitions");
	TCase *tc = tcase_create("cases");
	tcase_add_test(tc, test_hit_in_mru_promotes);
	tcase_add_test(tc, test_hit_in_mfu_stays);
	tcase_add_test(tc, test_miss_mru_full_t1_is_c);
	tcase_add_test(tc, test_miss_mru_full_t1_below_c);
	tcase_add_test(tc, test_miss_both_full_and_ghost_hits);
	tcase_add_test(tc, test_ghost_hit_ratio);
	suite_add_tcase(s, tc);
	TCase *tm = tcase_create("model");
	tcase_set_timeout(tm, 240);
	tcase_add_test(tm, test_matches_paper_model);
	suite_add_tcase(s, tm);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
