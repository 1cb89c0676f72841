/*
 * util.c: allocation, growable strings and lists, errors, clocks.
 */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static void
out_of_memory(void)
{
	fputs("migrate: out of memory\n", stderr);
	abort();
}

void *
xmalloc(size_t size)
{
	void	   *p = malloc(size ? size : 1);

	if (p == NULL)
		out_of_memory();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void	   *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		out_of_memory();
	return p;
}

void *
xrealloc(void *ptr, size_t size)
{
	void	   *p = realloc(ptr, size ? size : 1);

	if (p == NULL)
		out_of_memory();
	return p;
}

char *
xstrdup(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

char *
xstrndup(const char *s, size_t n)
{
	char	   *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	Buf			b;
	va_list		ap;

	buf_init(&b);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return buf_detach(&b);
}

/* ---- Buf ---- */

void
buf_init(Buf *b)
{
	b->cap = 64;
	b->len = 0;
	b->data = xmalloc(b->cap);
	b->data[0] = '\0';
}

void
buf_reset(Buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
buf_free(Buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static void
buf_reserve(Buf *b, size_t more)
{
	if (b->len + more + 1 <= b->cap)
		return;
	/* A zeroed or freed Buf is empty, not broken: it grows from nothing. */
	if (b->cap == 0)
		b->cap = 64;
	while (b->len + more + 1 > b->cap)
		b->cap *= 2;
	b->data = xrealloc(b->data, b->cap);
}

void
buf_putn(Buf *b, const char *s, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_puts(Buf *b, const char *s)
{
	buf_putn(b, s, strlen(s));
}

void
buf_putc(Buf *b, char c)
{
	buf_putn(b, &c, 1);
}

void
buf_vprintf(Buf *b, const char *fmt, va_list ap)
{
	va_list		ap2;
	int			n;

	va_copy(ap2, ap);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	if ((size_t) n >= b->cap - b->len)
	{
		buf_reserve(b, (size_t) n);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	}
	b->len += (size_t) n;
}

void
buf_printf(Buf *b, const char *fmt, ...)
{
	va_list		ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

char *
buf_detach(Buf *b)
{
	char	   *s = b->data;

	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

/*
 * Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF), or 0 when it is not one.
 */
size_t
utf8_seq_len(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];
	size_t		n;
	unsigned char lo = 0x80,
				hi = 0xBF;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
	{
		n = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	}
	else if (c >= 0xF0 && c <= 0xF4)
	{
		n = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	}
	else
		return 0;
	if (left < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return n;
}

void
buf_json_string(Buf *b, const char *s)
{
	if (s == NULL)
	{
		buf_puts(b, "null");
		return;
	}
	buf_putc(b, '"');
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		switch (c)
		{
			case '"':
				buf_puts(b, "\\\"");
				break;
			case '\\':
				buf_puts(b, "\\\\");
				break;
			case '\n':
				buf_puts(b, "\\n");
				break;
			case '\r':
				buf_puts(b, "\\r");
				break;
			case '\t':
				buf_puts(b, "\\t");
				break;
			default:
				if (c < 0x20 || c == 0x7f)
					buf_printf(b, "\\u%04x", c);
				else if (c < 0x80)
					buf_putc(b, (char) c);
				else
				{
					/* a byte that starts no UTF-8 character: U+FFFD, so the line stays JSON */
					size_t		left = 1,
								n;

					while (left < 4 && s[left])
						left++;
					n = utf8_seq_len((const unsigned char *) s, left);

					if (n == 0)
						buf_puts(b, "\\ufffd");
					else
					{
						buf_putn(b, s, n);
						s += n - 1;
					}
				}
		}
	}
	buf_putc(b, '"');
}

/* ---- StrList ---- */

void
strlist_push(StrList *l, char *owned)
{
	if (l->n == l->cap)
	{
		l->cap = l->cap ? l->cap * 2 : 4;
		l->items = xrealloc(l->items, l->cap * sizeof(char *));
	}
	l->items[l->n++] = owned;
}

void
strlist_add(StrList *l, const char *s)
{
	strlist_push(l, xstrdup(s));
}

void
strlist_free(StrList *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = l->cap = 0;
}

bool
strlist_contains(const StrList *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i], s) == 0)
			return true;
	return false;
}

bool
strlist_equal(const StrList *a, const StrList *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->items[i], b->items[i]) != 0)
			return false;
	return true;
}

/* ---- Error ---- */

bool
error_set(Error *err, int exit_code, const char *fmt, ...)
{
	Buf			b;
	va_list		ap;

	if (err == NULL)
		return false;
	buf_init(&b);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	free(err->message);
	err->message = buf_detach(&b);
	err->exit_code = exit_code;
	err->sqlstate[0] = '\0';
	return false;
}

void
error_prefix(Error *err, const char *fmt, ...)
{
	Buf			b;
	va_list		ap;

	if (err == NULL || err->message == NULL)
		return;
	buf_init(&b);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	buf_puts(&b, ": ");
	buf_puts(&b, err->message);
	free(err->message);
	err->message = buf_detach(&b);
}

void
error_append(Error *err, const char *fmt, ...)
{
	Buf			b;
	va_list		ap;

	if (err == NULL || err->message == NULL)
		return;
	buf_init(&b);
	buf_puts(&b, err->message);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	free(err->message);
	err->message = buf_detach(&b);
}

void
error_clear(Error *err)
{
	free(err->message);
	err->message = NULL;
	err->exit_code = EXIT_OK;
	err->sqlstate[0] = '\0';
}

/* ---- clocks ---- */

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
sleep_ms(int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- files ---- */

char *
read_file(const char *path, size_t max_bytes, size_t *len_out, Error *err)
{
	FILE	   *f;
	struct stat st;
	Buf			b;
	char		chunk[8192];
	size_t		n;

	f = fopen(path, "rb");
	if (f == NULL)
	{
		error_set(err, EXIT_USAGE, "%s: cannot read: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode))
	{
		fclose(f);
		error_set(err, EXIT_USAGE, "%s: is a directory", path);
		return NULL;
	}
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
	{
		if (b.len + n > max_bytes)
		{
			fclose(f);
			buf_free(&b);
			error_set(err, EXIT_USAGE, "%s: larger than %zu bytes", path, max_bytes);
			return NULL;
		}
		buf_putn(&b, chunk, n);
	}
	if (ferror(f))
	{
		fclose(f);
		buf_free(&b);
		error_set(err, EXIT_USAGE, "%s: read error: %s", path, strerror(errno));
		return NULL;
	}
	fclose(f);
	if (len_out)
		*len_out = b.len;
	return buf_detach(&b);
}

int
edit_distance(const char *a, const char *b)
{
	size_t		la = strlen(a),
				lb = strlen(b);
	int		   *row;
	int			result;

	if (la > 64 || lb > 64)
		return 1000;
	row = xmalloc((lb + 1) * sizeof(int));
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int) j;
	for (size_t i = 1; i <= la; i++)
	{
		int			diag = row[0];

		row[0] = (int) i;
		for (size_t j = 1; j <= lb; j++)
		{
			int			up = row[j];
			int			best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	result = row[lb];
	free(row);
	return result;
}
