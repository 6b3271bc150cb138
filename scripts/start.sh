#!/usr/bin/env bash
# npm start: the main job. Until the datastore service lands (issue 5) it builds Wharf, shows the CLI's help
# and runs a local demo: a folder copied into a local-folder store under ./.wharf-data, then listed.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm install --no-audit --no-fund
npm run --silent build
wharf() { node dist/cli/main.js "$@"; }

wharf --help
echo
store=.wharf-data/demo-store
echo "== demo: wharf cp -r ./docs $store/docs" >&2
wharf cp -r ./docs "$store/docs"
echo "== demo: wharf ls -r $store" >&2
wharf ls -r "$store"
echo "== demo: wharf cat $store/docs/architecture.md | head -5" >&2
wharf cat "$store/docs/architecture.md" | head -5
