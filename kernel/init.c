/*
 * Run the KARST_INIT table in level order (see <karst/init.h>).
 */
#include <karst/arch.h>
#include <karst/cmdline.h>
#include <karst/init.h>
#include <karst/printk.h>
#include <stdatomic.h>

extern const struct init_entry __start_karst_init[], __stop_karst_init[];

static bool init_debug;

static int param_initdebug(const char *v)
{
	init_debug = true;
	return 0;
}
KARST_PARAM("initdebug", param_initdebug, "initdebug: print how long each init function took");

static void init_run_level(int level)
{
	for (const struct init_entry *e = __start_karst_init; e < __stop_karst_init; e++) {
		if (e->level != level)
			continue;
		uint64_t t0 = arch_time_ns();
		int err = e->fn();
		if (init_debug)
			printk("init: %-24s level %d  %6lu us\n", e->name, level,
			       (unsigned long)((arch_time_ns() - t0) / 1000));
		if (err)
			printk("karst: init %s failed: error %d\n", e->name, err);
	}
}

void init_run_all(void)
{
	for (int level = INIT_EARLY; level <= INIT_LATE; level++)
		init_run_level(level);
}

void init_run_shutdown(void)
{
	static _Atomic bool done;
	if (!atomic_exchange(&done, true))
		init_run_level(INIT_SHUTDOWN);
}
