#!/usr/bin/env bash
# Fleets: the example shop over 20 databases with --targets (canary 1,
# parallel 4, halt), one of them made to fail a migration: which targets
# completed, failed, stopped and never started, checked against each
# database's own history; the JSON stream; the exit code; the fix and the
# rerun to completion; status and plan --targets; the targets file's
# checks; an unreachable target.
. "$(dirname "$0")/lib.sh"

N=20
BAD=06
# the example shop: M migrations, the newest LAST (its file name without .yaml)
M=$(find migrations -name '*.yaml' | wc -l)
LAST=$(basename "$(find migrations -name '*.yaml' | sort | tail -1)" .yaml)
prefix=it_fleet_$$_$RANDOM
targets=$TMP/targets.yaml
{
	echo "canary: 1"
	echo "parallel: 4"
	echo "on_failure: halt"
	echo "targets:"
	for i in $(seq -w 1 $N); do
		createdb "${prefix}_$i"
		echo "  - name: shard$i"
		echo "    database: \"host=$PGHOST port=$PGPORT dbname=${prefix}_$i user=postgres\""
	done
} >"$targets"
url_of() { echo "host=$PGHOST port=$PGPORT dbname=${prefix}_$1 user=postgres"; }
fleet() { "$MIGRATE" --state "$TMP/state.db" --dir migrations "$@"; }
# events EXPR [FILE]: events over a file (default: the last command's
# stdout), for streams too long for an argument.
events()
{
	python3 -c '
import json, sys
d = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
exec(compile(sys.argv[1].rsplit("\n", 1)[0] if "\n" in sys.argv[1].strip() else "", "e", "exec"))
r = eval(sys.argv[1].strip().rsplit("\n", 1)[-1])
print(json.dumps(r) if isinstance(r, (dict, list, bool)) or r is None else r)
' "$1" "${2:-$TMP/stdout}" || fail "not valid JSON lines, or [$1] failed on them"
}
# doc EXPR: json over the last command's stdout, read from its file.
doc()
{
	python3 -c '
import json, sys
d = json.load(open(sys.argv[2]))
r = eval(sys.argv[1])
print(json.dumps(r) if isinstance(r, (dict, list, bool)) or r is None else r)
' "$1" "$TMP/stdout" || fail "not valid JSON, or [$1] failed on it"
}

# shard06 has a product that 0004's CHECK (price_cents > 0) refuses: its
# apply fails half way through the set, at 0004's validation.
expect_exit 0 "$MIGRATE" -d "$(url_of $BAD)" --state "$TMP/state.db" --dir migrations apply --to 1
sql "INSERT INTO products (sku, name, price_cents) VALUES ('FREE-1', 'free sample', 0)" "$(url_of $BAD)" >/dev/null

# ---- the run: canary, then 4 at once, halted by the failure ----
start=$SECONDS
expect_exit 1 fleet apply --online --targets "$targets"
echo "first run: $((SECONDS - start)) s"
stream=$TMP/stream.jsonl
cp "$TMP/stdout" "$stream"
assert_eq true "$(events 'all("target" in e for e in d if e["event"] != "fleet_finished")')" \
	"an event without \"target\""
result_of() { events "[e['result'] for e in d if e['event'] == 'target_finished' and e['target'] == 'shard$1'] or ['not_started']" "$stream"; }
assert_eq '["failed"]' "$(result_of $BAD)" "shard$BAD failed"
assert_eq 1 "$(events "[e['exit'] for e in d if e['event'] == 'target_finished' and e['target'] == 'shard$BAD'][0]" "$stream")" \
	"shard$BAD's exit code"
assert_contains "$(events "[e['error'] for e in d if e.get('target') == 'shard$BAD' and e['event'] == 'target_finished'][0]" "$stream")" \
	products_price_cents_positive "the failure names the constraint"
assert_contains "$ERR" "[shard$BAD] migrate: " "stderr names the failed target"

# the canary ran alone: nothing started before it finished
assert_eq '["target_started", "target_finished"]' \
	"$(events '[e["event"] for e in d if e["event"].startswith("target_")][:2]' "$stream")" \
	"the canary did not run alone"
assert_eq shard01 "$(events '[e["target"] for e in d if e["event"] == "target_started"][0]' "$stream")" \
	"the canary is the first target"
