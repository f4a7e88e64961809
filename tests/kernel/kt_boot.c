/*
 * In-kernel tests of the boot environment: the clock, the command-line
 * parser, the shell's word splitter, and two manual tests that exercise the
 * runner's failure paths (a panic and a hang), run on purpose by
 * tests/kernel/run-ktests.
 */
#include <karst/arch.h>
#include <karst/cmdline.h>
#include <karst/ktest.h>
#include <karst/printk.h>
#include <karst/shell.h>
#include <string.h>

KTEST(boot_clock_advances)
{
	uint64_t a = arch_time_ns();
	volatile uint64_t spin = 0;
	while (arch_time_ns() - a < 2000000)
		spin++;
	uint64_t b = arch_time_ns();
	KT_EXPECT(b - a >= 2000000);
	KT_EXPECT(b - a < 2000000000);
	KT_EXPECT(a > 0);
}

KTEST(boot_cmdline_reports_unknown)
{
	/* Only options nobody knows: each one is one problem, nothing crashes. */
	KT_EXPECT(cmdline_parse("no_such_option another=1 \"quoted value\"=x") == 3);
	KT_EXPECT(cmdline_parse("") == 0);
	KT_EXPECT(cmdline_parse("broken=\"unterminated") == 1);
}

KTEST(boot_shell_words)
{
	char line[] = "echo  one \"two three\"   four";
	char *argv[8];
	int argc = shell_split_words(line, argv, 8);
	KT_ASSERT(argc == 4);
	KT_EXPECT(strcmp(argv[0], "echo") == 0);
	KT_EXPECT(strcmp(argv[2], "two three") == 0);
	KT_EXPECT(strcmp(argv[3], "four") == 0);
	KT_EXPECT(shell_exec_line("no_such_command") == 127);
	KT_EXPECT(shell_exec_line("echo a; echo b") == 0);
}

KTEST(boot_glob)
{
	KT_EXPECT(ktest_glob("mem_*", "mem_found"));
	KT_EXPECT(!ktest_glob("mem_*", "lib_format"));
	KT_EXPECT(ktest_glob("*", ""));
	KT_EXPECT(ktest_glob("a?c", "abc"));
}

KTEST_FLAGS(selftest_panic, KTEST_MANUAL)
{
	panic("selftest_panic: deliberate panic inside a test");
}

KTEST_FLAGS(selftest_hang, KTEST_MANUAL)
{
	for (;;)
		arch_cpu_relax();
}

KTEST_FLAGS(selftest_fail, KTEST_MANUAL)
{
	KT_EXPECT(1 + 1 == 3);
}
