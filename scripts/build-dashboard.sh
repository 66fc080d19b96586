#!/usr/bin/env bash
# Builds the dashboard (dashboard/dist) with the machine's Node.js: installs its packages
# exactly as locked, generates the GraphQL types from schema.graphql, type-checks, bundles.
# Node is needed to build, never to run: the server serves dashboard/dist.
# Usage: scripts/build-dashboard.sh [--if-missing]
set -euo pipefail
cd "$(dirname "$0")/../dashboard"
if [ "${1:-}" = "--if-missing" ] && [ -f dist/index.html ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "building the dashboard needs Node.js 20+ and npm" >&2; exit 1; }
# The machine's ~/.npmrc may carry options npm warns about; only errors matter here.
export npm_config_loglevel=error
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> installing the dashboard's packages (npm ci)" >&2
  npm ci --no-audit --no-fund
fi
echo "==> building the dashboard" >&2
npm run --silent build
