/*
 * util.h: memory, growable strings and lists, and the error value that
 * carries context up to the command that prints it.
 */
#ifndef MIGRATE_UTIL_H
#define MIGRATE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

/* Exit codes: migrate(1), EXIT STATUS. */
enum {
	EXIT_OK = 0,
	EXIT_STEP_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_UNSAFE = 3,
	EXIT_LOCK = 4,
	EXIT_DRIFT = 5,
	EXIT_UNREACHABLE = 6,		/* the database could not be reached */
	EXIT_SIGINT = 130,
	EXIT_SIGTERM = 143,
};

/* Allocation that cannot fail: out of memory aborts with a message. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);			/* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* A growable, always NUL-terminated byte string. */
typedef struct Buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} Buf;

void		buf_init(Buf *b);
void		buf_reset(Buf *b);		/* empty it, keep the memory */
void		buf_free(Buf *b);
void		buf_putc(Buf *b, char c);
void		buf_puts(Buf *b, const char *s);
void		buf_putn(Buf *b, const char *s, size_t n);
void		buf_printf(Buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
void		buf_vprintf(Buf *b, const char *fmt, va_list ap);
char	   *buf_detach(Buf *b);	/* caller owns the string; b is reset */
/*
 * A JSON string literal, quotes included; NULL gives null.  Control
 * characters as \\uXXXX; a byte of malformed UTF-8 as \\ufffd.
 */
void		buf_json_string(Buf *b, const char *s);

/*
 * Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF), or 0 when it is not one.
 */
size_t		utf8_seq_len(const unsigned char *s, size_t left);

/* A growable list of owned strings. */
typedef struct StrList
{
	char	  **items;
	size_t		n;
	size_t		cap;
} StrList;

void		strlist_push(StrList *l, char *owned);
void		strlist_add(StrList *l, const char *s);	/* copies s */
void		strlist_free(StrList *l);
bool		strlist_contains(const StrList *l, const char *s);
bool		strlist_equal(const StrList *a, const StrList *b);	/* same items, same order */

/*
 * The error value.  A function that can fail returns bool (true: success)
 * and fills *err; callers add context with error_prefix; the command
 * prints err->message once and exits with err->exit_code.
 */
typedef struct Error
{
	int			exit_code;		/* EXIT_* */
	char	   *message;		/* NULL when no error */
	char		sqlstate[6];	/* from the server, "" when none */
} Error;

/* Sets the error (replacing any earlier one); always returns false. */
bool		error_set(Error *err, int exit_code, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* Prepends "context: " to the message. */
void		error_prefix(Error *err, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Appends to the message (a hint on a line of its own, say). */
void		error_append(Error *err, const char *fmt, ...) PRINTF_LIKE(2, 3);
void		error_clear(Error *err);

/* Milliseconds on a monotonic clock, and sleeping. */
int64_t		now_ms(void);
void		sleep_ms(int64_t ms);

/* Reads a whole file (up to max_bytes); NULL with *err set on failure. */
char	   *read_file(const char *path, size_t max_bytes, size_t *len_out, Error *err);

/* Levenshtein distance, for "did you mean". */
int			edit_distance(const char *a, const char *b);

#endif
