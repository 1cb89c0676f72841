/*
 * planner_sync.c: the bodies of the sync triggers, one rule for them all.
 *
 * While the old application runs (until finalize) a row-level BEFORE
 * trigger cannot know which code wrote a row, only what the write did to
 * it.  The rule (docs/design.md, "Sync triggers"):
 *   - INSERT: a column the writer gave (not NULL) is the writer's; a column
 *     left NULL (left out, and no default on the table meanwhile) is derived.
 *   - UPDATE: a column whose value changed (NEW.c IS DISTINCT FROM OLD.c) is
 *     the writer's; one that did not change follows its sources when they
 *     changed.
 * So old code, which does not know the column, always gets it derived from
 * the row's current values, and new code keeps what it wrote.
 */
#include "planner_int.h"

#include <stdlib.h>
#include <string.h>

#include "sqlparse.h"

/*
 * pg_get_expr of a constant: a literal or number, maybe negative or in
 * parentheses, maybe cast ('0'::text, -1, 'a'::character varying).
 */
#define CONSTANT_DEFAULT_RE "^\\(?(-?[0-9][0-9.eE+-]*|true|false|NULL|'([^']|'')*')\\)?" \
	"(::[a-zA-Z_][a-zA-Z0-9_ .\"]*(\\([0-9, ]*\\))?(\\[\\])?)?$"

char *
expr_over_row(const char *table, const char *row, const char *expr)
{
	char	   *schema;
	char	   *rel;
	char	   *sql;

	split_qualified(table, &schema, &rel);
	sql = sql_format("(SELECT %E FROM (SELECT %s.*) AS %I)", expr, row, rel);
	free(schema);
	free(rel);
	return sql;
}

char *
sync_derived_body(const char *table, const char *column, const char *type, const char *expr)
{
	char	   *from_new = expr_over_row(table, "NEW", expr);
	char	   *from_old = expr_over_row(table, "OLD", expr);
	StrList		sources = {0};
	char	   *body;

	if (sql_expression_columns(expr, &sources))
	{
		/* it reads these columns: recomputed when a write changes one of them */
		Buf			changed;

		buf_init(&changed);
		for (size_t i = 0; i < sources.n; i++)
			sql_append(&changed, "%sNEW.%I IS DISTINCT FROM OLD.%I", i > 0 ? " OR " : "",
					   sources.items[i], sources.items[i]);
		body = sql_format("    IF TG_OP = 'INSERT' THEN\n"
						  "        IF NEW.%I IS NULL THEN\n"
						  "            NEW.%I := %s;\n"
						  "        END IF;\n"
						  "    ELSIF NEW.%I IS NOT DISTINCT FROM OLD.%I AND (%s) THEN\n"
						  "        -- the writer left the column alone and changed what it is made of\n"
						  "        NEW.%I := %s;\n"
						  "    END IF;",
						  column, column, from_new, column, column, changed.data, column, from_new);
		buf_free(&changed);
	}
	else
		body = sql_format("    IF TG_OP = 'INSERT' THEN\n"
						  "        IF NEW.%I IS NULL THEN\n"
						  "            NEW.%I := %s;\n"
						  "        END IF;\n"
						  "    ELSIF NEW.%I IS NOT DISTINCT FROM OLD.%I THEN\n"
						  "        -- the writer left the column alone: it follows its sources\n"
						  "        DECLARE\n"
						  "            migrate_derived %s := %s;\n"
						  "        BEGIN\n"
						  "            IF migrate_derived IS DISTINCT FROM %s THEN\n"
						  "                NEW.%I := migrate_derived;\n"
						  "            END IF;\n"
						  "        END;\n"
						  "    END IF;",
						  column, column, from_new, column, column, type, from_new, from_old,
						  column);
	strlist_free(&sources);
	free(from_new);
	free(from_old);
	return body;
}

char *
sync_follow_body(const char *column, const char *via, const char *lookup)
{
	return sql_format("    IF TG_OP = 'INSERT' THEN\n"
					  "        IF NEW.%I IS NULL THEN\n"
					  "            NEW.%I := %s;\n"
					  "        END IF;\n"
					  "    ELSIF NEW.%I IS NOT DISTINCT FROM OLD.%I\n"
					  "          AND NEW.%I IS DISTINCT FROM OLD.%I THEN\n"
					  "        -- moved to another parent by a writer that left the column alone\n"
					  "        NEW.%I := %s;\n"
					  "    END IF;",
					  column, column, lookup, column, column, via, via, column, lookup);
}

void
sync_copy_written_parts(const char *from, const char *to, char **before_type, char **after_type)
{
	*before_type = sql_format("    IF TG_OP = 'INSERT' OR NEW.%I IS DISTINCT FROM OLD.%I THEN\n"
							  "        NEW.%I := NEW.%I::", from, from, to, from);
	*after_type = xstrdup(";\n    END IF;");
}

char *
sync_both_names_body(const char *old_name, const char *new_name)
{
	return sql_format("    IF TG_OP = 'INSERT' THEN\n"
					  "        IF NEW.%I IS NULL THEN\n"
					  "            NEW.%I := NEW.%I;\n"
					  "        ELSE\n"
					  "            NEW.%I := NEW.%I;\n"
					  "        END IF;\n"
					  "    ELSIF NEW.%I IS DISTINCT FROM OLD.%I THEN\n"
					  "        NEW.%I := NEW.%I;\n"
					  "    ELSIF NEW.%I IS DISTINCT FROM OLD.%I THEN\n"
					  "        NEW.%I := NEW.%I;\n"
					  "    END IF;",
					  new_name, new_name, old_name, old_name, new_name,
					  new_name, new_name, old_name, new_name,
					  old_name, old_name, new_name, old_name);
}

char *
sql_convert_default(const char *table, const char *column, const char *saved_default,
					const char *convert, const char *new_type, const char *alias)
{
	char	   *schema;
	char	   *rel;
	char	   *set = sql_format("ALTER TABLE %Q ALTER COLUMN %I SET DEFAULT ", table, column);
	char	   *cast = sql_format("::%s", new_type);
	char	   *body;
	char	   *stmt;

	split_qualified(table, &schema, &rel);
	body = sql_format("DECLARE saved text := %s; converted text; BEGIN "
					  "IF saved IS NULL THEN RETURN; END IF; "
					  "BEGIN EXECUTE %L || saved; RETURN; "
					  "EXCEPTION WHEN datatype_mismatch THEN NULL; END; "
					  "IF saved !~ %L THEN "
					  "RAISE EXCEPTION 'the default %% of column %% cannot be converted to %%', "
					  "saved, %L, %L USING HINT = %L; END IF; "
					  "EXECUTE format('SELECT (%%s)::text FROM (SELECT (%%s) AS %%I) AS %%I', "
					  "%L, saved, %L, %L) INTO converted; "
					  "EXECUTE %L || quote_nullable(converted) || %L; END",
					  saved_default, set, CONSTANT_DEFAULT_RE, column, new_type,
					  "give the alter_column a \"default\" of the new type",
					  convert, column, alias ? alias : rel, set, cast);
	stmt = do_block(body);
	free(body);
	free(cast);
	free(set);
	free(schema);
	free(rel);
	return stmt;
}
