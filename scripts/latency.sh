#!/usr/bin/env bash
# latency.sh LOG...: sums up pgbench per-transaction logs (pgbench -l) in
# one line: "transactions N failed N p99_ms X max_ms Y".  The third field
# of a line is the transaction's latency in microseconds, or a word
# ("failed", "serialization", "deadlock") when it failed.
set -euo pipefail

cat -- "$@" | awk '
	$3 ~ /^[0-9]+$/ { print $3; next }
	NF >= 3 { print "failed" }
' | sort -n | awk '
	$1 == "failed" { failed++; next }
	{ lat[n++] = $1 }
	END {
		p99 = n > 0 ? lat[int((n - 1) * 0.99)] : 0
		max = n > 0 ? lat[n - 1] : 0
		printf "transactions %d failed %d p99_ms %.1f max_ms %.1f\n",
			n + failed, failed, p99 / 1000, max / 1000
	}'
