#!/usr/bin/env bash
# Every template gives, through `migrate new`, a file that validates as it
# is: placeholders are valid names, so a user edits a working file.
. "$(dirname "$0")/lib.sh"

n=0
for tpl in templates/*.yaml; do
	name=$(basename "$tpl" .yaml)
	dir=$TMP/$name
	expect_exit 0 "$MIGRATE" --dir "$dir" new try_it --template "$name"
	cmp -s "$tpl" "$OUT" || fail "new --template $name did not copy the template"
	capture "$MIGRATE" --dir "$dir" validate
	assert_eq 0 "$RC" "template $name does not validate: $ERR"
	assert_contains "$(cat "$tpl")" "<table>" "template $name has a <table> placeholder"
	n=$((n + 1))
done
[ $n -ge 10 ] || fail "only $n templates"
