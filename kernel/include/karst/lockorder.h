/*
 * Lock-order checker (debug builds), in the spirit of FreeBSD's WITNESS and
 * Linux's lockdep.
 *
 * Every lock belongs to a struct lock_class (<karst/sync.h>). Each thread
 * keeps a stack of the locks it holds. The first time class B is taken
 * while class A is held, the edge A -> B is recorded with the call stack of
 * that acquisition. Taking A while B is held, or more generally taking a
 * class from which a path of recorded edges already leads back to a held
 * class, is a lock-order reversal: the checker reports both classes, the
 * stack of the offending acquisition and the stack recorded for the
 * conflicting edge, then panics (LO_PANIC, the default) or counts it and
 * goes on (LO_REPORT, for tests). Re-taking a lock the thread already holds
 * is reported the same way (it would deadlock). Taking two locks of the
 * same class is allowed (arrays of per-bucket locks).
 *
 * lockorder_acquire() is called before the lock is taken (so a reversal is
 * reported before the thread deadlocks), lockorder_release() after it is
 * released. Both may be called from any context, never sleep and never
 * allocate: the graph lives in fixed tables. Callers pass the per-thread
 * held-lock stack; the kernel keeps one in struct thread, the host one per
 * pthread.
 */
#ifndef KARST_LOCKORDER_H
#define KARST_LOCKORDER_H

#include <karst/sync.h>
#include <stdbool.h>
#include <stdint.h>

#define LO_MAX_CLASSES 256 /* lock classes the checker tracks; more are ignored, once reported */
#define LO_MAX_HELD    16  /* locks one thread may hold at once */
#define LO_MAX_EDGES   2048
#define LO_STACK_DEPTH 6 /* return addresses kept per recorded edge */

struct lo_held {
	int depth;
	struct {
		const struct lock_class *cls;
		const void *lock;
		uintptr_t where; /* return address of the acquisition */
	} e[LO_MAX_HELD];
};

enum lo_mode { LO_PANIC, LO_REPORT };

/* Check and record taking `lock` of class `cls`; `stack` is the caller's
 * backtrace (up to LO_STACK_DEPTH return addresses, 0-terminated). */
void lockorder_acquire(struct lo_held *held, const struct lock_class *cls, const void *lock,
		       const uintptr_t *stack);
void lockorder_release(struct lo_held *held, const void *lock);

void lockorder_set_mode(enum lo_mode mode);
/* Reversals reported so far (LO_REPORT mode counts them). */
uint64_t lockorder_violations(void);
/* Forget every recorded edge and class id (tests). */
void lockorder_reset(void);
/* Number of edges recorded. */
int lockorder_edges(void);
/* Is there a recorded path from class a to class b? */
bool lockorder_path(const struct lock_class *a, const struct lock_class *b);

#endif
