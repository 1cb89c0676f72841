/*
 * spec_yaml.c: a migration file's bytes → a YNode tree, with libyaml's
 * event parser.  See spec_yaml.h.
 *
 * The event API (rather than libyaml's document loader) lets us refuse an
 * anchor or alias the moment it appears, so a hostile file can never make
 * us expand anything, and lets us stop at SPEC_MAX_DEPTH before building
 * deeper.  Mappings keep their keys in file order; the typed layer looks
 * keys up by name, so key order never matters.
 */
#include "spec_yaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YAML_STD_TAG_PREFIX "tag:yaml.org,2002:"

/* A collection being built: its node and how many items it has so far. */
typedef struct Frame
{
	YNode		node;
	size_t		count;			/* items appended; a mapping has 2 per pair */
} Frame;

typedef struct Builder
{
	const char *path;
	const unsigned char *data;
	size_t		len;
	Error	   *err;
	Frame		stack[SPEC_MAX_DEPTH];
	int			depth;
	YNode		root;
	bool		have_root;
	int			documents;
} Builder;

bool
spec_error_at(Error *err, const SrcPos *pos, const char *fmt, ...)
{
	Buf			b;
	va_list		ap;
	bool		result;

	buf_init(&b);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	result = error_set(err, EXIT_USAGE, "%s:%d:%d: %s", pos->file, pos->line,
					   pos->col, b.data);
	buf_free(&b);
	return result;
}

/* ---- positions in the raw text ---- */

/*
 * Walks the text one character at a time counting lines and columns the
 * way libyaml does: columns in characters, CR LF as one line break, and
 * CR, NEL, LS and PS as line breaks too.
 */
typedef struct TextCursor
{
	const unsigned char *s;
	size_t		len;
	size_t		off;
	int			line;
	int			col;
} TextCursor;

static void
cursor_init(TextCursor *c, const unsigned char *s, size_t len)
{
	c->s = s;
	c->len = len;
	c->off = 0;
	c->line = 1;
	c->col = 1;
}

static void
cursor_step(TextCursor *c)
{
	const unsigned char *p = c->s + c->off;
	size_t		left = c->len - c->off;
	size_t		n = utf8_seq_len(p, left);
	bool		line_break;

	if (n == 0)
		n = 1;
	if (p[0] == '\r' && left > 1 && p[1] == '\n')
	{
		/* the LF that follows ends the line */
		c->off++;
		return;
	}
	line_break = p[0] == '\n' || p[0] == '\r' ||
		(n == 2 && p[0] == 0xC2 && p[1] == 0x85) ||
		(n == 3 && p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9));
	c->off += n;
	if (line_break)
	{
		c->line++;
		c->col = 1;
	}
	else
		c->col++;
}

static SrcPos
pos_at_offset(const Builder *b, size_t offset)
{
	TextCursor	c;
	SrcPos		pos;

	cursor_init(&c, b->data, b->len);
	while (c.off < offset && c.off < c.len)
		cursor_step(&c);
	pos.file = b->path;
	pos.line = c.line;
	pos.col = c.col;
	return pos;
}

static SrcPos
pos_of_mark(const Builder *b, const yaml_mark_t *mark)
{
	SrcPos		pos;

	pos.file = b->path;
	pos.line = (int) mark->line + 1;
	pos.col = (int) mark->column + 1;
	return pos;
}

/* Refuses NUL bytes and malformed UTF-8 before libyaml sees the text. */
static bool
check_bytes(const Builder *b)
{
	size_t		off = 0;

	while (off < b->len)
	{
		size_t		n = utf8_seq_len(b->data + off, b->len - off);
		SrcPos		pos;

		if (n == 1 && b->data[off] == '\0')
		{
			pos = pos_at_offset(b, off);
			return spec_error_at(b->err, &pos, "NUL byte in the file");
		}
		if (n == 0)
		{
			pos = pos_at_offset(b, off);
			return spec_error_at(b->err, &pos,
								 "invalid UTF-8 (byte 0x%02x); files must be UTF-8 text",
								 b->data[off]);
		}
		off += n;
	}
	return true;
}