# at most 4 at once
assert_eq true "$(events '
running = peak = 0
for e in d:
    if e["event"] == "target_started": running += 1; peak = max(peak, running)
    if e["event"] == "target_finished": running -= 1
peak <= 4 and peak >= 2' "$stream")" "more than 4 targets at once, or never more than 1"
# halt: nothing started after the failure
assert_eq true "$(events '
i = [k for k, e in enumerate(d) if e["event"] == "target_finished" and e["result"] == "failed"][0]
not any(e["event"] == "target_started" for e in d[i:])' "$stream")" "a target started after the failure"

# Each database's history agrees with what the stream says of it.
done_n=0 halted_n=0 never_n=0
for i in $(seq -w 1 $N); do
	r=$(result_of "$i")
	applied=none
	if [ "$(sql "SELECT to_regclass('public.schema_migrations') IS NOT NULL" "$(url_of "$i")")" = t ]; then
		applied=$(sql "SELECT count(*) FILTER (WHERE status = 'completed') || '/' ||
			count(*) FILTER (WHERE status <> 'completed') FROM public.schema_migrations" "$(url_of "$i")")
	fi
	case $r in
	'["done"]') assert_eq "$M/0" "$applied" "shard$i is done"; done_n=$((done_n + 1)) ;;
	'["halted"]')
		assert_match "$applied" "^[0-$((M - 1))]/0\$" "shard$i stopped between migrations"
		halted_n=$((halted_n + 1))
		;;
	'["failed"]') assert_eq 3/1 "$applied" "shard$i failed at its 4th migration" ;;
	'["not_started"]')
		[ "$i" = "$BAD" ] || assert_eq none "$applied" "shard$i was never started"
		never_n=$((never_n + 1))
		;;
	*) fail "shard$i: unexpected result $r" ;;
	esac
done
echo "done $done_n, halted $halted_n, not started $never_n, failed 1"
[ "$never_n" -gt 0 ] || fail "every target started: halt did not stop the fleet"
[ "$done_n" -ge 1 ] || fail "not even the canary finished"
summary=$(events '[e for e in d if e["event"] == "fleet_finished"][0]' "$stream")
assert_eq "[\"shard$BAD\"]" "$(json 'd["failed"]' "$summary")" "the summary's failed targets"
assert_eq "$never_n" "$(json 'len(d["not_started"])' "$summary")" "the summary's targets never started"
assert_eq "$done_n" "$(json 'len(d["done"])' "$summary")" "the summary's done targets"
assert_eq 1 "$(json 'd["exit"]' "$summary")" "the summary's exit code"

# ---- plan --targets: one plan per state of the fleet ----
expect_exit 0 fleet --format json plan --online --targets "$targets"
assert_eq true "$(doc 'sorted(t for g in d["groups"] for t in g["targets"]) == ["shard%02d" % i for i in range(1, 21)]')" \
	"every target is in exactly one group"
assert_eq true "$(doc 'len(set(g["pending"] and tuple(g["pending"]) or () for g in d["groups"])) == len(d["groups"])')" \
	"two groups of the same state"
assert_eq '[]' "$(doc '[g["plan"]["migrations"] for g in d["groups"] if g["pending"] == []][0]')" \
	"the targets that are done have nothing to run"
assert_eq "$(seq -s ', ' 4 "$M" | sed 's/^/[/; s/$/]/')" "$(doc "[g['pending'] for g in d['groups'] if 'shard$BAD' in g['targets']][0]")" \
	"shard$BAD's group resumes at 0004"
expect_exit 0 fleet plan --targets "$targets"
assert_contains "$OUT" "== $done_n targets at ${LAST%%_*}: " "the text plan names the done group"

# ---- the fix, and a rerun that finishes everything ----
sql "UPDATE products SET price_cents = 1 WHERE price_cents = 0" "$(url_of $BAD)" >/dev/null
start=$SECONDS
expect_exit 0 fleet apply --online --targets "$targets"
echo "rerun: $((SECONDS - start)) s"
assert_eq "[]" "$(events '[e["target"] for e in d if e["event"] == "target_finished" and e["result"] != "done"]')" \
	"a target did not finish on the rerun"
assert_eq 0 "$(events '[e for e in d if e["event"] == "fleet_finished"][0]["exit"]')" "rerun exit"
# the done ones had nothing to do
assert_eq '[]' "$(events '[e["target"] for e in d if e["event"] == "migration_started" and e["target"] == "shard01"]')" \
	"the rerun ran a migration again on a done target"
