/*
 * Lock-order checker: a directed graph of lock classes, kept in fixed tables.
 *
 * A class gets a small id (1..LO_MAX_CLASSES) the first time it is seen,
 * and with it a slot (id - 1) in the tables: the graph is an adjacency
 * bitmap indexed by slots (8 KiB), plus an edge table that keeps, for every
 * edge A -> B, the call stack of the acquisition that created it.
 * Acquiring a lock of class B while the thread holds classes
 * H1..Hn adds an edge Hi -> B for every held class that has none yet (same
 * class excepted), after checking with a breadth-first search from B that
 * no recorded path leads back to one of those Hi; such a path is a
 * lock-order reversal. Since an edge is only added when it closes no cycle,
 * the graph stays acyclic, and a held class that already has its edge to B
 * can be skipped: the common case is a few bit tests.
 *
 * Interface: lockorder.h. The per-thread stack of held locks belongs to the
 * caller and is only touched by its own thread; the graph is shared and
 * protected by lo_lock, an atomic_flag spin that is not a karst lock (the
 * karst locks call in here). In the kernel interrupts are off while it is
 * held, so a handler on the same CPU cannot spin on it. Nothing is printed
 * while lo_lock is held (printk may take a console lock that calls in
 * here): reports are copied into a local struct and printed after, so a
 * panic (or a test runner that longjmps out of one) never leaves it held.
 *
 * Overflows (more classes than LO_MAX_CLASSES, more edges than LO_MAX_EDGES,
 * more held locks than LO_MAX_HELD) are reported once and the excess is
 * ignored: such a class is never checked, such an edge never recorded, such
 * a lock not pushed (its release finds nothing and does nothing).
 *
 * Classes must outlive the checker's memory of them (static storage, as the
 * *_init macros of sync.h create): the table keeps pointers to them, and
 * lockorder_reset() writes 0 back into their ids.
 */
#include <karst/lockorder.h>
#include <karst/printk.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#ifdef KARST_KERNEL
#include <karst/arch.h>
#endif

#define LO_WORDS	(LO_MAX_CLASSES / 64)
#define LO_REPORT_EDGES 8 /* edges of a reverse path printed with their stacks */

_Static_assert(LO_MAX_CLASSES % 64 == 0, "adjacency rows are whole 64-bit words");
_Static_assert(LO_MAX_CLASSES < 65535, "ids fit in uint16_t");

struct lo_edge {
	uint16_t from, to; /* slots */
	uintptr_t stack[LO_STACK_DEPTH];
};

/* Everything below is protected by lo_lock, apart from the atomics. */
static atomic_flag lo_lock = ATOMIC_FLAG_INIT;
static const struct lock_class *lo_classes[LO_MAX_CLASSES]; /* by slot */
static int lo_nclasses;
static uint64_t lo_adj[LO_MAX_CLASSES][LO_WORDS]; /* lo_adj[a] bit b: edge a -> b */
static struct lo_edge lo_edge_tab[LO_MAX_EDGES];
static int lo_nedges;
static bool lo_warned_classes, lo_warned_edges;

/* Scratch of the path search (under lo_lock: too big for a kernel stack). */
static uint16_t lo_queue[LO_MAX_CLASSES];
static uint16_t lo_parent[LO_MAX_CLASSES];
static uint64_t lo_seen[LO_WORDS];

static atomic_int lo_mode = LO_PANIC;
static _Atomic uint64_t lo_nviolations;
static atomic_bool lo_warned_held;

/* One report, filled under lo_lock, printed after it is dropped. */
struct lo_report {
	bool recursive;
	const char *name;      /* class being acquired */
	const void *lock;      /* lock being acquired */
	const char *held_name; /* reversal: the held class the path leads to */
	uintptr_t first_where; /* recursion: where the lock was first taken */
	int nedges;	       /* edges on the reverse path */
	struct {	       /* its first LO_REPORT_EDGES edges */
		const char *from, *to;
		uintptr_t stack[LO_STACK_DEPTH];
	} e[LO_REPORT_EDGES];
};

static unsigned long lo_lock_graph(void)
{
	unsigned long flags = 0;
#ifdef KARST_KERNEL
	flags = arch_irq_save();
#endif
	while (atomic_flag_test_and_set_explicit(&lo_lock, memory_order_acquire)) {
#ifdef KARST_KERNEL
		arch_cpu_relax();
#endif
	}
	return flags;
}

