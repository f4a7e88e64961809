/*
 * The shell's GEOM commands.
 *
 *   geom list [CLASS]                  the graph (g_conf_list)
 *   gpart show [PROVIDER]              partition tables (g_conf_part_show)
 *   geom CLASS VERB [ARG...] [key=value...]
 *
 * Control verbs go to the class's ctlreq through g_ctl as key=value words.
 * The friendly forms below name their first arguments by position and map
 * them to the class's keys (and the verb to the class's own verb); any
 * key=value word is passed as it is, so every option of a class is
 * reachable, and a CLASS VERB pair not in the table is passed through
 * unchanged (`geom nop stats name=md0.nop`). Class names are case-blind.
 * Sizes take K, M and G suffixes (powers of 1024) and are checked here, so
 * a bad one is reported as such. After a verb succeeds the command waits
 * for GEOM to go idle, so the providers it made (and their /dev nodes) are
 * there for the next command.
 *
 * Errors print the class's message and the errno's name and return 1;
 * usage errors return 2.
 */
#include <errno.h>
#include <geom.h>
#include <karst/format.h>
#include <karst/kmem.h>
#include <karst/printk.h>
#include <karst/shell.h>
#include <string.h>
#include <vfs.h>

#define SHELL_GEOM_WORD 96 /* "key=value" words we build */

struct shell_geom_verb {
	const char *cls, *verb; /* as typed (class upper-cased) */
	const char *ctlverb;	/* the class's verb */
	const char *keys[3];	/* keys of the positional arguments */
	int nreq;		/* how many of them are required */
	const char *usage;
};

static const struct shell_geom_verb shell_geom_verbs[] = {
    {"MD",
     "create",
     "create",
     {"name", "size", "sectorsize"},
     2,
     "geom md create NAME SIZE[K|M|G] [SECTORSIZE]"},
    {"MD", "destroy", "destroy", {"name"}, 1, "geom md destroy NAME [force]"},
    {"NOP",
     "create",
     "create",
     {"provider"},
     1,
     "geom nop create PROVIDER [rfail=PCT wfail=PCT flip=PCT (or rfail_ppm=PPM ...) "
     "failafter=N delay=US seed=N error=ERRNO]"},
    {"NOP",
     "configure",
     "configure",
     {"name"},
     1,
     "geom nop configure NAME key=value... (options not named reset to 0)"},
    {"NOP", "stats", "stats", {"name"}, 1, "geom nop stats NAME"},
    {"NOP", "destroy", "destroy", {"name"}, 1, "geom nop destroy NAME [force]"},
    {"LABEL", "create", "label", {"name", "provider"}, 2, "geom label create NAME PROVIDER"},
    {"LABEL", "destroy", "clear", {"name"}, 1, "geom label destroy NAME"},
};

#define SHELL_GEOM_NVERBS (sizeof(shell_geom_verbs) / sizeof(shell_geom_verbs[0]))

static int shell_geom_fail(const char *what, int err)
{
	printk("%s: %s\n", what, vfs_errname(err));
	return 1;
}

static void shell_geom_usage(void)
{
	printk("usage: geom list [CLASS]\n");
	for (size_t i = 0; i < SHELL_GEOM_NVERBS; i++)
		printk("       %s\n", shell_geom_verbs[i].usage);
	printk("       geom CLASS VERB key=value...\n");
}

/* "4M" -> 4194304. Digits, then at most one of K, M, G (either case). */
static void shell_geom_upper(char *dst, const char *src, size_t size)
{
	size_t i = 0;
	for (; src[i] && i + 1 < size; i++)
		dst[i] = (src[i] >= 'a' && src[i] <= 'z') ? (char)(src[i] - 'a' + 'A') : src[i];
	dst[i] = 0;
}

static bool shell_geom_is_size_key(const char *key, size_t len)
{
	return (len == 4 && strncmp(key, "size", 4) == 0) ||
	       (len == 10 && strncmp(key, "sectorsize", 10) == 0);
}

