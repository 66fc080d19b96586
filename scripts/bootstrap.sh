#!/usr/bin/env bash
# Creates .venv (Python 3.11+) and installs this checkout into it, from its own path:
# no install step ever asks PyPI for a package named like ours.
# Usage: scripts/bootstrap.sh [extra]   (extra: "dev" adds test and lint tools)
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if "$candidate" -c "import sys; sys.exit(sys.version_info < (3, 11))" 2>/dev/null; then
      python=$candidate
      break
    fi
  done
fi
[ -n "$python" ] || { echo "AgentTrace needs Python 3.11 or newer" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $python" >&2
  "$python" -m venv .venv
fi
target="."
[ "${1:-}" = "dev" ] && target=".[dev]"
stamp=".venv/.installed-${1:-run}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ sdk/pyproject.toml -nt "$stamp" ]; then
  echo "==> installing AgentTrace ($target) into .venv" >&2
  .venv/bin/python -m pip install --quiet --upgrade pip
  # setuptools warns that an editable install is editable: true, and noise in the output.
  PYTHONWARNINGS="ignore:Editable installation" .venv/bin/python -m pip install --quiet -e "$target"
  # The Python SDK is its own distribution (sdk/), installed beside the server for its tests.
  PYTHONWARNINGS="ignore:Editable installation" .venv/bin/python -m pip install --quiet -e sdk/
  touch "$stamp"
fi

# The CrewAI integration is tested in its own venv: CrewAI pins pydantic and openai versions
# other than the server's (tests/sdk/test_crewai.py runs a CrewAI app there).
if [ "${1:-}" = "dev" ]; then
  crewai_stamp=".venv-crewai/.installed"
  if [ ! -f "$crewai_stamp" ] || [ tests/sdk/crewai-requirements.txt -nt "$crewai_stamp" ]; then
    echo "==> installing CrewAI and the SDK into .venv-crewai" >&2
    [ -x .venv-crewai/bin/python ] || "$python" -m venv .venv-crewai
    .venv-crewai/bin/python -m pip install --quiet --upgrade pip
    PYTHONWARNINGS="ignore:Editable installation" .venv-crewai/bin/python -m pip install --quiet \
      -r tests/sdk/crewai-requirements.txt -e sdk/
    touch "$crewai_stamp"
  fi

  # Arize Phoenix, the peer of bench/phoenix.py, in its own venv: its pins clash with ours.
  phoenix_stamp=".venv-phoenix/.installed"
  if [ ! -f "$phoenix_stamp" ] || [ bench/phoenix-requirements.txt -nt "$phoenix_stamp" ]; then
    echo "==> installing Arize Phoenix into .venv-phoenix" >&2
    [ -x .venv-phoenix/bin/python ] || "$python" -m venv .venv-phoenix
    .venv-phoenix/bin/python -m pip install --quiet --upgrade pip
    .venv-phoenix/bin/python -m pip install --quiet -r bench/phoenix-requirements.txt
    touch "$phoenix_stamp"
  fi
fi
