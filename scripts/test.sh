#!/usr/bin/env bash
# The one test command (npm test, .ci/run): static checks, build, start the real services, run every test.
# Ends with the line "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*" >&2; }

if [ ! -d node_modules ]; then step "npm install"; npm install --no-audit --no-fund; fi

step "lint (eslint), format (prettier), typecheck (tsc), layers"
npx eslint .
npx prettier --check --log-level warn .
npx tsc -p tsconfig.json --noEmit
npx tsc -p web/tsconfig.json --noEmit
node scripts/check-layers.mjs

step "build"
npm run --silent build

step "test services (Ceph RGW, PostgreSQL)"
services_out=$(scripts/test-services start)
eval "$services_out"
export AWS_EC2_METADATA_DISABLED=true
if [ "${CI:-}" = "true" ] || [ "${WHARF_TEST_STOP_SERVICES:-0}" = 1 ]; then
  trap 'scripts/test-services stop >/dev/null 2>&1 || true' EXIT
fi

step "vitest"
rm -f test-results/summary.txt
status=0
npx vitest run "$@" || status=$?
if [ -f test-results/summary.txt ]; then
  summary=$(cat test-results/summary.txt)
else
  summary="0 passed, 1 failed"
  status=${status:-1}
fi
# The closing line CI reads; printed last so nothing follows it.
echo "$summary"
exit "$status"
