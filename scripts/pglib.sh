# shellcheck shell=bash
# pglib.sh: where the PostgreSQL server programs are.  Sourced by deps.sh,
# pgcluster.sh, demo.sh and the integration tests; defines functions only.

# The first folder holding initdb among: $PG_BINDIR, `pg_config --bindir`,
# /usr/lib/postgresql/15/bin, then the newest /usr/lib/postgresql/*/bin.
# Debian puts the server programs outside PATH, and its libpq-dev
# pg_config may name a folder without them, hence the search.
pg_bindir()
{
	local dir
	local -a candidates=()

	[ -n "${PG_BINDIR:-}" ] && candidates+=("$PG_BINDIR")
	if command -v pg_config >/dev/null 2>&1; then
		dir=$(pg_config --bindir 2>/dev/null) && candidates+=("$dir")
	fi
	candidates+=(/usr/lib/postgresql/15/bin)
	while IFS= read -r dir; do
		candidates+=("$dir")
	done < <(printf "%s\n" /usr/lib/postgresql/*/bin | sort -t/ -k5 -rn)
	for dir in "${candidates[@]}"; do
		if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
			printf '%s\n' "$dir"
			return 0
		fi
	done
	return 1
}

# Puts that folder first in PATH, so that psql, createdb and pgbench are
# of the server's own version.
pg_use_bindir()
{
	local dir

	if dir=$(pg_bindir); then
		export PATH="$dir:$PATH"
	fi
}
