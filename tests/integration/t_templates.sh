#!/usr/bin/env bash
# Every template gives, through `migrate new`, a file that validates as it
# is (placeholders are valid names, quoted in SQL, so a user edits a working
# file), and
# that still validates, and plans, once its placeholders are filled in.
. "$(dirname "$0")/lib.sh"

# fill FILE: replaces the placeholders by what a user would write.  An
# expression's placeholder is a quoted name, so that the file parses as it is.
fill()
{
	sed -i -e "s/'\"<expression>\"'/upper(status)/g" -e 's/<table>/orders/g' -e 's/<column>/note/g' -e 's/<type>/text/g' \
		-e 's/<expression>/upper(status)/g' -e 's/<child_table>/order_items/g' \
		-e 's/<referenced_table>/customers/g' -e 's/<role>/app_user/g' \
		-e 's/<admin_role>/admin_role/g' -e 's/<comment>/what an order is/g' \
		-e 's/<what this does>/a filled-in template/g' "$1"
}

n=0
for tpl in templates/*.yaml; do
	name=$(basename "$tpl" .yaml)
	dir=$TMP/$name
	expect_exit 0 "$MIGRATE" --dir "$dir" new try_it --template "$name"
	file=$OUT
	cmp -s "$tpl" "$file" || fail "new --template $name did not copy the template"
	grep -q '^#' "$file" || fail "template $name has no comment to start from"
	# Unfilled, a template validates, or its only fault is a placeholder
	# in an SQL expression, and the message says so.
	capture "$MIGRATE" --dir "$dir" validate
	if [ "$RC" != 0 ]; then
		assert_eq 2 "$RC" "template $name, unfilled, fails validate with exit 2: $ERR"
		assert_contains "$ERR" "placeholder of the template" "template $name: validate names the placeholder"
	fi
	assert_contains "$(cat "$tpl")" "<table>" "template $name has a <table> placeholder"

	fill "$file"
	left=$(grep -v '^ *#' "$file" | sed 's/#.*//' | grep -o '<[^>]*>' || true)
	assert_eq "" "$left" "template $name has placeholders this test does not know"
	capture "$MIGRATE" --dir "$dir" validate
	assert_eq 0 "$RC" "template $name, filled in, does not validate: $ERR"
	capture "$MIGRATE" --dir "$dir" plan --offline --online
	assert_eq 0 "$RC" "template $name, filled in, does not plan: $ERR"
	assert_contains "$OUT" orders "the plan of $name names the table"

	n=$((n + 1))
done
[ $n -ge 10 ] || fail "only $n templates"
for want in add-column add-column-with-backfill add-index add-foreign-key add-not-null \
	change-column-type backfill multi-tenancy enable-rls raw-sql; do
	[ -f "templates/$want.yaml" ] || fail "no template $want"
done

# new refuses to overwrite: the files it could write in the next half
# minute exist already (a busy machine may be slow).
dir=$TMP/clash
mkdir -p "$dir"
now=$(date +%s)
for i in $(seq 0 30); do
	echo "# mine" >"$dir/$(date -u -d "@$((now + i))" +%Y%m%d%H%M%S)_try_it.yaml"
done
expect_exit 2 "$MIGRATE" --dir "$dir" new try_it --template raw-sql
assert_contains "$ERR" "try_it.yaml" "the message names the file"
assert_eq 31 "$(grep -lx '# mine' "$dir"/*.yaml | wc -l)" "new overwrote a file"
assert_eq 31 "$(find "$dir" -name '*.yaml' | wc -l)" "new wrote a file"
