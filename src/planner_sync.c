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
	char	   *body;

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
