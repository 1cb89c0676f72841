/*
 * partition.c: partition bounds and names.  See partition.h.
 *
 * Dates are civil (proleptic Gregorian) dates with no time zone: a bound
 * '2026-01-01' means midnight of that day in the server's reading of the
 * column's type.
 */
#include "partition.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "quote.h"

#define NAME_MAX_BYTES 63		/* NAMEDATALEN - 1 */

/* ---- dates ---- */

static bool
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

bool
partition_parse_date(const char *text, CivilDate *out)
{
	int			y,
				m,
				d,
				n = 0;

	if (text == NULL || strlen(text) != 10 ||
		sscanf(text, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10)
		return false;
	for (int i = 0; i < 10; i++)
		if ((i == 4 || i == 7) ? text[i] != '-' : (text[i] < '0' || text[i] > '9'))
			return false;
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return false;
	out->year = y;
	out->month = m;
	out->day = d;
	return true;
}

void
partition_format_date(CivilDate d, char out[16])
{
	snprintf(out, 16, "%04d-%02d-%02d", d.year % 10000, d.month % 100, d.day % 100);
}

int
partition_date_compare(CivilDate a, CivilDate b)
{
	if (a.year != b.year)
		return a.year < b.year ? -1 : 1;
	if (a.month != b.month)
		return a.month < b.month ? -1 : 1;
	if (a.day != b.day)
		return a.day < b.day ? -1 : 1;
	return 0;
}

/* Days since 0001-01-01 (a Monday), for the day of the week. */
static long
day_number(CivilDate d)
{
	long		y = d.year - 1;
	long		n = y * 365 + y / 4 - y / 100 + y / 400;

	for (int m = 1; m < d.month; m++)
		n += days_in_month(d.year, m);
	return n + d.day - 1;
}

static CivilDate
add_days(CivilDate d, long days)
{
	while (days > 0)
	{
		int			left = days_in_month(d.year, d.month) - d.day;

		if (days <= left)
		{
			d.day += (int) days;
			break;
		}
		days -= left + 1;
		d.day = 1;
		if (++d.month > 12)
		{
			d.month = 1;
			d.year++;
		}
	}
	while (days < 0)
	{
		if (-days < d.day)
		{
			d.day += (int) days;
			break;
		}
		days += d.day;
		if (--d.month < 1)
		{
			d.month = 12;
			d.year--;
		}
		d.day = days_in_month(d.year, d.month);
	}
	return d;
}

/* ---- intervals ---- */

bool
partition_parse_interval(const char *text, PartitionInterval *out)
{
	static const struct
	{
		const char *words[4];
		PartitionInterval iv;
	}			table[] = {
		{{"1 day", "day", "daily", NULL}, INTERVAL_DAY},
		{{"1 week", "week", "weekly", NULL}, INTERVAL_WEEK},
		{{"1 month", "month", "monthly", NULL}, INTERVAL_MONTH},
		{{"1 year", "year", "yearly", NULL}, INTERVAL_YEAR},
	};

	if (text == NULL)
		return false;
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		for (int k = 0; table[i].words[k]; k++)
			if (strcasecmp(text, table[i].words[k]) == 0)
			{
				*out = table[i].iv;
				return true;
			}
	return false;
}

const char *
partition_interval_name(PartitionInterval iv)
{
	switch (iv)
	{
		case INTERVAL_DAY:
			return "1 day";
		case INTERVAL_WEEK:
			return "1 week";
		case INTERVAL_MONTH:
			return "1 month";
		case INTERVAL_YEAR:
			return "1 year";
		case INTERVAL_NONE:
			break;
	}
	return "none";
}

CivilDate
partition_period_start(PartitionInterval iv, CivilDate d)
{
	switch (iv)
	{
		case INTERVAL_WEEK:
			return add_days(d, -(day_number(d) % 7));
		case INTERVAL_MONTH:
			d.day = 1;
			return d;
		case INTERVAL_YEAR:
			d.month = 1;
			d.day = 1;
			return d;
		case INTERVAL_DAY:
		case INTERVAL_NONE:
			break;
	}
	return d;
}

CivilDate
partition_period_next(PartitionInterval iv, CivilDate d)
{
	d = partition_period_start(iv, d);
	switch (iv)
	{
		case INTERVAL_DAY:
			return add_days(d, 1);
		case INTERVAL_WEEK:
			return add_days(d, 7);
		case INTERVAL_MONTH:
			if (++d.month > 12)
			{
				d.month = 1;
				d.year++;
			}
			return d;
		case INTERVAL_YEAR:
			d.year++;
			return d;
		case INTERVAL_NONE:
			break;
	}
	return d;
}

/* ---- names ---- */

/* Cuts s to at most max bytes without splitting a UTF-8 character. */
static void
cut_utf8(char *s, size_t max)
{
	if (strlen(s) <= max)
		return;
	while (max > 0 && ((unsigned char) s[max] & 0xC0) == 0x80)
		max--;
	s[max] = '\0';
}

char *
partition_name(const char *table, const char *suffix)
{
	char	   *schema;
	char	   *rel;
	char	   *name;
	size_t		room = NAME_MAX_BYTES - strlen(suffix) - 1;

	split_qualified(table, &schema, &rel);
	cut_utf8(rel, room);
	name = schema ? xasprintf("%s.%s_%s", schema, rel, suffix)
		: xasprintf("%s_%s", rel, suffix);
	free(schema);
	free(rel);
	return name;
}

char *
partition_period_name(const char *table, PartitionInterval iv, CivilDate start)
{
	char		suffix[16];

	if (iv == INTERVAL_YEAR)
		snprintf(suffix, sizeof suffix, "%04d", start.year % 10000);
	else if (iv == INTERVAL_MONTH)
		snprintf(suffix, sizeof suffix, "%04d_%02d", start.year % 10000, start.month % 100);
	else
		snprintf(suffix, sizeof suffix, "%04d_%02d_%02d", start.year % 10000,
				 start.month % 100, start.day % 100);
	return partition_name(table, suffix);
}

/* ---- bounds ---- */

void
partition_bound_free(PartitionBound *b)
{
	strlist_free(&b->from);
	strlist_free(&b->to);
	strlist_free(&b->in);
}

void
partition_bound_copy(PartitionBound *dst, const PartitionBound *src)
{
	*dst = *src;
	memset(&dst->from, 0, sizeof dst->from);
	memset(&dst->to, 0, sizeof dst->to);
	memset(&dst->in, 0, sizeof dst->in);
	for (size_t i = 0; i < src->from.n; i++)
		strlist_add(&dst->from, src->from.items[i]);
	for (size_t i = 0; i < src->to.n; i++)
		strlist_add(&dst->to, src->to.items[i]);
	for (size_t i = 0; i < src->in.n; i++)
		strlist_add(&dst->in, src->in.items[i]);
}

void
generated_partitions_free(GeneratedPartitions *gp)
{
	for (size_t i = 0; i < gp->n; i++)
	{
		free(gp->items[i].name);
		partition_bound_free(&gp->items[i].bound);
	}
	free(gp->items);
	gp->items = NULL;
	gp->n = 0;
}

static GeneratedPartition *
push_partition(GeneratedPartitions *gp, char *name)
{
	GeneratedPartition *g;

	gp->items = xrealloc(gp->items, (gp->n + 1) * sizeof *gp->items);
	g = &gp->items[gp->n++];
	memset(g, 0, sizeof *g);
	g->name = name;
	return g;
}

bool
partition_generate_periods(const char *table, PartitionInterval iv,
						   const char *from, const char *to,
						   GeneratedPartitions *out, Error *err)
{
	CivilDate	start,
				end;
	size_t		count = 0;

	if (!partition_parse_date(from, &start))
		return error_set(err, EXIT_USAGE, "\"from\": \"%s\" is not a date (YYYY-MM-DD)",
						 from ? from : "");
	if (!partition_parse_date(to, &end))
		return error_set(err, EXIT_USAGE, "\"to\": \"%s\" is not a date (YYYY-MM-DD)",
						 to ? to : "");
	if (partition_date_compare(start, end) >= 0)
		return error_set(err, EXIT_USAGE, "\"to\" (%s) must be after \"from\" (%s)", to, from);
	start = partition_period_start(iv, start);
	for (CivilDate d = start; partition_date_compare(d, end) < 0;
		 d = partition_period_next(iv, d))
		if (++count > PARTITION_MAX_GENERATED)
			return error_set(err, EXIT_USAGE,
							 "from %s to %s every %s makes more than %d partitions",
							 from, to, partition_interval_name(iv), PARTITION_MAX_GENERATED);
	for (CivilDate d = start; partition_date_compare(d, end) < 0;
		 d = partition_period_next(iv, d))
	{
		GeneratedPartition *g = push_partition(out, partition_period_name(table, iv, d));
		char		text[16];

		partition_format_date(d, text);
		strlist_add(&g->bound.from, text);
		partition_format_date(partition_period_next(iv, d), text);
		strlist_add(&g->bound.to, text);
	}
	return true;
}

bool
partition_generate(const char *table, const Partitioning *p,
				   GeneratedPartitions *out, Error *err)
{
	out->items = NULL;
	out->n = 0;
	if (p->every != INTERVAL_NONE &&
		!partition_generate_periods(table, p->every, p->from, p->to, out, err))
		return false;
	if (p->modulus > PARTITION_MAX_GENERATED)
		return error_set(err, EXIT_USAGE, "a modulus of %lld makes more than %d partitions",
						 (long long) p->modulus, PARTITION_MAX_GENERATED);
	for (int64_t k = 0; k < p->modulus; k++)
	{
		char		suffix[32];
		GeneratedPartition *g;

		snprintf(suffix, sizeof suffix, "p%lld", (long long) k);
		g = push_partition(out, partition_name(table, suffix));
		g->bound.modulus = p->modulus;
		g->bound.remainder = k;
	}
	for (size_t i = 0; i < p->n_parts; i++)
	{
		GeneratedPartition *g = push_partition(out, xstrdup(p->parts[i].name));

		partition_bound_copy(&g->bound, &p->parts[i].bound);
	}
	if (p->with_default)
		push_partition(out, partition_name(table, "default"))->bound.is_default = true;
	return true;
}

/* ---- SQL ---- */

static bool
is_word(const char *value, const char *word)
{
	return strcasecmp(value, word) == 0;
}

/* One bound value: MINVALUE / MAXVALUE as keywords, anything else a literal. */
static void
append_value(Buf *b, const char *value)
{
	if (is_word(value, "minvalue") || is_word(value, "maxvalue"))
		for (const char *p = value; *p; p++)
			buf_putc(b, (char) (*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p));
	else
		sql_append(b, "%L", value);
}

static void
append_values(Buf *b, const StrList *values)
{
	buf_putc(b, '(');
	for (size_t i = 0; i < values->n; i++)
	{
		if (i > 0)
			buf_puts(b, ", ");
		append_value(b, values->items[i]);
	}
	buf_putc(b, ')');
}

void
partition_bound_sql(Buf *b, const PartitionBound *bound)
{
	if (bound->is_default)
		buf_puts(b, "DEFAULT");
	else if (bound->modulus > 0)
		buf_printf(b, "FOR VALUES WITH (MODULUS %lld, REMAINDER %lld)",
				   (long long) bound->modulus, (long long) bound->remainder);
	else if (bound->from.n > 0)
	{
		buf_puts(b, "FOR VALUES FROM ");
		append_values(b, &bound->from);
		buf_puts(b, " TO ");
		append_values(b, &bound->to);
	}
	else
	{
		buf_puts(b, "FOR VALUES IN (");
		for (size_t i = 0; i < bound->in.n; i++)
		{
			sql_append(b, "%s%L", i > 0 ? ", " : "", bound->in.items[i]);
		}
		if (bound->in_null)
			buf_puts(b, bound->in.n > 0 ? ", NULL" : "NULL");
		buf_putc(b, ')');
	}
}

const char *
partition_method_name(PartitionMethod m)
{
	switch (m)
	{
		case PARTITION_RANGE:
			return "range";
		case PARTITION_LIST:
			return "list";
		case PARTITION_HASH:
			return "hash";
		case PARTITION_NONE:
			break;
	}
	return "none";
}

void
partition_by_sql(Buf *b, PartitionMethod method, const StrList *columns)
{
	sql_append(b, "%s (%C)", method == PARTITION_RANGE ? "RANGE"
			   : method == PARTITION_LIST ? "LIST" : "HASH", columns);
}

char *
partition_check_sql(PartitionMethod method, const StrList *columns,
					const PartitionBound *bound)
{
	Buf			b;

	if (bound->is_default || columns->n != 1)
		return NULL;
	buf_init(&b);
	if (method == PARTITION_RANGE && bound->from.n == 1 && bound->to.n == 1)
	{
		const char *lo = bound->from.items[0];
		const char *hi = bound->to.items[0];

		sql_append(&b, "%I IS NOT NULL", columns->items[0]);
		if (!is_word(lo, "minvalue"))
		{
			sql_append(&b, " AND %I >= ", columns->items[0]);
			append_value(&b, lo);
		}
		if (!is_word(hi, "maxvalue"))
		{
			sql_append(&b, " AND %I < ", columns->items[0]);
			append_value(&b, hi);
		}
		return buf_detach(&b);
	}
	if (method == PARTITION_LIST && bound->in.n > 0)
	{
		sql_append(&b, bound->in_null ? "(%I IS NULL OR " : "%I IS NOT NULL AND ",
				   columns->items[0]);
		/* IN of literals: the server types them as the column, as its own constraint */
		sql_append(&b, "%I IN (", columns->items[0]);
		for (size_t i = 0; i < bound->in.n; i++)
			sql_append(&b, i > 0 ? ", %L" : "%L", bound->in.items[i]);
		buf_putc(&b, ')');
		if (bound->in_null)
			buf_putc(&b, ')');
		return buf_detach(&b);
	}
	buf_free(&b);
	return NULL;
}
