/*
 * cmd_convert.c: "migrate convert FILE.sql": a SQL migration turned into a
 * migration file (see convert.c).
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"

int
cmd_convert(Run *r)
{
	Error		err = {0};
	const char *in;
	char	   *sql;
	Buf			yaml;
	FILE	   *out = stdout;

	if (r->a->positional.n != 1)
		return cli_usage_error("convert: %s", "give exactly one FILE.sql");
	in = r->a->positional.items[0];
	if ((sql = read_file(in, SPEC_MAX_FILE_BYTES, NULL, &err)) == NULL)
	{
		err.exit_code = EXIT_USAGE;
		return cli_fail(&err);
	}
	buf_init(&yaml);
	if (!convert_sql(in, sql, &yaml, &err))
		;
	else if (r->a->output && (out = fopen(r->a->output, "w")) == NULL)
		error_set(&err, EXIT_USAGE, "%s: cannot create: %s", r->a->output, strerror(errno));
	else
	{
		fputs(yaml.data, out);
		if (out != stdout && fclose(out) != 0)
			error_set(&err, EXIT_STEP_FAILED, "%s: write failed", r->a->output);
	}
	free(sql);
	buf_free(&yaml);
	return err.message ? cli_fail(&err) : EXIT_OK;
}
