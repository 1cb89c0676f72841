#!/usr/bin/env bash
# pgcluster.sh start DIR | stop DIR: a private, throwaway PostgreSQL cluster.
#
# start: initdb into DIR/data, then a server that listens only on a unix
#        socket in DIR (no TCP), with settings fit for tests; writes DIR/env
#        (PGHOST PGPORT PGUSER PGDATABASE exports) for callers to source.
#        Logs to DIR/log.  As root the server runs as the postgres user.
#        The server programs are those of scripts/pglib.sh's pg_bindir
#        (PG_BINDIR first, e.g. a version of scripts/pgversions.sh).
# stop:  stops the server and removes DIR; does nothing if DIR is gone.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/pglib.sh
. "$here/pglib.sh"

# Marks a folder as ours, so that stop never removes anything else.
MARKER=.pgcluster
# A unix socket path is at most 107 bytes; ".s.PGSQL.NNNNN.lock" takes 20.
MAX_DIR_LEN=86
START_ATTEMPTS=10

usage()
{
	echo "usage: scripts/pgcluster.sh start|stop DIR" >&2
	exit 2
}

die()
{
	echo "pgcluster.sh: $*" >&2
	exit 1
}

# Runs a server program as the user that owns the cluster.
as_owner()
{
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# A single-quoted postgresql.conf string.
conf_string()
{
	printf "'%s'" "${1//\'/\'\'}"
}

start()
{
	local dir=$1 bindir port attempt

	bindir=$(pg_bindir) || die "no PostgreSQL server programs found (run scripts/deps.sh)"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	[ ${#dir} -le $MAX_DIR_LEN ] ||
		die "$dir is too long for a unix socket path (at most $MAX_DIR_LEN characters)"
	[ -e "$dir/data" ] && die "$dir/data exists already"
	touch "$dir/$MARKER"
	# stop uses the same programs, whatever PG_BINDIR says then
	printf '%s\n' "$bindir" >"$dir/bindir"
	if [ "$(id -u)" -eq 0 ]; then
		id postgres >/dev/null 2>&1 || die "running as root needs a postgres user"
		chown -R postgres: "$dir"
		runuser -u postgres -- test -w "$dir" ||
			die "the postgres user cannot write to $dir (is a parent folder private?)"
	fi

	if ! as_owner "$bindir/initdb" -D "$dir/data" --auth=trust --username=postgres \
		--encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1; then
		cat "$dir/initdb.log" >&2
		die "initdb failed"
	fi
	# Small and fast: nothing here needs to survive a crash.  WAL senders
	# and wal_level=replica leave room for tests with a replica.
	cat >>"$dir/data/postgresql.conf" <<EOF

# pgcluster.sh: a throwaway cluster for tests
listen_addresses = ''
unix_socket_directories = $(conf_string "$dir")
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 128MB
max_connections = 100
wal_level = replica
max_wal_senders = 10
log_line_prefix = '%m [%p] %q%a '
EOF

	# Without TCP the port only names the socket file, but a random one
	# keeps clusters apart should TCP be enabled, e.g. for a replica.
	for attempt in $(seq 1 $START_ATTEMPTS); do
		port=$((20000 + RANDOM % 40001))
		if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
			-o "-p $port" start >/dev/null 2>&1; then
			cat >"$dir/env" <<EOF
export PGHOST=$(printf '%q' "$dir")
export PGPORT=$port
export PGUSER=postgres
export PGDATABASE=postgres
EOF
			echo "pgcluster.sh: started on $dir port $port (source $dir/env)"
			return 0
		fi
		echo "pgcluster.sh: start on port $port failed (attempt $attempt)" >&2
	done
	tail -n 20 "$dir/log" >&2 2>/dev/null || true
	die "could not start a server in $dir"
}

stop()
{
	local dir=$1 bindir

	[ -d "$dir" ] || return 0
	[ -e "$dir/$MARKER" ] || die "$dir was not made by pgcluster.sh; not touching it"
	if [ -f "$dir/data/postmaster.pid" ]; then
		bindir=$(cat "$dir/bindir" 2>/dev/null) || bindir=$(pg_bindir) ||
			die "no PostgreSQL server programs found"
		as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 ||
			echo "pgcluster.sh: pg_ctl stop failed; removing $dir anyway" >&2
	fi
	rm -rf "$dir"
}

[ $# -eq 2 ] || usage
case "$1" in
	start) start "$2" ;;
	stop) stop "$2" ;;
	*) usage ;;
esac
