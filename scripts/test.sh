#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs, then runs the quality
# gates and pytest. pytest starts throwaway Apache Kafka (KRaft), Redis and PostgreSQL on
# loopback itself (devservices/) and stops them at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh dev
.venv/bin/python -m devservices fetch   # Kafka jars (Maven), redis-server and chromium (apt)
scripts/build-dashboard.sh              # npm ci, GraphQL types, tsc, vite build

echo "==> ruff check" >&2
.venv/bin/ruff check .
echo "==> ruff format --check" >&2
.venv/bin/ruff format --check .
echo "==> mypy" >&2
.venv/bin/mypy
echo "==> dashboard unit tests (vitest)" >&2
(cd dashboard && npm_config_loglevel=error npm test --silent)
echo "==> pytest" >&2
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
.venv/bin/python -m pytest "$@"