/*
 * If the given line is indented with a tab, the column of that tab, else
 * 0.  libyaml's own messages for this ("found character that cannot start
 * any token") do not say what is wrong.
 */
static int
tab_in_indentation(const Builder *b, int line)
{
	TextCursor	c;

	cursor_init(&c, b->data, b->len);
	while (c.off < c.len && c.line < line)
		cursor_step(&c);
	if (c.line != line)
		return 0;
	for (size_t i = c.off; i < c.len; i++)
	{
		if (c.s[i] == '\t')
			return (int) (i - c.off) + 1;
		if (c.s[i] != ' ')
			break;
	}
	return 0;
}

static bool
syntax_error(const Builder *b, const yaml_parser_t *parser)
{
	SrcPos		pos;
	int			tab_col;

	if (parser->error == YAML_MEMORY_ERROR)
		return error_set(b->err, EXIT_USAGE, "%s: out of memory while parsing", b->path);
	if (parser->error == YAML_READER_ERROR)
	{
		pos = pos_at_offset(b, parser->problem_offset);
		return spec_error_at(b->err, &pos, "invalid character: %s",
							 parser->problem ? parser->problem : "unreadable text");
	}
	pos = pos_of_mark(b, &parser->problem_mark);
	tab_col = tab_in_indentation(b, pos.line);
	if (tab_col > 0)
	{
		pos.col = tab_col;
		return spec_error_at(b->err, &pos,
							 "tab character used for indentation; YAML indents with spaces only");
	}
	if (parser->context)
		return spec_error_at(b->err, &pos, "invalid YAML: %s (%s at line %d)",
							 parser->problem ? parser->problem : "syntax error",
							 parser->context, (int) parser->context_mark.line + 1);
	return spec_error_at(b->err, &pos, "invalid YAML: %s",
						 parser->problem ? parser->problem : "syntax error");
}

/* ---- scalars and tags ---- */

static bool
all_chars_in(const char *s, const char *set)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (strchr(set, *s) == NULL)
			return false;
	return true;
}

static bool
is_one_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return true;
	return false;
}

