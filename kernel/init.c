/*
 * Run the KARST_INIT table in level order (see <karst/init.h>).
 */
#include <karst/init.h>
#include <karst/printk.h>

extern const struct init_entry __start_karst_init[], __stop_karst_init[];

void init_run_all(void)
{
	for (int level = INIT_EARLY; level <= INIT_LATE; level++) {
		for (const struct init_entry *e = __start_karst_init; e < __stop_karst_init; e++) {
			if (e->level != level)
				continue;
			int err = e->fn();
			if (err)
				printk("karst: init %s failed: error %d\n", e->name, err);
		}
	}
}
