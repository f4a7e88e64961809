/*
 * Initialisation by registration.
 *
 * KARST_INIT(level, fn) places fn in a linker section; the kernel runs every
 * registered function once at boot in level order (then link order), so an
 * optional subsystem joins the kernel by being linked in, without the core
 * naming it. fn returns 0 or a negative errno; a failure is reported and the
 * boot goes on. INIT_SHUTDOWN functions are not run at boot but once, by
 * init_run_shutdown(), before an orderly power-off (the shell's poweroff,
 * the end of a run= script); never after a panic.
 */
#ifndef KARST_INIT_H
#define KARST_INIT_H

#include <karst/compiler.h>

enum init_level {
	INIT_EARLY = 1,	   /* allocators are up; no threads yet */
	INIT_CORE = 2,	   /* core services: threads, timers, reclaim */
	INIT_BUS = 3,	   /* buses and drivers */
	INIT_FS = 4,	   /* filesystem types register, caches (the ARC) are made */
	INIT_LATE = 5,	   /* mounts, services, the access scanner */
	INIT_SHUTDOWN = 6, /* orderly power-off: write back what is dirty */
};

struct init_entry {
	int level;
	int (*fn)(void);
	const char *name;
};

#define KARST_INIT(lvl, func)                                                                      \
	static const struct init_entry __init_##func __used __section("karst_init")                \
	    __aligned(8) = {.level = (lvl), .fn = (func), .name = #func}

/* Run the INIT_SHUTDOWN functions (once; later calls do nothing). */
void init_run_shutdown(void);

#endif