/* [-+]? ( \.[0-9]+ | [0-9]+ (\.[0-9]*)? ) ([eE][-+]?[0-9]+)? */
static bool
is_core_float(const char *s)
{
	static const char *const special[] = {
		".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf",
		"-.INF", ".nan", ".NaN", ".NAN", NULL
	};
	size_t		digits = 0;

	if (is_one_of(s, special))
		return true;
	if (*s == '-' || *s == '+')
		s++;
	for (; *s >= '0' && *s <= '9'; s++)
		digits++;
	if (*s == '.')
	{
		for (s++; *s >= '0' && *s <= '9'; s++)
			digits++;
	}
	if (digits == 0)
		return false;
	if (*s == 'e' || *s == 'E')
	{
		s++;
		if (*s == '-' || *s == '+')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

/* The YAML 1.2 core schema's reading of an untagged plain scalar. */
static YScalarType
resolve_plain(const char *s)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const bools[] = {
		"true", "True", "TRUE", "false", "False", "FALSE", NULL
	};
	const char *digits = s;

	if (is_one_of(s, nulls))
		return YS_NULL;
	if (is_one_of(s, bools))
		return YS_BOOL;
	if (strncmp(s, "0o", 2) == 0 && all_chars_in(s + 2, "01234567"))
		return YS_INT;
	if (strncmp(s, "0x", 2) == 0 && all_chars_in(s + 2, "0123456789abcdefABCDEF"))
		return YS_INT;
	if (*digits == '-' || *digits == '+')
		digits++;
	if (all_chars_in(digits, "0123456789"))
		return YS_INT;
	if (is_core_float(s))
		return YS_FLOAT;
	return YS_STRING;
}

/* "!!str" for a standard tag, the tag itself otherwise. */
static const char *
short_tag(const char *tag, char *buf, size_t size)
{
	size_t		plen = strlen(YAML_STD_TAG_PREFIX);

	if (strncmp(tag, YAML_STD_TAG_PREFIX, plen) == 0)
	{
		snprintf(buf, size, "!!%s", tag + plen);
		return buf;
	}
	return tag;
}

static bool
unsupported_tag(const Builder *b, const SrcPos *pos, const char *tag)
{
	char		buf[128];

	return spec_error_at(b->err, pos,
						 "unsupported tag \"%s\"; only the standard YAML tags are allowed",
						 short_tag(tag, buf, sizeof buf));
}

/*
 * A standard tag's name ("str", "map"), or NULL for any other tag.
 * The non-specific tag "!" counts as "str".
 */
static const char *
std_tag_name(const char *tag)
{
	size_t		plen = strlen(YAML_STD_TAG_PREFIX);

	if (strcmp(tag, "!") == 0)
		return "str";
	if (strncmp(tag, YAML_STD_TAG_PREFIX, plen) == 0)
		return tag + plen;
	return NULL;
}

static bool
scalar_type(const Builder *b, const yaml_event_t *ev, const SrcPos *pos,
			const char *text, YScalarType *type)
{
	static const struct
	{
		const char *name;
		YScalarType type;
	}			typed[] = {
		{"int", YS_INT}, {"bool", YS_BOOL}, {"null", YS_NULL}, {"float", YS_FLOAT}
	};
	const char *tag = (const char *) ev->data.scalar.tag;
	const char *name;
	YScalarType plain = resolve_plain(text);

	if (tag == NULL)
	{
		*type = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? plain : YS_STRING;
		return true;
	}
	name = std_tag_name(tag);
	if (name == NULL)
		return unsupported_tag(b, pos, tag);
	if (strcmp(name, "str") == 0)
	{
		*type = YS_STRING;
		return true;
	}
	for (size_t i = 0; i < sizeof typed / sizeof typed[0]; i++)
	{
		if (strcmp(name, typed[i].name) != 0)
			continue;
		/* an integer is a valid !!float */
		if (plain == typed[i].type || (typed[i].type == YS_FLOAT && plain == YS_INT))
		{
			*type = typed[i].type;
			return true;
		}
		return spec_error_at(b->err, pos, "value \"%s\" does not match its tag \"!!%s\"",
							 text, name);
	}
	return unsupported_tag(b, pos, tag);
}

static bool
check_collection_tag(const Builder *b, const SrcPos *pos, const yaml_char_t *tag,
					 const char *expected)
{
	const char *name;

	if (tag == NULL)
		return true;
	name = std_tag_name((const char *) tag);
	if (name != NULL && strcmp(name, expected) == 0)
		return true;
	return unsupported_tag(b, pos, (const char *) tag);
}

static bool
refuse_anchor(const Builder *b, const SrcPos *pos, const yaml_char_t *anchor)
{
	if (anchor == NULL)
		return true;
	return spec_error_at(b->err, pos,
						 "YAML anchors and aliases are not allowed (found anchor \"&%s\")",
						 (const char *) anchor);
}

/* ---- the tree ---- */

static void
ynode_clear(YNode *node, size_t count)
{
	free(node->text);
	for (size_t i = 0; i < count; i++)
	{
		YNode	   *child = &node->items[i];

		ynode_clear(child, child->kind == Y_MAP ? 2 * child->n : child->n);
	}
	free(node->items);
}

void
ytree_free(YNode *root)
{
	if (root == NULL)
		return;
	ynode_clear(root, root->kind == Y_MAP ? 2 * root->n : root->n);
	free(root);
}

typedef struct IndexedName
{
	const char *name;
	size_t		index;
} IndexedName;

static int
compare_indexed_names(const void *a, const void *b)
{
	const IndexedName *na = a;
	const IndexedName *nb = b;
	int			c = strcmp(na->name, nb->name);

	if (c != 0)
		return c;
	return na->index < nb->index ? -1 : na->index > nb->index;
}

bool
spec_find_repeat(const char *const *names, size_t n, size_t *repeat, size_t *first)
{
	IndexedName *sorted;
	bool		found = false;

	if (n < 2)
		return false;
	sorted = xmalloc(n * sizeof(IndexedName));
	for (size_t i = 0; i < n; i++)
	{
		sorted[i].name = names[i];
		sorted[i].index = i;
	}
	qsort(sorted, n, sizeof(IndexedName), compare_indexed_names);
	for (size_t i = 0; i + 1 < n; i++)
	{
		/* sorted[i + 1] is a first repetition when sorted[i] starts its group */
		if (strcmp(sorted[i].name, sorted[i + 1].name) != 0 ||
			(i > 0 && strcmp(sorted[i - 1].name, sorted[i].name) == 0))
			continue;
		if (!found || sorted[i + 1].index < *repeat)
		{
			*repeat = sorted[i + 1].index;
			*first = sorted[i].index;
			found = true;
		}
	}
	free(sorted);
	return found;
}

/* Refuses a mapping that has one key twice. */
static bool
check_duplicate_keys(const Builder *b, const YNode *map)
{
	const char **keys;
	size_t		repeat,
				first;
	bool		found;

	if (map->n < 2)
		return true;
	keys = xmalloc(map->n * sizeof(char *));
	for (size_t i = 0; i < map->n; i++)
		keys[i] = YMAP_KEY(map, i)->text;
	found = spec_find_repeat(keys, map->n, &repeat, &first);
	free(keys);
	if (!found)
		return true;
	return spec_error_at(b->err, &YMAP_KEY(map, repeat)->pos,
						 "duplicate key \"%s\" (first at line %d)",
						 YMAP_KEY(map, repeat)->text, YMAP_KEY(map, first)->pos.line);
}

/* Hands a finished node (moved, not copied) to its parent, or makes it the root. */
static bool
attach(Builder *b, YNode *node)
{
	Frame	   *parent;

	if (b->depth == 0)
	{
		b->root = *node;
		b->have_root = true;
		return true;
	}
	parent = &b->stack[b->depth - 1];
	if (parent->node.kind == Y_MAP && parent->count % 2 == 0 && node->kind != Y_SCALAR)
	{
		SrcPos		pos = node->pos;

		ynode_clear(node, node->kind == Y_MAP ? 2 * node->n : node->n);
		return spec_error_at(b->err, &pos, "a mapping key must be a plain value, not a %s",
							 node->kind == Y_MAP ? "mapping" : "list");
	}
	if (parent->count == parent->node.cap)
	{
		parent->node.cap = parent->node.cap ? 2 * parent->node.cap : 8;
		parent->node.items = xrealloc(parent->node.items,
									  parent->node.cap * sizeof(YNode));
	}
	parent->node.items[parent->count++] = *node;
	return true;
}

static bool
on_scalar(Builder *b, const yaml_event_t *ev)
{
	YNode		node;
	const char *value = (const char *) ev->data.scalar.value;
	size_t		length = ev->data.scalar.length;

	memset(&node, 0, sizeof node);
	node.kind = Y_SCALAR;
	node.pos = pos_of_mark(b, &ev->start_mark);
	if (!refuse_anchor(b, &node.pos, ev->data.scalar.anchor))
		return false;
	if (memchr(value, '\0', length) != NULL)
		return spec_error_at(b->err, &node.pos, "NUL character in a string is not allowed");
	if (!scalar_type(b, ev, &node.pos, value, &node.type))
		return false;
	node.text = xstrndup(value, length);
	node.text_pos = node.pos;
	switch (ev->data.scalar.style)
	{
		case YAML_SINGLE_QUOTED_SCALAR_STYLE:
		case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
			/* the value starts after its quote, on the quote's line */
			node.style = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ? '\'' : '"';
			node.text_pos.col++;
			break;
		case YAML_LITERAL_SCALAR_STYLE:
			node.style = '|';
			break;
		case YAML_FOLDED_SCALAR_STYLE:
			node.style = '>';
			break;
		default:
			break;
	}
	return attach(b, &node);
}

static bool
on_collection_start(Builder *b, const yaml_event_t *ev, YKind kind)
{
	Frame	   *frame;
	SrcPos		pos = pos_of_mark(b, &ev->start_mark);
	bool		is_map = kind == Y_MAP;

	if (!refuse_anchor(b, &pos, is_map ? ev->data.mapping_start.anchor
					   : ev->data.sequence_start.anchor))
		return false;
	if (!check_collection_tag(b, &pos, is_map ? ev->data.mapping_start.tag
							  : ev->data.sequence_start.tag, is_map ? "map" : "seq"))
		return false;
	if (b->depth == SPEC_MAX_DEPTH)
		return spec_error_at(b->err, &pos, "nesting deeper than %d levels", SPEC_MAX_DEPTH);
	frame = &b->stack[b->depth++];
	memset(frame, 0, sizeof *frame);
	frame->node.kind = kind;
	frame->node.pos = pos;
	return true;
}

static bool
on_collection_end(Builder *b)
{
	Frame	   *frame = &b->stack[--b->depth];
	YNode		node = frame->node;

	node.n = node.kind == Y_MAP ? frame->count / 2 : frame->count;
	if (node.kind == Y_MAP && !check_duplicate_keys(b, &node))
	{
		ynode_clear(&node, 2 * node.n);
		return false;
	}
	return attach(b, &node);
}

static bool
on_event(Builder *b, const yaml_event_t *ev)
{
	SrcPos		pos = pos_of_mark(b, &ev->start_mark);

	switch (ev->type)
	{
		case YAML_DOCUMENT_START_EVENT:
			if (b->documents++ > 0)
				return spec_error_at(b->err, &pos,
									 "more than one YAML document in the file (\"---\"); "
									 "put one migration per file");
			return true;
		case YAML_ALIAS_EVENT:
			return spec_error_at(b->err, &pos,
								 "YAML anchors and aliases are not allowed (found alias \"*%s\")",
								 (const char *) ev->data.alias.anchor);
		case YAML_SCALAR_EVENT:
			return on_scalar(b, ev);
		case YAML_SEQUENCE_START_EVENT:
			return on_collection_start(b, ev, Y_SEQ);
		case YAML_MAPPING_START_EVENT:
			return on_collection_start(b, ev, Y_MAP);
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			return on_collection_end(b);
		default:
			return true;
	}
}

static void
builder_discard(Builder *b)
{
	while (b->depth > 0)
	{
		Frame	   *frame = &b->stack[--b->depth];

		ynode_clear(&frame->node, frame->count);
	}
	if (b->have_root)
		ynode_clear(&b->root, b->root.kind == Y_MAP ? 2 * b->root.n : b->root.n);
	b->have_root = false;
}

bool
ytree_parse(const char *path, const char *data, size_t len, YNode **root, Error *err)
{
	Builder		b;
	yaml_parser_t parser;
	bool		ok = true;
	bool		done = false;

	*root = NULL;
	if (len > SPEC_MAX_FILE_BYTES)
		return error_set(err, EXIT_USAGE, "%s: file is larger than %d bytes",
						 path, SPEC_MAX_FILE_BYTES);
	memset(&b, 0, sizeof b);
	b.path = path;
	b.data = (const unsigned char *) data;
	b.len = len;
	b.err = err;
	if (!check_bytes(&b))
		return false;
	if (!yaml_parser_initialize(&parser))
		return error_set(err, EXIT_USAGE, "%s: cannot start the YAML parser", path);
	yaml_parser_set_input_string(&parser, b.data, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	while (ok && !done)
	{
		yaml_event_t ev;

		if (!yaml_parser_parse(&parser, &ev))
		{
			ok = syntax_error(&b, &parser);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		ok = on_event(&b, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (!ok)
	{
		builder_discard(&b);
		return false;
	}
	*root = xmalloc(sizeof(YNode));
	if (b.have_root)
		**root = b.root;
	else
	{
		/* no document at all: an empty file, or only comments */
		memset(*root, 0, sizeof(YNode));
		(*root)->kind = Y_SCALAR;
		(*root)->type = YS_NULL;
		(*root)->text = xstrdup("");
		(*root)->pos.file = path;
		(*root)->pos.line = 1;
		(*root)->pos.col = 1;
	}
	return true;
}
