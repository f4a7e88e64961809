/*
 * The shell's basic commands: help, echo, mem, uptime, dmesg, poweroff,
 * and crash (a deliberate fault, to see the panic path).
 */
#include <karst/arch.h>
#include <karst/bench.h>
#include <karst/cmdline.h>
#include <karst/console.h>
#include <karst/init.h>
#include <karst/kmem_kernel.h>
#include <karst/ktest.h>
#include <karst/printk.h>
#include <karst/shell.h>
#include <stdlib.h>
#include <string.h>

extern const struct shell_cmd __start_karst_shell[], __stop_karst_shell[];

static int cmd_help(int argc, char **argv)
{
	printk("commands:\n");
	for (const struct shell_cmd *c = __start_karst_shell; c < __stop_karst_shell; c++)
		printk("  %-10s %s\n", c->name, c->usage);
	printk("boot options:\n");
	cmdline_print_help();
	return 0;
}
SHELL_CMD("help", cmd_help, "list commands and boot options");

static int cmd_echo(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		shell_printf("%s%s", argv[i], i + 1 < argc ? " " : "");
	shell_printf("\n");
	return 0;
}
SHELL_CMD("echo", cmd_echo, "echo WORDS...: print the words");

static int cmd_mem(int argc, char **argv)
{
	kmem_print_stats();
	return 0;
}
SHELL_CMD("mem", cmd_mem, "memory found and allocator statistics");

static int cmd_uptime(int argc, char **argv)
{
	uint64_t ms = arch_time_ns() / 1000000;
	printk("up %lu.%03lu s\n", (unsigned long)(ms / 1000), (unsigned long)(ms % 1000));
	return 0;
}
SHELL_CMD("uptime", cmd_uptime, "time since the kernel started");

static int cmd_dmesg(int argc, char **argv)
{
	static char buf[16384];
	size_t n = printk_ring_copy(buf, sizeof(buf) - 1);
	buf[n] = 0;
	printk_emergency(buf);
	return 0;
}
SHELL_CMD("dmesg", cmd_dmesg, "console output so far");

static int cmd_poweroff(int argc, char **argv)
{
	int status = argc > 1 ? (int)strtol(argv[1], NULL, 0) : 0;
	init_run_shutdown(); /* filesystems write back what is dirty */
	printk("powering off\n");
	arch_poweroff(status);
}
SHELL_CMD("poweroff", cmd_poweroff, "poweroff [STATUS]: stop the machine");

extern const struct karst_bench __start_karst_bench[], __stop_karst_bench[];

static int cmd_bench(int argc, char **argv)
{
	for (const struct karst_bench *b = __start_karst_bench; argc == 2 && b < __stop_karst_bench;
	     b++) {
		if (strcmp(b->name, argv[1]) == 0) {
			b->fn();
			return 0;
		}
	}
	printk("usage: bench NAME, one of:\n");
	for (const struct karst_bench *b = __start_karst_bench; b < __stop_karst_bench; b++)
		printk("  %-8s %s\n", b->name, b->what);
	return 2;
}
SHELL_CMD("bench", cmd_bench, "bench NAME: run a benchmark (bench alone lists them)");

static int cmd_crash(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "panic") == 0)
		panic("crash command: deliberate panic");
	volatile int *null = NULL;
	printk("crash: reading address 0\n");
	return *null;
}
SHELL_CMD("crash", cmd_crash, "crash [panic]: fault on a null pointer (or panic)");

/* What the test watchdog prints when a test hangs (from its reporter
 * thread): every thread, the virtio queues, the interrupt counts. */
static void shell_hang_report(void)
{
	shell_exec_line("threads; virtio; irqs");
}

static int shell_ktest_init(void)
{
	ktest_set_hang_report(shell_hang_report);
	return 0;
}
KARST_INIT(INIT_LATE, shell_ktest_init);