for i in $(seq -w 1 $N); do
	assert_eq "$M" "$(sql "SELECT count(*) FROM public.schema_migrations WHERE status = 'completed'" "$(url_of "$i")")" \
		"shard$i after the rerun"
done

# ---- status --targets: all 20 ----
expect_exit 0 fleet --format json status --targets "$targets"
assert_eq 20 "$(doc 'len(d["targets"])')" "status rows"
assert_eq '["up_to_date"]' "$(doc 'sorted(set(t["state"] for t in d["targets"]))')" "status states"
assert_eq "[$M]" "$(doc 'sorted(set(t["version"] for t in d["targets"]))')" "status versions"
expect_exit 0 fleet status --targets "$targets"
assert_eq 21 "$(printf '%s\n' "$OUT" | wc -l)" "a header and a row per target"
assert_match "$OUT" "shard$BAD +$LAST +0 +up to date" "shard$BAD's row"

# drift and a failed migration show in status --targets
sql "UPDATE public.schema_migrations SET checksum = 'sha256:x' WHERE version = 2" "$(url_of 03)" >/dev/null
expect_exit 0 fleet --format json status --targets "$targets"
assert_eq true "$(doc '[t["drifted"] for t in d["targets"] if t["target"] == "shard03"][0]')" "drift"
sql "UPDATE public.schema_migrations SET checksum = (SELECT checksum FROM public.schema_migrations WHERE version = 3)
	WHERE version = 2" "$(url_of 03)" >/dev/null

# ---- the targets file is checked like a migration file ----
bad=$TMP/bad.yaml
check_bad()
{
	local want=$1

	expect_exit 2 fleet apply --targets "$bad"
	assert_match "$ERR" "^migrate: $bad:$want" "targets file error at $want"
}
printf 'targets:\n  - name: a\n    database: "host=h dbname=d password=sekrit"\n' >"$bad"
check_bad '3:15: targets\[1\]: "database": holds a password'
assert_not_contains "$ERR" sekrit "the password was printed"
printf 'targets:\n  - name: a\n    database: "postgresql://u:sekrit@h/d"\n' >"$bad"
check_bad '3:15: .*password'
printf 'targets:\n  - name: a\n    database: d1\n  - name: a\n    database: d2\n' >"$bad"
check_bad '4:5: targets\[2\]: name "a" appears twice'
printf 'canary: 1\nparalel: 2\ntargets:\n  - {name: a, database: d}\n' >"$bad"
check_bad '2:1: unknown field "paralel" \(did you mean "parallel"\?\)'
printf 'on_failure: stop\ntargets:\n  - {name: a, database: d}\n' >"$bad"
check_bad '1:13: "on_failure": expected halt or continue'
printf 'parallel: 0\ntargets:\n  - {name: a, database: d}\n' >"$bad"
check_bad '1:11: "parallel": must be an integer from 1'
printf 'canary: 3\ntargets:\n  - {name: a, database: d}\n' >"$bad"
check_bad '1:9: "canary": must be an integer from 0 to 1'
printf 'targets: []\n' >"$bad"
check_bad '1:10: "targets": expected a non-empty list'
printf 'targets:\n  - {name: a}\n' >"$bad"
check_bad '2:5: targets\[1\]: missing required field "database"'
expect_exit 2 fleet apply --targets "$TMP/none.yaml"
expect_exit 2 fleet -d "$(url_of 01)" apply --targets "$targets"
expect_exit 2 fleet apply --dry-run --targets "$targets"
expect_exit 2 fleet finalize --targets "$targets"

# ---- an unreachable target is a failure of that target only ----
createdb "${prefix}_x"
cat >"$bad" <<EOF
canary: 0
on_failure: continue
targets:
  - name: gone
    database: "host=127.0.0.1 port=1 dbname=nowhere user=postgres"
  - name: fine
    database: "$(url_of x)"
