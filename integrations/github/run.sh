#!/usr/bin/env bash
# Runs dbconsultant for the GitHub Action (action.yml, step "run"): lint or validate the
# migrations, then renders the run twice: as workflow annotations (on the changed lines of
# the pull request) and as Markdown into the job summary. Sets the outputs status,
# risk-score and (validate) run-id, and exits with the CLI's code (0 passed, 1 failed, 2 waiting
# for approval, 3 bad input or error).
# Inputs (environment): INPUT_COMMAND, INPUT_FILES, INPUT_DIALECT, INPUT_DATABASE_URL,
# INPUT_FAIL_ABOVE, INPUT_ARGS, RUNNER_TEMP, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY.
set -euo pipefail
fail() { echo "::error title=dbconsultant::$*"; exit 3; }
export DBCONSULTANT_STORE="${RUNNER_TEMP:?}/dbconsultant-store.db"
read -ra files <<< "${INPUT_FILES:-}"
read -ra extra <<< "${INPUT_ARGS:-}"
((${#files[@]})) || fail "the files input is empty: name the migration files or directories"

case "${INPUT_COMMAND:-lint}" in
  lint) cmd=(schema lint "${files[@]}" --dialect "${INPUT_DIALECT:-postgres}") ;;
  validate)
    [ -n "${INPUT_DATABASE_URL:-}" ] || fail "command validate needs the database-url input (pass it from a secret)"
    echo "::add-mask::$INPUT_DATABASE_URL"
    cmd=(schema validate --db "$INPUT_DATABASE_URL" "${files[@]}")
    ;;
  *) fail "unknown command '${INPUT_COMMAND}': use lint or validate" ;;
esac
[ -z "${INPUT_FAIL_ABOVE:-}" ] || cmd+=(--fail-above "$INPUT_FAIL_ABOVE")

report="$RUNNER_TEMP/dbconsultant-run.json"
rm -f "$report"
set +e
dbconsultant "${cmd[@]}" "${extra[@]}" --format json --output "$report"
code=$?
set -e
if [ "$code" -ge 3 ] || [ ! -s "$report" ]; then
  # The CLI has said what was wrong on stderr; there is no run to render.
  echo "::error title=dbconsultant::dbconsultant ${cmd[0]} ${cmd[1]} ended with exit code $code (see the log above)"
  exit "$code"
fi

field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$report" "$1"; }
id=$(field test_run_id)
{
  echo "status=$(field status)"
  echo "risk-score=$(field risk_score)"
} >> "${GITHUB_OUTPUT:?}"
# A validation is stored: render that run. A lint is not (it is static and fast): run it again.
render() { # $1 = format
  if [ "${cmd[1]}" = validate ]; then
    dbconsultant runs show "$id" --format "$1"
  else
    dbconsultant "${cmd[@]}" "${extra[@]}" --format "$1" || true
  fi
}
if [ "${cmd[1]}" = validate ]; then echo "run-id=$id" >> "$GITHUB_OUTPUT"; fi
render github
render markdown >> "${GITHUB_STEP_SUMMARY:?}"
exit "$code"
