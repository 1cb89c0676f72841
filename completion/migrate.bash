# bash completion for migrate(1).
#
# Commands and options come from the program's own --help, so this file
# stays current when commands or options are added.  Installed by
# `make install` as $(PREFIX)/share/bash-completion/completions/migrate.

# The templates `migrate new --template` can use: ./templates first, then
# the ones installed next to the program.
_migrate_templates()
{
	local bin dir f

	bin=$(command -v "$1" 2>/dev/null) || bin=$1
	for dir in templates "${bin%/*}/../share/migrate/templates"; do
		[ -d "$dir" ] || continue
		for f in "$dir"/*.yaml; do
			[ -e "$f" ] || continue
			f=${f##*/}
			printf '%s\n' "${f%.yaml}"
		done
	done | sort -u
}

# _migrate_takes_value NAME VALUED: whether option NAME ("-d" as "d",
# "--dir" as "-dir") takes a value, by the "short long" lines of VALUED.
_migrate_takes_value()
{
	local short long

	while read -r short long; do
		[ -z "$long" ] && long=$short && short=
		if [ "$1" = "-$long" ] || { [ -n "$short" ] && [ "$1" = "$short" ]; }; then
			return 0
		fi
	done <<<"$2"
	return 1
}

_migrate()
{
	local cur prev prog cmd word i
	local commands opts valued

	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	prog=${COMP_WORDS[0]}

	# The options that take a value, "-d database" style pairs, from help
	# lines such as "  -d, --database CONNINFO  ...".
	valued=$("$prog" --help 2>/dev/null |
		sed -nE 's/^  (-([a-zA-Z]), )? *--([a-z-]+) [A-Z].*/\2 \3/p')

	# The first word that is not an option, nor an option's value, is the
	# command.
	commands=$("$prog" --help 2>/dev/null |
		sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
	cmd=
	for ((i = 1; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		case "$word" in
			--*=*) ;;
			--*|-?)
				_migrate_takes_value "${word#-}" "$valued" && i=$((i + 1)) ;;
			-*) ;;
			*)
				cmd=$word
				break ;;
		esac
	done
	if [ -n "$cmd" ]; then
		valued+=$'\n'$("$prog" "$cmd" --help 2>/dev/null |
			sed -nE 's/^  (-([a-zA-Z]), )? *--([a-z-]+) [A-Z].*/\2 \3/p')
	fi

	case "$prev" in
		--format)
			if [ "$cmd" = plan ]; then
				mapfile -t COMPREPLY < <(compgen -W "text json sql" -- "$cur")
			else
				mapfile -t COMPREPLY < <(compgen -W "text json" -- "$cur")
			fi
			return ;;
		--dir)
			mapfile -t COMPREPLY < <(compgen -d -- "$cur")
			return ;;
		--state)
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			return ;;
		--targets)
			mapfile -t COMPREPLY < <(compgen -f -X '!*.y*ml' -- "$cur"; compgen -d -- "$cur")
			return ;;
		--template|-t)
			mapfile -t COMPREPLY < <(compgen -W "$(_migrate_templates "$prog")" -- "$cur")
			return ;;
		--batch-size)
			mapfile -t COMPREPLY < <(compgen -W "auto" -- "$cur")
			return ;;
	esac
	# Any other option's value: nothing sensible to offer.
	case "$prev" in
		--*|-?)
			_migrate_takes_value "${prev#-}" "$valued" && return ;;
	esac

	if [[ "$cur" == -* ]]; then
		if [ -n "$cmd" ]; then
			opts=$("$prog" "$cmd" --help 2>/dev/null)
		else
			opts=$("$prog" --help 2>/dev/null)
		fi
		opts=$(printf '%s\n' "$opts" | grep -o -- '--[a-z][a-z-]*' | sort -u)
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
		return
	fi

	case "$cmd" in
		"")
			mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur") ;;
		lint)
			mapfile -t COMPREPLY < <(compgen -f -X '!*.y*ml' -- "$cur"; compgen -d -- "$cur") ;;
		convert)
			mapfile -t COMPREPLY < <(compgen -f -X '!*.sql' -- "$cur"; compgen -d -- "$cur") ;;
	esac
}
complete -F _migrate migrate
