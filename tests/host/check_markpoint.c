/*
 * Check's ck_assert*() calls _mark_point() on every check that passes, and
 * in fork mode each call writes a message down the runner's pipe: a suite
 * asserting six things per step of a loop of a million steps spends most
 * of its time there. Every suite links with -Wl,--wrap=_mark_point, so its
 * calls land here, and a location among the last MARK_RING passed on is
 * not passed on again. What a crashing or timed-out test then reports as
 * its last point is a check it passed in the loop it was in (the exact line
 * comes from the sanitizer's stack trace); failures are reported as before,
 * they do not go through _mark_point.
 *
 * Per thread, so that suites asserting from several threads (the
 * concurrent ones, under TSan) share no state here.
 */
#define MARK_RING 8

void __real__mark_point(const char *file, int line);
void __wrap__mark_point(const char *file, int line);

void __wrap__mark_point(const char *file, int line)
{
	static __thread struct {
		const char *file;
		int line;
	} ring[MARK_RING];
	static __thread unsigned next;

	for (unsigned i = 0; i < MARK_RING; i++)
		if (ring[i].line == line && ring[i].file == file)
			return;
	ring[next].file = file;
	ring[next].line = line;
	next = (next + 1) % MARK_RING;
	__real__mark_point(file, line);
}