static void lo_unlock_graph(unsigned long flags)
{
	atomic_flag_clear_explicit(&lo_lock, memory_order_release);
#ifdef KARST_KERNEL
	arch_irq_restore(flags);
#else
	(void)flags;
#endif
}

static int lo_load_id(const struct lock_class *cls)
{
	return __atomic_load_n(&cls->id, __ATOMIC_ACQUIRE);
}

static const char *lo_name(const struct lock_class *cls)
{
	return cls && cls->name ? cls->name : "?";
}

/*
 * The slot of cls, giving it an id now if it has none. Under lo_lock, so
 * ids are handed out densely and each class takes one; the store is still
 * a compare-and-swap because ids are read without the lock elsewhere.
 * Returns -1 when the class table is full (*warn set to the class the first
 * time).
 */
static int lo_slot(const struct lock_class *cls, const struct lock_class **warn)
{
	int id = lo_load_id(cls);
	if (id > 0 && id <= lo_nclasses && lo_classes[id - 1] == cls)
		return id - 1;
	if (lo_nclasses == LO_MAX_CLASSES) {
		if (!lo_warned_classes) {
			lo_warned_classes = true;
			*warn = cls;
		}
		return -1;
	}
	/* None yet, or a stale one: take a fresh id. The class is not const in
	 * storage (see above); const in the interface says the checker changes
	 * nothing in it but this id. */
	int fresh = lo_nclasses + 1;
	if (!__atomic_compare_exchange_n((int *)&cls->id, &id, fresh, false, __ATOMIC_RELEASE,
					 __ATOMIC_ACQUIRE))
		return -1; /* cannot happen: ids change only under lo_lock */
	lo_classes[fresh - 1] = cls;
	lo_nclasses = fresh;
	return fresh - 1;
}

/* The slot of a class that already has an id, -1 if it has none. */
static int lo_known_slot(const struct lock_class *cls)
{
	int id = lo_load_id(cls);
	if (id > 0 && id <= lo_nclasses && lo_classes[id - 1] == cls)
		return id - 1;
	return -1;
}

static bool lo_bit(const uint64_t *row, int i)
{
	return (row[i / 64] >> (i % 64)) & 1;
}

static void lo_set_bit(uint64_t *row, int i)
{
	row[i / 64] |= (uint64_t)1 << (i % 64);
}

/*
 * Breadth-first search from slot `from` for any slot in `targets` (which
 * does not hold `from`). Returns the first one reached, -1 if none;
 * lo_parent then leads back from it to `from` along a shortest path.
 */
static int lo_search(int from, const uint64_t *targets)
{
	int head = 0, tail = 0;
	memset(lo_seen, 0, sizeof(lo_seen));
	lo_set_bit(lo_seen, from);
	lo_queue[tail++] = (uint16_t)from;
	while (head < tail) {
		int u = lo_queue[head++];
		for (int w = 0; w < LO_WORDS; w++) {
			uint64_t next = lo_adj[u][w] & ~lo_seen[w];
			while (next) {
				int v = w * 64 + __builtin_ctzll(next);
				next &= next - 1;
				lo_set_bit(lo_seen, v);
				lo_parent[v] = (uint16_t)u;
				if (lo_bit(targets, v))
					return v;
				lo_queue[tail++] = (uint16_t)v;
			}
		}
	}
	return -1;
}

static const struct lo_edge *lo_find_edge(int from, int to)
{
	for (int i = 0; i < lo_nedges; i++)
		if (lo_edge_tab[i].from == from && lo_edge_tab[i].to == to)
			return &lo_edge_tab[i];
	return NULL;
}

static void lo_copy_stack(uintptr_t *dst, const uintptr_t *src)
{
	int i = 0;
	for (; src && i < LO_STACK_DEPTH && src[i]; i++)
		dst[i] = src[i];
	for (; i < LO_STACK_DEPTH; i++)
		dst[i] = 0;
}

/* Fill r with the path from -> ... -> to that lo_search() just found. */
static void lo_fill_path(struct lo_report *r, int from, int to)
{
	int n = 0;
	for (int v = to; v != from; v = lo_parent[v])
		n++;
	r->nedges = n;
	/* lo_parent runs backwards: edge number k is lo_parent[v] -> v. */
	for (int v = to, k = n - 1; v != from; v = lo_parent[v], k--) {
		if (k >= LO_REPORT_EDGES)
			continue;
		const struct lo_edge *e = lo_find_edge(lo_parent[v], v);
		r->e[k].from = lo_name(lo_classes[lo_parent[v]]);
		r->e[k].to = lo_name(lo_classes[v]);
		lo_copy_stack(r->e[k].stack, e ? e->stack : NULL);
	}
}