/* The words handed to g_ctl: the verb, then key=value words. */
struct shell_geom_req {
	int argc;
	const char *argv[G_CTL_MAXARGS + 1];
	char words[G_CTL_MAXARGS][SHELL_GEOM_WORD];
};

/* Append key=value; sizes are checked and written in bytes. 0, or the
 * command's status (message printed). */
static int shell_geom_add(struct shell_geom_req *r, const char *key, size_t keylen,
			  const char *value)
{
	if (r->argc > G_CTL_MAXARGS) {
		printk("geom: more than %d arguments\n", G_CTL_MAXARGS);
		return 2;
	}
	char *w = r->words[r->argc - 1];
	if (value && shell_geom_is_size_key(key, keylen)) {
		uint64_t v;
		if (kparse_size(value, strlen(value), &v) != 0) {
			printk("geom: bad %.*s '%s' (a number with an optional K, M, G or T): %s\n",
			       (int)keylen, key, value, vfs_errname(-EINVAL));
			return 1;
		}
		ksnprintf(w, SHELL_GEOM_WORD, "%.*s=%llu", (int)keylen, key, (unsigned long long)v);
	} else if (value) {
		if ((size_t)ksnprintf(w, SHELL_GEOM_WORD, "%.*s=%s", (int)keylen, key, value) >=
		    SHELL_GEOM_WORD) {
			printk("geom: argument too long: %s: %s\n", value,
			       vfs_errname(-ENAMETOOLONG));
			return 1;
		}
	} else {
		ksnprintf(w, SHELL_GEOM_WORD, "%.*s", (int)keylen, key);
	}
	r->argv[r->argc++] = w;
	return 0;
}

/* Build r from the words after CLASS VERB: 0, or the command's status
 * (1 for bad values, 2 for bad usage; message printed). */
static int shell_geom_build(struct shell_geom_req *r, const struct shell_geom_verb *v,
			    const char *verb, int argc, char **argv)
{
	r->argc = 1;
	r->argv[0] = v ? v->ctlverb : verb;
	int npos = 0;
	for (int i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		int err;
		if (eq)
			err = shell_geom_add(r, argv[i], (size_t)(eq - argv[i]), eq + 1);
		else if (v && npos < 3 && v->keys[npos]) {
			const char *k = v->keys[npos++];
			err = shell_geom_add(r, k, strlen(k), argv[i]);
		} else
			err = shell_geom_add(r, argv[i], strlen(argv[i]), NULL); /* "force" */
		if (err)
			return err;
	}
	for (int k = 0; v && k < v->nreq; k++) {
		bool have = k < npos;
		size_t kl = strlen(v->keys[k]);
		for (int i = 1; !have && i < r->argc; i++)
			have = strncmp(r->argv[i], v->keys[k], kl) == 0 && r->argv[i][kl] == '=';
		if (!have) {
			printk("usage: %s\n", v->usage);
			return 2;
		}
	}
	return 0;
}

/* Fill a growing buffer with fill(sb, arg) until it fits; NULL on ENOMEM. */
static char *shell_geom_dump(void (*fill)(struct g_sbuf *, const char *), const char *arg)
{
	size_t size = 8192;
	for (;;) {
		char *buf = kmalloc(size);
		if (!buf)
			return NULL;
		struct g_sbuf sb;
		g_sbuf_init(&sb, buf, size);
		fill(&sb, arg);
		if (sb.len < size)
			return buf;
		kfree(buf);
		size = sb.len + 1024; /* the graph may grow meanwhile: try again */
	}
}

static bool shell_geom_class_exists(const char *name)
{
	g_topology_lock();
	struct g_class *mp = g_find_class(name);
	bool ok = mp && mp->registered;
	g_topology_unlock();
	return ok;
}

static int shell_geom_list(int argc, char **argv)
{
	char cls[G_NAME_MAX];
	if (argc > 3) {
		printk("usage: geom list [CLASS]\n");
		return 2;
	}
	if (argc == 3) {
		shell_geom_upper(cls, argv[2], sizeof(cls));
		if (!shell_geom_class_exists(cls)) {
			printk("geom: no class %s: %s\n", argv[2], vfs_errname(-ENOENT));
			return 1;
		}
	}
	char *out = shell_geom_dump(g_conf_list, argc == 3 ? cls : NULL);
	if (!out)
		return shell_geom_fail("geom list", -ENOMEM);
	shell_write(out, strlen(out));
	kfree(out);
	return 0;
}

