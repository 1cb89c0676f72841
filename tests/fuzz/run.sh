#!/usr/bin/env bash
# Fuzzes the YAML loader (src/spec*.c) with libFuzzer for SECONDS (default 60).
#
#   tests/fuzz/run.sh [SECONDS]
#
# Builds into build-fuzz/, seeds a corpus from migrations/*.yaml and the spec
# unit test fixtures, and exits non-zero on any crash, leak, timeout or
# sanitizer report (libFuzzer leaves the input in build-fuzz/).
set -euo pipefail

seconds=${1:-60}
cd "$(dirname "$0")/../.."
out=build-fuzz

if ! command -v clang >/dev/null 2>&1; then
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
		apt-get install -y clang
	else
		echo "run.sh: clang is missing; install it (Debian/Ubuntu: apt-get install clang)" >&2
		exit 2
	fi
fi

mkdir -p "$out/corpus"
yaml_cflags=$(pkg-config --cflags yaml-0.1 2>/dev/null || true)
yaml_libs=$(pkg-config --libs yaml-0.1 2>/dev/null || echo -lyaml)

# shellcheck disable=SC2086
clang -std=c11 -g -O1 -D_DEFAULT_SOURCE -Wall -Wextra -Werror \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Iinclude $yaml_cflags \
	tests/fuzz/fuzz_spec.c src/spec*.c src/util.c src/sha256.c src/quote.c \
	$yaml_libs -o "$out/fuzz_spec"

# Seeds: real migrations and the good fixtures (either may be absent).
for f in migrations/*.yaml tests/unit/fixtures/spec/*.yaml; do
	[ -f "$f" ] && cp "$f" "$out/corpus/"
done

# The words of the format, so that mutations reach the typed layer quickly.
{
	for w in description settings operations unsafe_ok \
		lock_timeout lock_retries statement_timeout batch_size batch_time \
		batch_delay max_replica_lag auto \
		create_table drop_table rename_table add_column drop_column \
		rename_column alter_column backfill create_index drop_index \
		add_constraint drop_constraint enable_rls disable_rls create_policy \
		drop_policy multi_tenancy sql \
		name table columns column type nullable default primary_key unique \
		references check comment constraints foreign_key on_delete on_update \
		from to using set where down method include force command roles \
		with_check permissive tenant_table default_tenant id tables all \
		exclude tenant_from via index include_tenant rls setting admin_role \
		up transactional true false null 250ms 2s 5m 1h; do
		printf '"%s"\n' "$w"
	done
	for t in '- ' ': ' '{' '}' '[' ']' ', ' '"' "'" '&a' '*a' '!!str' '!!int' \
		'---' '...' '|' '>' '#' '\x09' '\x0a  '; do
		printf '"%s"\n' "$t"
	done
} >"$out/spec.dict"

"$out/fuzz_spec" -max_total_time="$seconds" -rss_limit_mb=2048 -detect_leaks=1 \
	-timeout=10 -dict="$out/spec.dict" -artifact_prefix="$out/" "$out/corpus"
