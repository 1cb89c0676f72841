#!/usr/bin/env bash
# deps.sh [--fuzz] [--matrix]: makes sure the Debian packages that the
# build and the tests need are installed.  As root, installs what is
# missing; otherwise says what to install and exits 1.  Quiet and fast when
# nothing is missing.  --matrix: also npm (Debian's nodejs and npm), and
# through it the servers of the test matrix (scripts/pgversions.sh).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/pglib.sh
. "$here/pglib.sh"

fuzz=false
matrix=false
for arg in "$@"; do
	case "$arg" in
		--fuzz) fuzz=true ;;
		--matrix) matrix=true ;;
		-h|--help)
			echo "usage: scripts/deps.sh [--fuzz] [--matrix]"
			exit 0 ;;
		*)
			echo "deps.sh: unknown argument \"$arg\"" >&2
			exit 2 ;;
	esac
done

# Build: compiler and libraries.  Tests: Check, a server, pgbench, and
# python3 (the integration tests parse JSON output with it).  Docs tests:
# groff and man render the man page, script(1) gives a terminal.
packages=(gcc make pkg-config libpq-dev libyaml-dev libsqlite3-dev check
	libsubunit-dev libpg-query-dev libprotobuf-c-dev python3
	groff-base man-db bsdutils)
$fuzz && packages+=(clang)
# The matrix's servers come from the npm registry.
$matrix && ! command -v npm >/dev/null 2>&1 && packages+=(nodejs npm)

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps.sh: no dpkg here; make sure these (or your system's equivalents) are installed:" >&2
	echo "  ${packages[*]} postgresql postgresql-contrib" >&2
	$matrix && exec bash "$here/pgversions.sh" install
	exit 0
fi

installed()
{
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=()
for p in "${packages[@]}"; do
	installed "$p" || missing+=("$p")
done

# The server may come from postgresql-15 (or another version) without the
# "postgresql" meta-package, so look for its programs rather than a name.
# pgbench ships with the server on Debian 12 and with contrib elsewhere.
if bindir=$(pg_bindir); then
	[ -x "$bindir/pgbench" ] || command -v pgbench >/dev/null 2>&1 ||
		missing+=(postgresql-contrib)
else
	missing+=(postgresql postgresql-contrib)
fi

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing packages: ${missing[*]}; run: sudo apt-get install ${missing[*]}" >&2
		exit 1
	fi
	echo "deps.sh: installing ${missing[*]}"
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

if $matrix; then
	bash "$here/pgversions.sh" install
fi