static void lo_print_stack(const uintptr_t *stack)
{
	int n = 0;
	for (; stack && n < LO_STACK_DEPTH && stack[n]; n++)
		printk("  #%d 0x%lx\n", n, (unsigned long)stack[n]);
	if (n == 0)
		printk("  (no stack)\n");
}

static void lo_print_report(const struct lo_report *r, const uintptr_t *stack)
{
	if (r->recursive) {
		printk("recursive acquisition of \"%s\" (lock 0x%lx)\n", r->name,
		       (unsigned long)(uintptr_t)r->lock);
		printk(" first acquired at:\n");
		printk("  #0 0x%lx\n", (unsigned long)r->first_where);
	} else {
		printk("lock order reversal: acquiring \"%s\" (lock 0x%lx) while holding \"%s\"\n",
		       r->name, (unsigned long)(uintptr_t)r->lock, r->held_name);
		printk(" the reverse order \"%s\"", r->e[0].from);
		int shown = MIN(r->nedges, LO_REPORT_EDGES);
		for (int i = 0; i < shown; i++)
			printk(" -> \"%s\"", r->e[i].to);
		if (shown < r->nedges)
			printk(" -> ... (%d more) -> \"%s\"", r->nedges - shown, r->held_name);
		printk(" was first seen at:\n");
		for (int i = 0; i < shown; i++) {
			if (r->nedges > 1)
				printk("  \"%s\" -> \"%s\":\n", r->e[i].from, r->e[i].to);
			lo_print_stack(r->e[i].stack);
		}
	}
	printk(" this acquisition:\n");
	lo_print_stack(stack);
}

/* Count a violation, print it, and panic unless in LO_REPORT mode. */
static void lo_violation(const struct lo_report *r, const uintptr_t *stack)
{
	atomic_fetch_add_explicit(&lo_nviolations, 1, memory_order_relaxed);
	lo_print_report(r, stack);
	if (atomic_load_explicit(&lo_mode, memory_order_relaxed) == LO_REPORT)
		return;
	if (r->recursive)
		panic("lock order reversal: recursive acquisition of \"%s\"", r->name);
	panic("lock order reversal: \"%s\" while holding \"%s\"", r->name, r->held_name);
}

static void lo_push(struct lo_held *held, const struct lock_class *cls, const void *lock,
		    const uintptr_t *stack)
{
	if (held->depth >= LO_MAX_HELD) {
		if (!atomic_exchange_explicit(&lo_warned_held, true, memory_order_relaxed))
			printk("lockorder: a thread holds more than %d locks; "
			       "the excess is not checked\n",
			       LO_MAX_HELD);
		return;
	}
	held->e[held->depth].cls = cls;
	held->e[held->depth].lock = lock;
	held->e[held->depth].where = stack ? stack[0] : 0;
	held->depth++;
}

/*
 * Check taking a lock of class cls with the held ones, and record the new
 * edges. Returns true and fills r on a reversal (then nothing is recorded).
 */
static bool lo_check_and_record(const struct lo_held *held, const struct lock_class *cls,
				const uintptr_t *stack, struct lo_report *r,
				const struct lock_class **warn_classes, bool *warn_edges)
{
	int b = lo_slot(cls, warn_classes);
	if (b < 0)
		return false;

	/* Held classes without an edge to b yet: the ones a new edge would come
	 * from, and the only ones a path from b could lead back to (acyclic). */
	uint64_t targets[LO_WORDS] = {0};
	bool any = false;
	for (int i = 0; i < held->depth; i++) {
		int a = lo_slot(held->e[i].cls, warn_classes);
		if (a < 0 || a == b || lo_bit(lo_adj[a], b))
			continue;
		lo_set_bit(targets, a);
		any = true;
	}
	if (!any)
		return false;

	int hit = lo_search(b, targets);
	if (hit >= 0) {
		r->held_name = lo_name(lo_classes[hit]);
		lo_fill_path(r, b, hit);
		return true;
	}

	for (int a = 0; a < lo_nclasses; a++) {
		if (!lo_bit(targets, a))
			continue;
		if (lo_nedges == LO_MAX_EDGES) {
			if (!lo_warned_edges)
				*warn_edges = lo_warned_edges = true;
			break;
		}
		struct lo_edge *e = &lo_edge_tab[lo_nedges++];
		e->from = (uint16_t)a;
		e->to = (uint16_t)b;
		lo_copy_stack(e->stack, stack);
		lo_set_bit(lo_adj[a], b);
	}
	return false;
}

