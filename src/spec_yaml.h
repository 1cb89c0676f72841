/*
 * spec_yaml.h: private to the spec module and the targets file of a fleet
 * (targets.c).  A migration file's YAML as a small tree of scalars, lists
 * and mappings, each node with its position.
 *
 * spec_yaml.c builds the tree with libyaml's event parser and refuses here
 * everything that is wrong at the YAML level (bad bytes, syntax, tabs,
 * anchors and aliases, unknown tags, depth, duplicate keys, several
 * documents), so that spec.c only has to judge the migration's meaning.
 */
#ifndef MIGRATE_SPEC_YAML_H
#define MIGRATE_SPEC_YAML_H

#include "spec.h"

typedef enum YKind
{
	Y_SCALAR,
	Y_SEQ,
	Y_MAP
} YKind;

/* What a scalar is, by the YAML 1.2 core schema (quoted ones are strings). */
typedef enum YScalarType
{
	YS_NULL,
	YS_BOOL,
	YS_INT,
	YS_FLOAT,
	YS_STRING
} YScalarType;

typedef struct YNode
{
	YKind		kind;
	SrcPos		pos;
	YScalarType type;			/* Y_SCALAR */
	char	   *text;			/* Y_SCALAR: the value, free of NUL bytes */
	char		style;			/* Y_SCALAR: 0 plain, '\'' or '"' quoted, '|' or '>' block */
	SrcPos		text_pos;		/* Y_SCALAR: where the value's first character is
								 * written (after a quote); a block scalar's: pos */
	struct YNode *items;		/* Y_SEQ: n items; Y_MAP: n (key, value) pairs */
	size_t		n;
	size_t		cap;
} YNode;

/* A mapping's i-th key and value. */
#define YMAP_KEY(map, i)	(&(map)->items[2 * (i)])
#define YMAP_VALUE(map, i)	(&(map)->items[2 * (i) + 1])

/*
 * Parses data (len bytes) into *root.  path is used for messages: node
 * positions point at it, so it must outlive the tree.  An empty document
 * gives a YS_NULL scalar at 1:1.  On failure *root is NULL and err says
 * "path:line:col: what is wrong".
 */
bool		ytree_parse(const char *path, const char *data, size_t len,
						YNode **root, Error *err);
void		ytree_free(YNode *root);

/*
 * Finds a name that repeats an earlier one: *repeat is the index of the
 * earliest such repetition, *first that of the name it repeats.  Sorting
 * keeps this O(n log n), whatever a hostile file holds.
 */
bool		spec_find_repeat(const char *const *names, size_t n, size_t *repeat,
							 size_t *first);

/* Sets err to "file:line:col: message" with EXIT_USAGE; returns false. */
bool		spec_error_at(Error *err, const SrcPos *pos, const char *fmt, ...) PRINTF_LIKE(3, 4);

#endif
