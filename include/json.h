/*
 * json.h: the one JSON writer.  Compact output (no spaces), as every JSON
 * event line of migrate is written, or pretty (two-space indentation, one
 * member a line), as the plan and status documents are; the writer puts the commas
 * between members and elements, and escapes every string one way
 * (buf_json_string).  A member is json_key followed by one value (or a
 * begin ... end).
 */
#ifndef MIGRATE_JSON_H
#define MIGRATE_JSON_H

#include <stdio.h>

#include "util.h"

#define JSON_MAX_DEPTH 32

typedef struct JsonWriter
{
	Buf		   *out;
	bool		pretty;
	int			depth;
	bool		after_key;		/* a key was written; its value comes next */
	bool		has_items[JSON_MAX_DEPTH];	/* the open container holds one */
} JsonWriter;

/* Writes into out (appended to, not reset). */
void		json_init(JsonWriter *w, Buf *out);
/* The same, pretty: {\n  "key": value,\n  ...\n}; an empty container as {} or []. */
void		json_init_pretty(JsonWriter *w, Buf *out);

void		json_begin_object(JsonWriter *w);
void		json_end_object(JsonWriter *w);
void		json_begin_array(JsonWriter *w);
void		json_end_array(JsonWriter *w);

void		json_key(JsonWriter *w, const char *key);
/* NULL writes null. */
void		json_string(JsonWriter *w, const char *s);
void		json_int(JsonWriter *w, int64_t v);
void		json_bool(JsonWriter *w, bool v);
void		json_null(JsonWriter *w);
/* A member: json_key and its value in one call (key NULL: an element of an array). */
void		json_member_string(JsonWriter *w, const char *key, const char *s);
void		json_member_int(JsonWriter *w, const char *key, int64_t v);
void		json_member_bool(JsonWriter *w, const char *key, bool v);
/* The member's value is v when known, else null. */
void		json_member_int_or_null(JsonWriter *w, const char *key, int64_t v, bool known);

/*
 * Text that is JSON already (a document made elsewhere), as one value.
 * Pretty, its lines are indented to where it stands and its last newline
 * is dropped (a pretty document of render's reads as if written in place).
 */
void		json_raw(JsonWriter *w, const char *json);
/*
 * The members of object, JSON text "{...}" made elsewhere (an event line
 * of another migrate), into the object open in w, after those it holds.
 */
void		json_raw_members(JsonWriter *w, const char *object);

/*
 * One compact JSON line, as every event of migrate is written:
 * json_line_begin opens {"event":event (NULL: an object with no event
 * member); members go into l.w; json_line_end closes it and writes it with
 * a newline to out, flushed.
 */
typedef struct JsonLine
{
	Buf			b;
	JsonWriter	w;
} JsonLine;

void		json_line_begin(JsonLine *l, const char *event);
void		json_line_end(JsonLine *l, FILE *out);
/* {"event":event} and a newline to out: an event that carries nothing else. */
void		json_event_line(FILE *out, const char *event);

#endif
