/*
 * The console shell: a line editor (printable characters, backspace,
 * Ctrl-U to clear, Ctrl-C to cancel, up/down arrows for history) over the
 * polled console, and a dispatcher to the commands registered with
 * SHELL_CMD. See <karst/shell.h>.
 */
#include <errno.h>
#include <karst/arch.h>
#include <karst/console.h>
#include <karst/kmem.h>
#include <karst/printk.h>
#include <karst/sched.h>
#include <karst/shell.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <vfs.h>

extern const struct shell_cmd __start_karst_shell[], __stop_karst_shell[];

/* Typed lines and history (a path of KARST_PATH_MAX bytes fits); lines
 * given to shell_exec_line (run= scripts) may be longer. */
#define LINE_MAX 2048
#define HISTORY	 16
#define MAX_ARGS 32

static char history[HISTORY][LINE_MAX];
static int hist_count;

int shell_split_words(char *line, char **argv, int max)
{
	int argc = 0;
	char *r = line, *w = line;
	while (*r) {
		while (*r == ' ' || *r == '\t')
			r++;
		if (!*r)
			break;
		if (argc == max)
			break;
		argv[argc++] = w;
		bool quoted = false;
		for (; *r && (quoted || (*r != ' ' && *r != '\t')); r++) {
			if (*r == '"')
				quoted = !quoted;
			else
				*w++ = *r;
		}
		if (*r)
			r++;
		*w++ = 0;
	}
	return argc;
}

static int out_fd = -1;
static int out_err; /* first write error on out_fd (negative errno) */

void shell_write(const char *buf, size_t len)
{
	if (out_fd >= 0) {
		while (len && !out_err) {
			long n = vfs_write(out_fd, buf, len);
			if (n <= 0) {
				out_err = n < 0 ? (int)n : -ENOSPC;
				return;
			}
			buf += n;
			len -= (size_t)n;
		}
		return;
	}
	while (len) {
		int chunk = len > 400 ? 400 : (int)len;
		printk("%.*s", chunk, buf);
		buf += chunk;
		len -= (size_t)chunk;
	}
}

int shell_printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	shell_write(buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
	return n;
}

/* Take `> file`, `>> file`, `>file` or `>>file` out of argv; returns the
 * number of words left, or -1 after reporting a bad redirection. */
static int redirect_parse(int argc, char **argv, const char **file, bool *append)
{
	*file = NULL;
	for (int i = 0; i < argc; i++) {
		if (argv[i][0] != '>')
			continue;
		*append = argv[i][1] == '>';
		const char *f = argv[i] + (*append ? 2 : 1);
		int used = 1;
		if (!*f) {
			if (i + 1 >= argc) {
				printk("shell: redirection without a file\n");
				return -1;
			}
			f = argv[i + 1];
			used = 2;
		}
		*file = f;
		for (int j = i; j + used <= argc; j++)
			argv[j] = argv[j + used];
		return argc - used;
	}
	return argc;
}

static const struct shell_cmd *cmd_find(const char *name)
{
	for (const struct shell_cmd *c = __start_karst_shell; c < __stop_karst_shell; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static int exec_one(char *cmd)
{
	char *argv[MAX_ARGS + 1];
	int argc = shell_split_words(cmd, argv, MAX_ARGS);
	const char *file;
	bool append = false;
	argc = redirect_parse(argc, argv, &file, &append);
	if (argc <= 0)
		return argc < 0 ? 2 : 0;
	argv[argc] = NULL;
	const struct shell_cmd *c = cmd_find(argv[0]);
	if (!c) {
		printk("%s: command not found (try 'help')\n", argv[0]);
		return 127;
	}
	if (!file)
		return c->fn(argc, argv);
	int fd = vfs_open(file, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644);
	if (fd < 0) {
		printk("shell: %s: %s\n", file, vfs_errname(fd));
		return 1;
	}
	out_fd = fd;
	out_err = 0;
	int status = c->fn(argc, argv);
	out_fd = -1;
	int e = vfs_close(fd);
	if (!out_err && e < 0)
		out_err = e;
	if (out_err) {
		/* The output did not all reach the file: say so, fail. */
		printk("shell: %s: %s\n", file, vfs_errname(out_err));
		if (status == 0)
			status = 1;
	}
	return status;
}

/* Any length: a line that does not fit the stack buffer is copied to the heap. */
int shell_exec_line(const char *line)
{
	/* Commands may sleep and write through the VFS (redirections). */
	KASSERT_MSG(!in_interrupt(), "shell_exec_line from interrupt context: '%s'", line);
	char small[256]; /* most lines: no allocation (the stack is 16 KiB) */
	size_t n = strlen(line);
	char *buf = n < sizeof(small) ? small : kmalloc(n + 1); /* a long run= script */
	if (!buf) {
		printk("shell: no memory for a %lu-byte line\n", (unsigned long)n);
		return 2;
	}
	memcpy(buf, line, n + 1);
	int status = 0;
	char *p = buf;
	/* Split on ';' outside quotes. */
	while (*p) {
		char *start = p;
		bool quoted = false;
		for (; *p && (quoted || *p != ';'); p++)
			if (*p == '"')
				quoted = !quoted;
		if (*p == ';')
			*p++ = 0;
		status = exec_one(start);
	}
	if (buf != small)
		kfree(buf);
	return status;
}

static int getc_wait(void)
{
	return console_getc();
}

static void line_replace(char *line, size_t *len, const char *with)
{
	while (*len) {
		printk("\b \b");
		(*len)--;
	}
	size_t n = strnlen(with, LINE_MAX - 1);
	memcpy(line, with, n);
	line[n] = 0;
	*len = n;
	printk("%s", line);
}

static void read_line(char *line)
{
	size_t len = 0;
	int hist_pos = hist_count;
	line[0] = 0;
	for (;;) {
		int c = getc_wait();
		if (c == '\r' || c == '\n') {
			printk("\n");
			line[len] = 0;
			return;
		}
		if (c == 0x7f || c == '\b') {
			if (len) {
				len--;
				printk("\b \b");
			}
		} else if (c == 0x15) { /* Ctrl-U */
			line_replace(line, &len, "");
		} else if (c == 0x03) { /* Ctrl-C */
			printk("^C\n");
			len = 0;
			line[0] = 0;
			return;
		} else if (c == 0x1b) { /* ESC [ A / ESC [ B */
			if (getc_wait() != '[')
				continue;
			int k = getc_wait();
			int first = hist_count > HISTORY ? hist_count - HISTORY : 0;
			if (k == 'A' && hist_pos > first) {
				hist_pos--;
				line_replace(line, &len, history[hist_pos % HISTORY]);
			} else if (k == 'B' && hist_pos < hist_count) {
				hist_pos++;
				line_replace(line, &len,
					     hist_pos == hist_count ? ""
								    : history[hist_pos % HISTORY]);
			}
		} else if (c >= 0x20 && c < 0x7f && len + 1 < LINE_MAX) {
			line[len++] = (char)c;
			line[len] = 0;
			printk("%c", c);
		}
	}
}

void shell_interactive(void)
{
	static char line[LINE_MAX];
	for (;;) {
		printk("karst> ");
		read_line(line);
		if (!line[0])
			continue;
		if (hist_count == 0 || strcmp(history[(hist_count - 1) % HISTORY], line) != 0)
			strcpy(history[hist_count++ % HISTORY], line);
		shell_exec_line(line);
	}
}
