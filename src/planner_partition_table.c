/*
 * planner_partition_table.c: partition_table, a live table made partitioned
 * online (migrate(1), OPERATIONS): a partitioned twin, kept in step by a trigger, filled in
 * batches, checked, swapped under a short lock, the old table kept in step
 * in reverse until finalize drops it.
 */
#include "planner_int.h"

#include <stdlib.h>
#include <string.h>

#include "partition.h"

bool
plan_partition_table(PlanCtx *pc)
{
	return error_set(pc->err, EXIT_USAGE, "%s:%d:%d: partition_table is not built yet",
					 pc->op->pos.file, pc->op->pos.line, pc->op->pos.col);
}
