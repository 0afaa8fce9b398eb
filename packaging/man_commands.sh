#!/usr/bin/env bash
# Writes help2man's include file for tunebench-cli: one section listing every subcommand with
# its own --help, taken from the binary so the man page cannot drift from the program.
# Usage: man_commands.sh TUNEBENCH_CLI OUT
set -euo pipefail
cli="$1"
out="$2"
commands=$("$cli" --help | awk '/^Subcommands:/{on=1; next} on && /^  [a-z]/{print $1}')
[[ -n "$commands" ]] || { echo "man_commands: no subcommands in $cli --help" >&2; exit 1; }
{
  echo "[COMMANDS]"
  for command in $commands; do
    echo ".SS $command"
    echo ".nf"
    # Roff: a leading dot or quote would be read as a request; backslashes must be doubled.
    "$cli" "$command" --help | sed -e 's/\\/\\\\/g' -e "s/^\([.']\)/\\\\\&\1/"
    echo ".fi"
  done
  echo "[FILES]"
  echo "Run history: \$XDG_DATA_HOME/tunebench/runs.db (\\fBTB_DB\\fR or \\fB--db\\fR override)."
  echo "Presets and the bundled demo: /usr/share/tunebench (\\fBTB_RESOURCES_DIR\\fR override)."
} > "$out"
