#!/usr/bin/env bash
# The documentation around the program: the man page renders without
# warnings and documents every command and option the program knows; each
# command's --help lists its options, each with a line; the bash
# completion offers them; colour only on a terminal and never with
# NO_COLOR or --no-color; JSON from every reporting command parses;
# `make install` puts everything in place.  The sources cite only the
# project's own documents (docs/, the man page), each by a section that
# is there.
. "$(dirname "$0")/lib.sh"

# The commands and options come from the program itself, not a copy here.
commands=$("$MIGRATE" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
[ "$(wc -w <<<"$commands")" -ge 9 ] || fail "migrate --help lists too few commands: $commands"

# ---- citations: nothing outside the repository, no section that is not there ----
cited=$(COMMANDS=$commands python3 - <<'EOF'
import os, re, subprocess
try:
    files = subprocess.run(["git", "ls-files"], capture_output=True, text=True,
                           check=True).stdout.split()
except Exception:
    files = [os.path.join(d, f) for top in ("src", "include", "tests", "docs", "man",
             "scripts", "bench", "templates", "completion", ".ci")
             for d, _, fs in os.walk(top) for f in fs] + ["README.md", "Makefile"]
outside = re.compile(r"\bSPEC\b|\b(LOCKS|ARCHITECTURE|PRACTICE)\.md|/work/")
design = [l[3:].strip() for l in open("docs/design.md") if l.startswith("## ")]
man = [l.split(None, 1)[1].strip().strip('"').lower() for l in open("man/migrate.1")
       if l.startswith((".SH ", ".SS "))]
commands = os.environ["COMMANDS"].split()
for path in sorted(set(files)):
    if path == "tests/integration/t_docs.sh" or not os.path.isfile(path):
        continue
    try:
        text = open(path, encoding="utf-8").read()
    except (UnicodeDecodeError, OSError):
        continue
    for n, line in enumerate(text.splitlines(), 1):
        if outside.search(line):
            print(f"{path}:{n}: cites a document outside the repository: {line.strip()}")
    # a citation may go on over a comment's next line
    flat = re.sub(r"\n\s*(\*|#|//|--)?\s*", " ", text)
    for m in re.finditer(r"docs/design\.md(?:, \"?| \")([^).;:\"`]+)", flat):
        if not any(m.group(1).startswith(h) for h in design):
            print(f"{path}: cites no section of docs/design.md: {m.group(0)}")
    for m in re.finditer(r"migrate\(1\), ([A-Za-z][A-Za-z ,]*)", flat):
        what = m.group(1).strip().lower()
        if not any(what.startswith(h) for h in man) and what.split()[0] not in commands:
            print(f"{path}: cites no section of migrate(1): {m.group(0)}")
EOF
)
assert_eq "" "$cited" "citations in the sources"

# ---- the man page ----
if command -v groff >/dev/null; then
	warnings=$(groff -ww -man -Tutf8 man/migrate.1 2>&1 >/dev/null)
	assert_eq "" "$warnings" "groff -ww warns about the man page"
fi
if command -v man >/dev/null; then
	expect_exit 0 env MANWIDTH=80 MANPAGER=cat man --warnings -l man/migrate.1
	assert_eq "" "$ERR" "man -l warns"
	page=$OUT
	for section in SYNOPSIS COMMANDS "GLOBAL OPTIONS" SETTINGS OPERATIONS FILES ENVIRONMENT \
		"EXIT STATUS" "JSON OUTPUT" EXAMPLES; do
		assert_contains "$page" "$section" "the man page has no $section section"
	done
	for var in DATABASE_URL PGSERVICE PGPASSFILE NO_COLOR; do
		assert_contains "$page" "$var" "the man page does not document $var"
	done
fi
man_src=$(cat man/migrate.1)

# ---- --help for every command, and the man page documents each option ----
for c in $commands; do
	expect_exit 0 "$MIGRATE" "$c" --help
	assert_match "$OUT" "^Usage: migrate .*$c" "$c --help has no usage line"
	assert_contains "$OUT" "Exit status:" "$c --help gives no exit codes"
	help=$OUT
	# Every option line carries a description after the option.
	bare=$(grep -E '^ +(-[a-zA-Z], )?--[a-z-]+( [A-Za-z|]+)? *$' <<<"$help" || true)
	assert_eq "" "$bare" "$c --help: options without a description"
	for opt in $(grep -oE -- '--[a-z][a-z-]*' <<<"$help" | sort -u); do
		assert_contains "$man_src" "${opt//-/\\-}" "the man page does not document $c $opt"
	done
	assert_match "$man_src" "^\.B(R)? (migrate )?$c\b" "the man page does not document the command $c"
	# -h is --help too, after the command.
	expect_exit 0 "$MIGRATE" "$c" -h
	assert_eq "$help" "$OUT" "$c -h differs from $c --help"
done
expect_exit 0 "$MIGRATE" apply --help
for opt in --online --dry-run --lock-timeout --batch-size --replica; do
	assert_contains "$OUT" "$opt" "apply --help"
done
expect_exit 0 "$MIGRATE" --version
assert_match "$OUT" '^migrate [0-9]+\.[0-9]+\.[0-9]+$' "--version"

# ---- bash completion ----
# complete_words WORD...: what completion offers for the last word.
complete_words()
{
	# shellcheck disable=SC1091
	bash -c '. completion/migrate.bash
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _migrate
		printf "%s\n" "${COMPREPLY[@]}"' _ "$@"
}
assert_eq "apply" "$(complete_words "$MIGRATE" ap)" "completion of a command"
# An option's value is not the command.
assert_eq "apply" "$(complete_words "$MIGRATE" -d status --dir plan ap)" \
	"completion after options with values"
assert_eq "" "$(complete_words "$MIGRATE" apply --lock-timeout "")" \
	"completion of an option's value"
assert_eq "auto" "$(complete_words "$MIGRATE" apply --batch-size a)" "completion of --batch-size"
assert_eq "$(tr ' ' '\n' <<<"$commands" | sed '/^$/d' | sort)" \
	"$(complete_words "$MIGRATE" "" | sort)" "completion offers every command"
for c in $commands; do
	want=$("$MIGRATE" "$c" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u)
	assert_eq "$want" "$(complete_words "$MIGRATE" --dir x "$c" -- | sort)" \
		"completion of $c's options"
done
assert_eq "$(ls templates | sed -n 's/\.yaml$//p' | grep '^add-' | sort)" \
	"$(complete_words "$MIGRATE" new x --template add- | sort)" "completion of --template"
assert_eq "text json sql" "$(complete_words "$MIGRATE" plan --format "" | xargs)" \
	"completion of plan --format"
mkdir "$TMP/files"
touch "$TMP/files/a.sql" "$TMP/files/b.yaml"
assert_eq "$TMP/files/a.sql" "$(complete_words "$MIGRATE" convert "$TMP/files/")" \
	"completion of convert's file"
assert_eq "$TMP/files/b.yaml" "$(complete_words "$MIGRATE" lint "$TMP/files/")" \
	"completion of lint's files"

# ---- colour: only on a terminal, never with NO_COLOR or --no-color ----
esc=$'\033'
# on_tty CMD: runs CMD (a shell command line) with stdout on a terminal.
on_tty()
{
	script -qec "$1" /dev/null </dev/null
}
if command -v script >/dev/null; then
	plan="'$MIGRATE' --dir migrations plan --offline"
	assert_contains "$(on_tty "$plan")" "${esc}[" "no colour on a terminal"
	assert_contains "$(on_tty "NO_COLOR= $plan")" "${esc}[" "an empty NO_COLOR turned colour off"
	assert_not_contains "$(on_tty "NO_COLOR=1 $plan")" "$esc" "NO_COLOR=1 printed an escape code"
	assert_not_contains "$(on_tty "NO_COLOR=false $plan")" "$esc" "NO_COLOR=false printed an escape code"
	assert_not_contains "$(on_tty "$plan --no-color")" "$esc" "--no-color printed an escape code"
fi
expect_exit 0 "$MIGRATE" --dir migrations plan --offline
assert_not_contains "$OUT" "$esc" "escape codes into a pipe"

# ---- JSON from every reporting command parses; errors on stderr ----
new_db
expect_exit 0 mg --dir migrations --format json validate
assert_eq true "$(json 'd["valid"]')" "validate json"
expect_exit 0 mg --dir migrations --format json plan --to 2
assert_eq 2 "$(json 'len(d["migrations"])')" "plan json: two migrations"
expect_exit 0 mg --dir migrations --format json apply --to 2
json_lines 'all("event" in e for e in d)' >/dev/null
assert_eq true "$(json_lines 'all("event" in e for e in d)')" "apply events"
assert_eq "" "$ERR" "apply wrote to stderr without an error"
expect_exit 0 mg --dir migrations --format json status
assert_eq completed "$(json 'd["migrations"][1]["status"]')" "status json"
expect_exit 0 mg --dir migrations --format json rollback --dry-run
json 'd' >/dev/null
expect_exit 0 mg --dir migrations --format json rollback
assert_eq true "$(json_lines 'all("event" in e for e in d)')" "rollback events"
expect_exit 2 mg --dir migrations --format json rollback --to x
assert_eq "" "$OUT" "a usage error wrote to stdout"
assert_match "$ERR" '^migrate: ' "a usage error on stderr"

# ---- make install ----
prefix=$TMP/prefix
make -s -o "$MIGRATE" install PROG="$MIGRATE" PREFIX="$prefix" >/dev/null ||
	fail "make install failed"
[ -x "$prefix/bin/migrate" ] || fail "no bin/migrate"
[ -f "$prefix/share/man/man1/migrate.1" ] || fail "no man page"
[ -f "$prefix/share/bash-completion/completions/migrate" ] || fail "no completion"
assert_eq "$(ls templates)" "$(ls "$prefix/share/migrate/templates")" "installed templates"
if command -v man >/dev/null; then
	expect_exit 0 env MANPAGER=cat man -l "$prefix/share/man/man1/migrate.1"
	assert_contains "$OUT" "zero-downtime" "the installed man page"
fi
# The installed completion finds the installed templates, from anywhere.
got=$(cd "$TMP" && bash -c '. "$1"; COMP_WORDS=("$2" new x --template raw); COMP_CWORD=4
	_migrate; printf "%s\n" "${COMPREPLY[@]}"' _ \
	"$prefix/share/bash-completion/completions/migrate" "$prefix/bin/migrate")
assert_eq raw-sql "$got" "installed completion of --template"
