#!/usr/bin/env bash
# npm start: the main job — the datastore service (issue 5) on the embedded defaults. Installs if needed,
# builds, then runs `wharf serve`: dataset folders in ./.wharf-data/store, the catalog in an embedded
# PostgreSQL in ./.wharf-data/postgres. The first start prints an admin API token once (stderr).
# PORT (default 8080), HOST (default 127.0.0.1), WHARF_DATA_DIR (default ./.wharf-data) and
# WHARF_ADMIN_TOKEN (a fixed admin token) change it. Ctrl-C stops the service and the database.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm install --no-audit --no-fund
npm run --silent build
# --exit-with-parent: npm does not pass SIGTERM on (`kill` of npm, `docker stop`); the service then stops itself.
exec node dist/cli/main.js serve --exit-with-parent \
  --data-dir "${WHARF_DATA_DIR:-.wharf-data}" \
  --port "${PORT:-8080}" \
  --host "${HOST:-127.0.0.1}" \
  "$@"