void lockorder_acquire(struct lo_held *held, const struct lock_class *cls, const void *lock,
		       const uintptr_t *stack)
{
	if (!held || !cls)
		return;
	KASSERT_MSG(held->depth >= 0 && held->depth <= LO_MAX_HELD, "lockorder: held depth %d",
		    held->depth);

	struct lo_report r;
	r.name = lo_name(cls);
	r.lock = lock;
	for (int i = 0; i < held->depth; i++) {
		if (held->e[i].lock == lock) {
			r.recursive = true;
			r.first_where = held->e[i].where;
			/* Not pushed again: one release will follow, if any. */
			lo_violation(&r, stack);
			return;
		}
	}
	r.recursive = false;

	/* Nothing held and the class known: nothing to check or record. */
	if (held->depth == 0 && lo_load_id(cls) != 0) {
		lo_push(held, cls, lock, stack);
		return;
	}

	const struct lock_class *warn_classes = NULL;
	bool warn_edges = false, reversal;
	unsigned long flags = lo_lock_graph();
	if (held->depth == 0) {
		lo_slot(cls, &warn_classes);
		reversal = false;
	} else {
		reversal = lo_check_and_record(held, cls, stack, &r, &warn_classes, &warn_edges);
	}
	lo_unlock_graph(flags);

	if (warn_classes)
		printk("lockorder: more than %d lock classes (\"%s\" is one too many); "
		       "the excess is not checked\n",
		       LO_MAX_CLASSES, lo_name(warn_classes));
	if (warn_edges)
		printk("lockorder: edge table full (%d edges); new orders are not recorded\n",
		       LO_MAX_EDGES);
	if (reversal)
		lo_violation(&r, stack); /* returns in LO_REPORT mode: the lock is taken */
	lo_push(held, cls, lock, stack);
}

void lockorder_release(struct lo_held *held, const void *lock)
{
	if (!held)
		return;
	/* Innermost first: the usual case, and the right one if a lock were
	 * ever on the stack twice. */
	for (int i = held->depth - 1; i >= 0; i--) {
		if (held->e[i].lock != lock)
			continue;
		for (int j = i; j < held->depth - 1; j++)
			held->e[j] = held->e[j + 1];
		held->depth--;
		return;
	}
}

void lockorder_set_mode(enum lo_mode mode)
{
	atomic_store_explicit(&lo_mode, mode, memory_order_relaxed);
}

uint64_t lockorder_violations(void)
{
	return atomic_load_explicit(&lo_nviolations, memory_order_relaxed);
}

void lockorder_reset(void)
{
	unsigned long flags = lo_lock_graph();
	for (int i = 0; i < lo_nclasses; i++) {
		__atomic_store_n((int *)&lo_classes[i]->id, 0, __ATOMIC_RELEASE);
		lo_classes[i] = NULL;
	}
	lo_nclasses = 0;
	memset(lo_adj, 0, sizeof(lo_adj));
	lo_nedges = 0;
	lo_warned_classes = lo_warned_edges = false;
	atomic_store_explicit(&lo_warned_held, false, memory_order_relaxed);
	lo_unlock_graph(flags);
}

int lockorder_edges(void)
{
	unsigned long flags = lo_lock_graph();
	int n = lo_nedges;
	lo_unlock_graph(flags);
	return n;
}

/* A path of at least one edge; a class has none to itself (acyclic). */
bool lockorder_path(const struct lock_class *a, const struct lock_class *b)
{
	bool found = false;
	if (!a || !b)
		return false;
	unsigned long flags = lo_lock_graph();
	int ia = lo_known_slot(a), ib = lo_known_slot(b);
	if (ia >= 0 && ib >= 0 && ia != ib) {
		uint64_t target[LO_WORDS] = {0};
		lo_set_bit(target, ib);
		found = lo_search(ia, target) == ib;
	}
	lo_unlock_graph(flags);
	return found;
}
