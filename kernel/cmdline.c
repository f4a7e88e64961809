/*
 * Command-line parsing; see <karst/cmdline.h>.
 */
#include <karst/cmdline.h>
#include <karst/printk.h>
#include <stdbool.h>
#include <string.h>

extern const struct karst_param __start_karst_param[], __stop_karst_param[];

#define WORD_MAX 1024 /* run="..." scripts up to 1023 bytes */

static const struct karst_param *param_find(const char *name)
{
	for (const struct karst_param *p = __start_karst_param; p < __stop_karst_param; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

int cmdline_parse(const char *cmdline)
{
	int problems = 0;
	const char *s = cmdline;
	static char word[WORD_MAX];
	while (*s) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		size_t n = 0;
		bool quoted = false, too_long = false;
		char *value = NULL;
		for (; *s && (quoted || (*s != ' ' && *s != '\t')); s++) {
			if (*s == '"') {
				quoted = !quoted;
				continue;
			}
			if (n + 1 >= WORD_MAX) {
				too_long = true;
				continue;
			}
			if (*s == '=' && !value && !quoted) {
				word[n++] = 0;
				value = &word[n];
				continue;
			}
			word[n++] = *s;
		}
		word[n] = 0;
		if (quoted) {
			printk("karst: command line: unterminated quote in '%s', ignored\n", word);
			problems++;
			continue;
		}
		if (too_long) {
			printk("karst: command line: option '%s' too long, ignored\n", word);
			problems++;
			continue;
		}
		const struct karst_param *p = param_find(word);
		if (!p) {
			printk("karst: unknown option '%s' ignored\n", word);
			problems++;
			continue;
		}
		int e = p->handler(value);
		if (e) {
			printk("karst: option %s=%s rejected (error %d), ignored\n", word,
			       value ? value : "", e);
			problems++;
		}
	}
	return problems;
}

void cmdline_print_help(void)
{
	for (const struct karst_param *p = __start_karst_param; p < __stop_karst_param; p++)
		printk("  %-12s %s\n", p->name, p->help);
}
