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

/*
 * One part of a name at *p: a double-quoted identifier ("" inside is one
 * quote) when it starts with one and the quote closes before a dot or the
 * end; else the text up to the first dot (up to the end when last).
 */
static char *
take_part(const char **p, bool last)
{
	const char *s = *p;
	const char *end;

	if (*s == '"')
	{
		Buf			b;
		const char *q = s + 1;

		buf_init(&b);
		for (; *q; q++)
		{
			if (*q == '"' && q[1] == '"')
				q++;
			else if (*q == '"')
				break;
			buf_putc(&b, *q);
		}
		if (*q == '"' && (q[1] == '\0' || (q[1] == '.' && !last)))
		{
			*p = q + 1;
			return buf_detach(&b);
		}
		buf_free(&b);
	}
	end = last ? NULL : strchr(s, '.');
	if (end == NULL)
		end = s + strlen(s);
	*p = end;
	return xstrndup(s, (size_t) (end - s));
}

void
split_qualified(const char *name, char **schema, char **relname)
{
	const char *p = name;
	char	   *first = take_part(&p, false);

	if (*p == '.' && p[1] != '\0' && first[0] != '\0')
	{
		p++;
		*schema = first;
		*relname = take_part(&p, true);
		return;
	}
	*schema = NULL;
	if (*p == '\0' && name[0] == '"')
	{
		*relname = first;		/* "my.table": one quoted identifier */
		return;
	}
	free(first);
	*relname = xstrdup(name);
}

/* A part as written in a name: plain when that reads back the same, else quoted. */
static void
append_part(Buf *b, const char *part)
{
	if (part[0] != '"' && strchr(part, '.') == NULL)
		buf_puts(b, part);
	else
		quote_ident(b, part);
}

char *
join_qualified(const char *schema, const char *name)
{
	Buf			b;

	buf_init(&b);
	if (schema)
	{
		append_part(&b, schema);
		buf_putc(&b, '.');
	}
	append_part(&b, name);
	return buf_detach(&b);
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

/* ---- SQL text with quoted names and literals ---- */

void
sql_vappend(Buf *b, const char *fmt, va_list ap)
{
	for (const char *p = fmt; *p; p++)
	{
		const StrList *list;
		char	   *quoted;

		if (*p != '%')
		{
			buf_putc(b, *p);
			continue;
		}
		switch (*++p)
		{
			case 's':
				buf_puts(b, va_arg(ap, const char *));
				break;
			case 'I':
				quote_ident(b, va_arg(ap, const char *));
				break;
			case 'Q':
				quote_qualified(b, va_arg(ap, const char *));
				break;
			case 'L':
				quote_literal(b, va_arg(ap, const char *));
				break;
			case 'R':
				quoted = quoted_qualified(va_arg(ap, const char *));
				quote_literal(b, quoted);
				free(quoted);
				break;
			case 'E':
				buf_putc(b, '(');
				buf_puts(b, va_arg(ap, const char *));
				buf_putc(b, ')');
				break;
			case 'C':
				list = va_arg(ap, const StrList *);
				for (size_t i = 0; i < list->n; i++)
				{
					if (i > 0)
						buf_puts(b, ", ");
					quote_ident(b, list->items[i]);
				}
				break;
			case 'D':
				buf_printf(b, "%lld", (long long) va_arg(ap, int64_t));
				break;
			case 'd':
				buf_printf(b, "%d", va_arg(ap, int));
				break;
			case '%':
				buf_putc(b, '%');
				break;
			default:
				/* a caller's bug, not a user error: fail loudly in tests */
				abort();
		}
	}
}

void
sql_append(Buf *b, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	sql_vappend(b, fmt, ap);
	va_end(ap);
}

char *
sql_format(const char *fmt,...)
{
	Buf			b;
	va_list		ap;

	buf_init(&b);
	va_start(ap, fmt);
	sql_vappend(&b, fmt, ap);
	va_end(ap);
	return buf_detach(&b);
}
