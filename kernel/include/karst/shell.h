/*
 * The kernel shell on the serial console (kernel/shell).
 *
 * Commands register themselves with SHELL_CMD(name, fn, usage) in the
 * karst_shell linker section; fn(argc, argv) returns 0 on success or a
 * positive status. A line holds commands separated by ';', words separated
 * by spaces, "double quotes" group words, and `> file` / `>> file` send a
 * command's shell_printf output to a file. The shell runs in thread
 * context and may sleep.
 */
#ifndef KARST_SHELL_H
#define KARST_SHELL_H

#include <karst/compiler.h>
#include <stddef.h>

struct shell_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
};

#define SHELL_CMD(cname, func, use)                                                                \
	static const struct shell_cmd __shell_##func __used __section("karst_shell")               \
	    __aligned(8) = {.name = (cname), .fn = (func), .usage = (use)}

/* Output of shell commands: the console, or the file of a `> file` or
 * `>> file` redirection on the command line. */
__printf(1, 2) int shell_printf(const char *fmt, ...);
void shell_write(const char *buf, size_t len);

/* Run one line; returns the status of the last command. */
int shell_exec_line(const char *line);
/* Run the interactive shell on the console forever. */
__noreturn void shell_interactive(void);
/* Split `line` into words in place; returns argc (at most max). */
int shell_split_words(char *line, char **argv, int max);

#endif
