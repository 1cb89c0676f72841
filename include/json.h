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
/* Text that is JSON already (a document made elsewhere), as one value. */
void		json_raw(JsonWriter *w, const char *json);

#endif