EOF
expect_exit 6 fleet apply --to 2 --targets "$bad"
assert_eq '["failed"]' "$(events '[e["result"] for e in d if e["event"] == "target_finished" and e["target"] == "gone"]')" "gone"
assert_eq '["done"]' "$(events '[e["result"] for e in d if e["event"] == "target_finished" and e["target"] == "fine"]')" "fine"
assert_eq 2 "$(sql "SELECT count(*) FROM public.schema_migrations" "$(url_of x)")" "the reachable target was migrated"
expect_exit 6 fleet --format json status --targets "$bad"
assert_eq unreachable "$(doc '[t["state"] for t in d["targets"] if t["target"] == "gone"][0]')" "status of gone"
assert_contains "$(doc '[t["error"] for t in d["targets"] if t["target"] == "gone"][0]')" "port=1" "where it tried"
# the same unreachable target as the canary stops the fleet before the rest
sed -i 's/^canary: 0/canary: 1/' "$bad"
expect_exit 6 fleet rollback --targets "$bad"
assert_eq '["not_started"]' "$(events '[e["not_started"] == ["fine"] and "not_started" for e in d if e["event"] == "fleet_finished"]')" \
	"a failed canary let the rest run"
assert_eq 2 "$(sql "SELECT count(*) FILTER (WHERE status = 'completed') FROM public.schema_migrations" "$(url_of x)")" \
	"the rollback ran after a failed canary"


# ---- SIGTERM to the fleet: every target stops cleanly; a rerun finishes ----
kt=$TMP/kill.yaml
{
	echo "canary: 0"
	echo "parallel: 3"
	echo "targets:"
	for i in 1 2 3; do
		createdb "${prefix}_k$i"
		DB_URL=$(url_of "k$i")
		expect_exit 0 "$MIGRATE" -d "$DB_URL" --state "$TMP/state.db" --dir migrations apply --to 1
		load_shop_data 5000
		echo "  - {name: k$i, database: \"$DB_URL\"}"
	done
} >"$kt"
# (not through the function: $! must be migrate itself)
"$MIGRATE" --state "$TMP/state.db" --dir migrations apply --online --batch-size 500 \
	--batch-delay 20ms --targets "$kt" >"$TMP/kill.out" 2>"$TMP/kill.err" &
fleet_pid=$!
wait_until 30 grep -q '"event":"progress"' "$TMP/kill.out" || fail "no backfill progress to interrupt"
kill -TERM "$fleet_pid"
rc=0
wait "$fleet_pid" || rc=$?
assert_eq 143 "$rc" "the fleet's exit after SIGTERM"
sleep 0.5
assert_eq "" "$(pgrep -f -- "--state $TMP/state.db" || true)" "a worker outlived the fleet"
assert_eq '[143, 143, 143]' "$(events '[e["exit"] for e in d if e["event"] == "target_finished"]' "$TMP/kill.out")" \
	"every target stopped cleanly (exit 143 each)"
expect_exit 0 fleet apply --online --targets "$kt"
for i in 1 2 3; do
	assert_eq "$M" "$(sql "SELECT count(*) FROM public.schema_migrations WHERE status = 'completed'" "$(url_of "k$i")")" \
		"k$i after the rerun"
	assert_eq 0 "$(sql "SELECT count(*) FROM orders WHERE total_cents IS DISTINCT FROM
		(SELECT coalesce(sum(i.quantity * i.unit_price_cents), 0) FROM order_items i WHERE i.order_id = orders.id)" \
		"$(url_of "k$i")")" "k$i: every order's total after the interrupted backfill"
done

# ---- on a terminal: a line per running target, a line as each ends, a summary ----
script -qec "$MIGRATE --state '$TMP/state.db' --dir migrations rollback --steps 2 --targets '$kt'" \
	/dev/null >"$TMP/tty.out" </dev/null || fail "rollback on a terminal failed: $(tail -5 "$TMP/tty.out")"
tty_text=$(tr '\r' '\n' <"$TMP/tty.out")
for i in 1 2 3; do
	assert_match "$tty_text" "k$i +done: 2 migrations in" "k$i's line when it ended"
done
assert_contains "$tty_text" "rollback: 3 done, 0 failed, 0 halted, 0 not started" "the summary"
assert_contains "$tty_text" $'\033[K' "no line per running target was drawn"
assert_not_contains "$tty_text" '{"event"' "JSON on a terminal"
for i in 1 2 3; do
	assert_eq $((M - 2)) "$(sql "SELECT count(*) FROM public.schema_migrations WHERE status = 'completed'" "$(url_of "k$i")")" \
		"k$i after the rollback of 2"
done
