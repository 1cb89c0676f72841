#!/usr/bin/env bash
# A long transaction holds a table that apply --online must lock: the
# application's queries on that table keep answering (migrate waits at most
# lock_timeout in the lock queue, then steps out and retries), and the
# migration completes once the holder commits.  When the retries run out,
# exit 4 names the blocking session: pid, query and age.
# it-alone: it measures latency or timing; run after the others, one at a time
. "$(dirname "$0")/lib.sh"
new_db

write_migration 0001_accounts.yaml <<'YAML'
operations:
  - create_table:
      name: accounts
      columns:
        - { name: id, type: integer, primary_key: true }
        - { name: balance, type: integer, nullable: false }
YAML
write_migration 0002_frozen.yaml <<'YAML'
operations:
  - add_column:
      table: accounts
      column: { name: frozen, type: boolean, nullable: false, default: "false" }
YAML
expect_exit 0 mg --dir "$MIGDIR" apply --to 1
sql "INSERT INTO accounts SELECT i, 100 FROM generate_series(1, 1000) AS i"
cat >"$TMP/app.sql" <<'EOF_SQL'
\set id random(1, 1000)
SELECT balance FROM accounts WHERE id = :id;
UPDATE accounts SET balance = balance + 1 WHERE id = :id;
EOF_SQL

lock_timeout_ms=500

# hold SECONDS: a transaction that read accounts and stays open (it holds
# ACCESS SHARE, which only the migration's ACCESS EXCLUSIVE conflicts with).
hold()
{
	PGAPPNAME=it_holder psql -XAtq -d "$DB_URL" \
		-c "BEGIN; SELECT count(*) FROM accounts; SELECT pg_sleep($1); COMMIT" >/dev/null 2>&1 &
	HOLDER_PID=$!
	wait_until 10 holder_active || fail "the holder did not start"
}
holder_active()
{
	[ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'it_holder'
		AND state = 'active' AND query LIKE '%pg_sleep%'")" = 1 ]
}

# The holder for 8 s; the application on two clients for 12 s.
hold 8
pgbench -n -c 2 -T 12 -l --log-prefix="$TMP/txlog" -f "$TMP/app.sql" "$DB_NAME" \
	>"$TMP/app.out" 2>&1 &
app_pid=$!
start=$SECONDS
expect_exit 0 mg --dir "$MIGDIR" apply --online --format json --lock-timeout "${lock_timeout_ms}ms" \
	--lock-retries 30
elapsed=$((SECONDS - start))
wait "$HOLDER_PID"
wait "$app_pid" || { cat "$TMP/app.out" >&2; fail "the application failed"; }

[ "$elapsed" -ge 6 ] || fail "the migration finished after $elapsed s, before the holder committed"
assert_eq true "$(json_lines 'any(e["event"] == "step_retried" for e in d)')" "retries while held"
assert_eq t "$(sql "SELECT EXISTS (SELECT FROM information_schema.columns
	WHERE table_name = 'accounts' AND column_name = 'frozen')")" "the column after the holder"
figures=$(bash scripts/latency.sh "$TMP"/txlog.*)
echo "application while the table was held: $figures"
read -r _ transactions _ failed _ _ _ max_ms <<<"$figures"
[ "$transactions" -gt 100 ] || fail "the application hardly ran: $figures"
assert_eq 0 "$failed" "failed application transactions: $(grep -v '^ ' "$TMP/app.out" | head)"
# lock_timeout, plus a margin for a busy machine.
awk -v max="$max_ms" -v limit=$((lock_timeout_ms + 1000)) 'BEGIN { exit !(max < limit) }' ||
	fail "an application query waited $max_ms ms behind the migration's lock request"

# Retries that run out: exit 4, naming who blocks.
expect_exit 0 mg --dir "$MIGDIR" rollback --to 1
hold 60
expect_exit 4 mg --dir "$MIGDIR" apply --online --lock-timeout 100ms --lock-retries 2
holder=$(sql "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'it_holder'")
assert_contains "$ERR" "gave up after 2 attempts" "the message says retries ran out"
assert_contains "$ERR" "\"pid\":$holder" "the message names the blocking pid"
assert_contains "$ERR" "pg_sleep(60)" "the message gives the blocking query"
assert_match "$ERR" '"xact_age_s":[0-9]+' "the message gives the blocker's age"
sql "SELECT pg_terminate_backend($holder)" >/dev/null
expect_exit 0 mg --dir "$MIGDIR" apply --online
