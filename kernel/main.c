/*
 * kmain: from the arch boot code to a prompt.
 *
 * Order: banner, allocators, the scheduler (kmain becomes the "main"
 * thread; interrupts go on), command line, the KARST_INIT table, then either
 * the in-kernel tests (test=PATTERN), a script of shell commands (run="..."),
 * or the interactive shell.
 */
#include <errno.h>
#include <karst/arch.h>
#include <karst/cmdline.h>
#include <karst/console.h>
#include <karst/init.h>
#include <karst/kmem_kernel.h>
#include <karst/ktest.h>
#include <karst/printk.h>
#include <karst/sched.h>
#include <karst/shell.h>
#include <string.h>

#ifndef KARST_VERSION
#define KARST_VERSION "unknown"
#endif
#ifdef KARST_DEBUG
#define KARST_BUILD_KIND "debug"
#else
#define KARST_BUILD_KIND "release"
#endif

void init_run_all(void);

static char test_pattern[128];
static char run_script[1024];
static const char *boot_cmdline = "";

static int param_test(const char *v)
{
	if (!v || !*v || strlen(v) >= sizeof(test_pattern))
		return -EINVAL;
	strcpy(test_pattern, v);
	return 0;
}
KARST_PARAM("test", param_test,
	    "test=PATTERN[,PATTERN]: run in-kernel tests ('all') and power off");

static int param_run(const char *v)
{
	if (!v || !*v || strlen(v) >= sizeof(run_script))
		return -EINVAL;
	strcpy(run_script, v);
	return 0;
}
KARST_PARAM("run", param_run, "run=\"cmd; cmd\": run shell commands and power off");

/* Does the command line hold a run= or test= word (taken or not)? */
static bool cmdline_asks_batch(const char *s)
{
	for (const char *w = s; *w; w++) {
		if (w != s && w[-1] != ' ' && w[-1] != '\t')
			continue;
		if ((strncmp(w, "run", 3) == 0 && (w[3] == '=' || w[3] == ' ' || !w[3])) ||
		    (strncmp(w, "test", 4) == 0 && (w[4] == '=' || w[4] == ' ' || !w[4])))
			return true;
	}
	return false;
}

static int cmd_cmdline(int argc, char **argv)
{
	printk("%s\n", boot_cmdline);
	return 0;
}
SHELL_CMD("cmdline", cmd_cmdline, "show the kernel command line");

void kmain(struct boot_info *bi)
{
	boot_cmdline = bi->cmdline ? bi->cmdline : "";
	printk("\nkarst %s (%s build, %s) on %s\n", KARST_VERSION, KARST_BUILD_KIND,
	       KARST_ARCH_NAME, bi->machine ? bi->machine : "unknown machine");
	printk("command line: %s\n", boot_cmdline);
	uint64_t t_kmain = arch_time_ns();
	kmem_init(bi);
	uint64_t t_kmem = arch_time_ns();
	sched_init();
	arch_irq_enable();
	cmdline_parse(boot_cmdline);
	init_run_all();
	console_input_init();

	struct pa_stats ps;
	pa_get_stats(&kernel_pa, &ps);
	uint64_t us = arch_time_ns() / 1000;
	printk("memory: %lu MiB RAM in %d ranges, %lu MiB free\n",
	       (unsigned long)(kmem_ram_found() >> 20), bi->nram,
	       (unsigned long)(ps.free_pages >> (20 - PAGE_SHIFT)));
	printk("karst: ready in %lu.%03lu ms (arch boot %lu us, memory %lu us, inits %lu us)\n",
	       (unsigned long)(us / 1000), (unsigned long)(us % 1000),
	       (unsigned long)(t_kmain / 1000), (unsigned long)((t_kmem - t_kmain) / 1000),
	       (unsigned long)(us - t_kmem / 1000));

	if (test_pattern[0]) {
		int failed = ktest_run(test_pattern);
		arch_poweroff(failed == 0 ? KARST_EXIT_OK : KARST_EXIT_TESTS_FAILED);
	}
	if (run_script[0]) {
		int status = shell_exec_line(run_script);
		init_run_shutdown(); /* write back what the script left dirty */
		arch_poweroff(status == 0 ? KARST_EXIT_OK : KARST_EXIT_TESTS_FAILED);
	}
	if (cmdline_asks_batch(boot_cmdline)) {
		/* A script or test run that could not be taken: nobody may be
		 * at the console to answer a prompt, so stop instead. */
		printk("karst: run= or test= was rejected (see above); powering off\n");
		arch_poweroff(KARST_EXIT_TESTS_FAILED);
	}
	shell_interactive();
}
