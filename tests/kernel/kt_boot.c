/*
 * In-kernel tests of the boot environment: the clock, the command-line
 * parser, the shell's word splitter, and two manual tests that exercise the
 * runner's failure paths (a panic and a hang), run on purpose by
 * tests/kernel/run-ktests.
 */
#include <errno.h>
#include <karst/arch.h>
#include <karst/cmdline.h>
#include <karst/format.h>
#include <karst/ktest.h>
#include <karst/param.h>
#include <karst/printk.h>
#include <karst/shell.h>
#include <string.h>
#include <vfs.h>

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

/* Lines of any length: a path of nearly KARST_PATH_MAX bytes (longer than
 * a line used to be) and a script of 150 commands in one line, as run=
 * gives them. */
KTEST(boot_shell_long_lines)
{
	static char path[KARST_PATH_MAX], line[KARST_PATH_MAX + 32], script[4096];
	size_t n = (size_t)ksnprintf(path, sizeof(path), "/kt-long");
	int depth = 0;
	KT_ASSERT(vfs_mkdir(path, 0755) == 0);
	while (n + 11 + 3 < sizeof(path)) {
		memcpy(path + n, "/dddddddddd", 12);
		n += 11;
		KT_ASSERT(vfs_mkdir(path, 0755) == 0);
		depth++;
	}
	ksnprintf(line, sizeof(line), "echo deep > %s/f", path);
	KT_EXPECT(strlen(line) > 1000);
	KT_EXPECT(shell_exec_line(line) == 0);
	struct vfs_stat st;
	ksnprintf(line, sizeof(line), "%s/f", path);
	KT_EXPECT(vfs_stat(line, &st) == 0 && st.st_size == 5);
	size_t len = 0;
	for (int i = 0; i < 150; i++)
		len += (size_t)ksnprintf(script + len, sizeof(script) - len,
					 "echo %d > /kt-long/n; ", i);
	KT_EXPECT(len > 2048);
	KT_EXPECT(shell_exec_line(script) == 0);
	char got[8] = {0};
	int fd = vfs_open("/kt-long/n", O_RDONLY, 0);
	KT_EXPECT(fd >= 0 && vfs_read(fd, got, sizeof(got) - 1) == 4 && !strcmp(got, "149\n"));
	if (fd >= 0)
		vfs_close(fd);
	KT_EXPECT(vfs_unlink("/kt-long/n") == 0 && vfs_unlink(line) == 0);
	for (; depth >= 0; depth--) {
		KT_EXPECT(vfs_rmdir(path) == 0);
		path[n -= depth ? 11 : 0] = 0;
	}
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
