/*
 * cmd_new.c: "migrate new NAME": a migration file named by the time, from
 * a template or the default text.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef TEMPLATE_DIR
#define TEMPLATE_DIR "/usr/local/share/migrate/templates"
#endif

static const char default_template[] =
"# Describe the change; see migrate(1), OPERATIONS.\n"
"description: <what this migration does>\n"
"operations:\n"
"  - add_column:\n"
"      table: <table>\n"
"      column: { name: <column>, type: <type> }\n";

/* templates/T.yaml of the working folder, else the installed one. */
static char *
read_template(const char *name, Error *err)
{
	char	   *tpath = xasprintf("templates/%s.yaml", name);
	char	   *content;

	if (access(tpath, R_OK) != 0)
	{
		free(tpath);
		tpath = xasprintf("%s/%s.yaml", TEMPLATE_DIR, name);
	}
	content = read_file(tpath, SPEC_MAX_FILE_BYTES, NULL, err);
	free(tpath);
	if (content == NULL)
	{
		error_prefix(err, "template \"%s\"", name);
		err->exit_code = EXIT_USAGE;
	}
	return content;
}

/* Creates path (never over an existing file) holding text. */
static bool
write_new_file(const char *path, const char *text, Error *err)
{
	size_t		len = strlen(text);
	int			fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0666);
	bool		ok;

	if (fd < 0)
		return error_set(err, EXIT_USAGE, "%s: cannot create: %s", path, strerror(errno));
	ok = write(fd, text, len) == (ssize_t) len;
	if (close(fd) != 0)
		ok = false;
	return ok || error_set(err, EXIT_STEP_FAILED, "%s: write failed", path);
}

int
cmd_new(Run *r)
{
	Error		err = {0};
	const char *name;
	char	   *content = NULL;
	char	   *path;
	char		stamp[32];
	time_t		now = time(NULL);
	struct tm	tm;
	int64_t		v;
	char	   *vt = NULL,
			   *nm = NULL;
	char	   *base;
	bool		ok;

	if (r->a->positional.n != 1)
		return cli_usage_error("new: %s", "give exactly one NAME ([a-z0-9_]+)");
	name = r->a->positional.items[0];
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
	base = xasprintf("%s_%s.yaml", stamp, name);
	ok = spec_parse_filename(base, &v, &vt, &nm);
	free(vt);
	free(nm);
	if (!ok)
	{
		free(base);
		return cli_usage_error("new: \"%s\" is not a valid name: use lower-case letters, digits and _", name);
	}
	if (r->a->template_name && (content = read_template(r->a->template_name, &err)) == NULL)
	{
		free(base);
		return cli_fail(&err);
	}
	mkdir(r->g->dir, 0777);
	path = xasprintf("%s/%s", r->g->dir, base);
	free(base);
	ok = write_new_file(path, content ? content : default_template, &err);
	if (ok)
		printf("%s\n", path);
	free(path);
	free(content);
	return ok ? EXIT_OK : cli_fail(&err);
}
