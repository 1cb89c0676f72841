/*
 * json.c: the one JSON writer.  See json.h.
 */
#include "json.h"

#include <stdlib.h>
#include <string.h>

void
json_init(JsonWriter *w, Buf *out)
{
	w->out = out;
	w->pretty = false;
	w->depth = 0;
	w->after_key = false;
	w->has_items[0] = false;
}

void
json_init_pretty(JsonWriter *w, Buf *out)
{
	json_init(w, out);
	w->pretty = true;
}

/* A new line at the depth open now (pretty only). */
static void
indent(JsonWriter *w)
{
	buf_putc(w->out, '\n');
	for (int i = 0; i < w->depth; i++)
		buf_puts(w->out, "  ");
}

/*
 * Before a value or a key: the comma that separates it from the one before,
 * and when pretty its own line inside a container.
 */
static void
separate(JsonWriter *w)
{
	if (w->after_key)
	{
		w->after_key = false;
		return;
	}
	if (w->has_items[w->depth])
		buf_putc(w->out, ',');
	w->has_items[w->depth] = true;
	if (w->pretty && w->depth > 0)
		indent(w);
}

static void
open_container(JsonWriter *w, char c)
{
	separate(w);
	buf_putc(w->out, c);
	if (w->depth + 1 >= JSON_MAX_DEPTH)
		abort();				/* a caller's bug: nothing nests this deep */
	w->has_items[++w->depth] = false;
}

static void
close_container(JsonWriter *w, char c)
{
	bool		empty;

	if (w->depth == 0)
		abort();				/* a caller's bug: more ends than begins */
	empty = !w->has_items[w->depth];
	w->depth--;
	w->after_key = false;
	if (w->pretty && !empty)
		indent(w);
	buf_putc(w->out, c);
}

void
json_begin_object(JsonWriter *w)
{
	open_container(w, '{');
}

void
json_end_object(JsonWriter *w)
{
	close_container(w, '}');
}

void
json_begin_array(JsonWriter *w)
{
	open_container(w, '[');
}

void
json_end_array(JsonWriter *w)
{
	close_container(w, ']');
}

void
json_key(JsonWriter *w, const char *key)
{
	separate(w);
	buf_json_string(w->out, key);
	buf_puts(w->out, w->pretty ? ": " : ":");
	w->after_key = true;
}

void
json_string(JsonWriter *w, const char *s)
{
	separate(w);
	buf_json_string(w->out, s);
}

void
json_int(JsonWriter *w, int64_t v)
{
	separate(w);
	buf_printf(w->out, "%lld", (long long) v);
}

void
json_bool(JsonWriter *w, bool v)
{
	separate(w);
	buf_puts(w->out, v ? "true" : "false");
}

void
json_null(JsonWriter *w)
{
	separate(w);
	buf_puts(w->out, "null");
}

void
json_member_string(JsonWriter *w, const char *key, const char *s)
{
	if (key)
		json_key(w, key);
	json_string(w, s);
}

void
json_member_int(JsonWriter *w, const char *key, int64_t v)
{
	if (key)
		json_key(w, key);
	json_int(w, v);
}

void
json_member_bool(JsonWriter *w, const char *key, bool v)
{
	if (key)
		json_key(w, key);
	json_bool(w, v);
}

void
json_member_int_or_null(JsonWriter *w, const char *key, int64_t v, bool known)
{
	if (key)
		json_key(w, key);
	if (known)
		json_int(w, v);
	else
		json_null(w);
}

void
json_raw(JsonWriter *w, const char *json)
{
	size_t		n = strlen(json);

	separate(w);
	if (!w->pretty)
	{
		buf_puts(w->out, json);
		return;
	}
	/* a newline in JSON text is whitespace, never inside a string */
	while (n > 0 && json[n - 1] == '\n')
		n--;
	for (size_t i = 0; i < n; i++)
	{
		if (json[i] == '\n')
			indent(w);
		else
			buf_putc(w->out, json[i]);
	}
}

void
json_raw_members(JsonWriter *w, const char *object)
{
	const char *p = strchr(object, '{');
	const char *end = strrchr(object, '}');

	if (p == NULL || end == NULL || end < p)
		abort();				/* a caller's bug: not an object */
	for (p++; p < end && (*p == ' ' || *p == '\n'); p++)
		;
	if (p == end)
		return;
	separate(w);
	buf_putn(w->out, p, (size_t) (end - p));
}

void
json_line_begin(JsonLine *l, const char *event)
{
	buf_init(&l->b);
	json_init(&l->w, &l->b);
	json_begin_object(&l->w);
	if (event == NULL)
		return;
	json_key(&l->w, "event");
	json_string(&l->w, event);
}

void
json_line_end(JsonLine *l, FILE *out)
{
	json_end_object(&l->w);
	buf_putc(&l->b, '\n');
	fputs(l->b.data, out);
	fflush(out);
	buf_free(&l->b);
}

void
json_event_line(FILE *out, const char *event)
{
	JsonLine	l;

	json_line_begin(&l, event);
	json_line_end(&l, out);
}