static int cmd_geom(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "help") == 0) {
		shell_geom_usage();
		return 2;
	}
	if (strcmp(argv[1], "list") == 0)
		return shell_geom_list(argc, argv);
	if (argc < 3) {
		shell_geom_usage();
		return 2;
	}
	char cls[G_NAME_MAX];
	shell_geom_upper(cls, argv[1], sizeof(cls));
	const struct shell_geom_verb *v = NULL;
	for (size_t i = 0; i < SHELL_GEOM_NVERBS; i++)
		if (strcmp(shell_geom_verbs[i].cls, cls) == 0 &&
		    strcmp(shell_geom_verbs[i].verb, argv[2]) == 0)
			v = &shell_geom_verbs[i];

	struct shell_geom_req *r = kmalloc(sizeof(*r));
	char *reply = kmalloc(4096);
	int status = (r && reply) ? shell_geom_build(r, v, argv[2], argc - 3, argv + 3)
				  : shell_geom_fail("geom", -ENOMEM);
	if (status) {
		kfree(r);
		kfree(reply);
		return status;
	}
	struct g_sbuf sb;
	g_sbuf_init(&sb, reply, 4096);
	int err = g_ctl(cls, r->argc, r->argv, &sb);
	if (err) {
		printk("%s", reply);
		printk("geom %s %s: %s\n", argv[1], argv[2], vfs_errname(err));
	} else {
		shell_write(reply, strlen(reply));
		g_waitidle(); /* tasting done: new providers and /dev nodes exist */
	}
	kfree(r);
	kfree(reply);
	return err ? 1 : 0;
}
SHELL_CMD("geom", cmd_geom,
	  "geom list [CLASS] | geom CLASS VERB ARGS...: the block layer (geom help)");

static void shell_gpart_fill(struct g_sbuf *sb, const char *unused)
{
	g_conf_part_show(sb);
}

/* Is the "=> first count NAME ..." line at p about `name`? */
static bool shell_gpart_block_is(const char *p, const char *name)
{
	/* Skip the two numbers after "=>". */
	for (int field = 0; field < 2; field++) {
		while (*p == ' ')
			p++;
		while (*p && *p != ' ' && *p != '\n')
			p++;
	}
	while (*p == ' ')
		p++;
	size_t n = strlen(name);
	return strncmp(p, name, n) == 0 && (p[n] == ' ' || p[n] == '\n');
}

static int cmd_gpart(int argc, char **argv)
{
	if (argc < 2 || argc > 3 || strcmp(argv[1], "show") != 0) {
		printk("usage: gpart show [PROVIDER]\n");
		return 2;
	}
	const char *want = argc == 3 ? argv[2] : NULL;
	if (want) {
		g_topology_lock();
		bool exists = g_find_provider(want) != NULL;
		bool table = g_find_geom(&g_part_class, want) != NULL;
		g_topology_unlock();
		if (!exists) {
			printk("gpart: no provider %s: %s\n", want, vfs_errname(-ENOENT));
			return 1;
		}
		if (!table) {
			printk("gpart: %s has no partition table: %s\n", want, vfs_errname(-ENXIO));
			return 1;
		}
	}
	char *out = shell_geom_dump(shell_gpart_fill, NULL);
	if (!out)
		return shell_geom_fail("gpart show", -ENOMEM);
	/* Tables are blocks that open with "=>" and end with an empty line. */
	bool keep = !want;
	for (char *p = out; *p;) {
		char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
		if (want && strncmp(p, "=>", 2) == 0)
			keep = shell_gpart_block_is(p + 2, want);
		if (keep)
			shell_write(p, len);
		p += len;
	}
	kfree(out);
	return 0;
}
SHELL_CMD("gpart", cmd_gpart, "gpart show [PROVIDER]: partition tables");
