/*
 * Kernel command-line options.
 *
 * The command line is a list of words separated by spaces: `name`,
 * `name=value` or `name="value with spaces"`. Subsystems declare the options
 * they understand with KARST_PARAM(name, handler, help); the handler gets
 * the value (NULL for a bare word; valid only during the call, so copy what
 * you keep) and returns 0 or a negative errno.
 * Unknown options and rejected values are reported and ignored.
 */
#ifndef KARST_CMDLINE_H
#define KARST_CMDLINE_H

#include <karst/compiler.h>

struct karst_param {
	const char *name;
	int (*handler)(const char *value);
	const char *help;
};

#define KARST_PARAM(pname, fn, helptext)                                                           \
	static const struct karst_param __param_##fn __used __section("karst_param")               \
	    __aligned(8) = {.name = (pname), .handler = (fn), .help = (helptext)}

/* Parse `cmdline` and call the handlers; returns the number of problems. */
int cmdline_parse(const char *cmdline);
/* Print every known option with its help line. */
void cmdline_print_help(void);

#endif
