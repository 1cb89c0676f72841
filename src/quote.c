/*
 * quote.c: identifiers and literals as SQL text.  See quote.h.
 */
#include "quote.h"

#include <stdlib.h>
#include <string.h>

void
quote_ident(Buf *out, const char *ident)
{
	buf_putc(out, '"');
	for (const char *p = ident; *p; p++)
	{
		if (*p == '"')
			buf_putc(out, '"');
		buf_putc(out, *p);
	}
	buf_putc(out, '"');
}

void
split_qualified(const char *name, char **schema, char **relname)
{
	const char *dot = strchr(name, '.');

	if (dot == NULL || dot == name || dot[1] == '\0')
	{
		*schema = NULL;
		*relname = xstrdup(name);
		return;
	}
	*schema = xstrndup(name, (size_t) (dot - name));
	*relname = xstrdup(dot + 1);
}

void
quote_qualified(Buf *out, const char *name)
{
	char	   *schema,
			   *relname;

	split_qualified(name, &schema, &relname);
	if (schema)
	{
		quote_ident(out, schema);
		buf_putc(out, '.');
	}
	quote_ident(out, relname);
	free(schema);
	free(relname);
}

void
quote_literal(Buf *out, const char *value)
{
	/*
	 * With standard_conforming_strings on (the default since 9.1) a
	 * backslash is an ordinary character in '...'; E'' makes the literal
	 * mean the same whatever that setting is.
	 */
	bool		escape = strchr(value, '\\') != NULL;

	if (escape)
		buf_putc(out, 'E');
	buf_putc(out, '\'');
	for (const char *p = value; *p; p++)
	{
		if (*p == '\'' || (escape && *p == '\\'))
			buf_putc(out, *p);
		buf_putc(out, *p);
	}
	buf_putc(out, '\'');
}

char *
quoted_ident(const char *ident)
{
	Buf			b;

	buf_init(&b);
	quote_ident(&b, ident);
	return buf_detach(&b);
}

char *
quoted_qualified(const char *name)
{
	Buf			b;

	buf_init(&b);
	quote_qualified(&b, name);
	return buf_detach(&b);
}

char *
quoted_literal(const char *value)
{
	Buf			b;

	buf_init(&b);
	quote_literal(&b, value);
	return buf_detach(&b);
}
