"""The OpenAI and Anthropic integrations are optional: the SDK does not import them, and
each imports without either client package installed."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
sys.modules["openai"] = None      # as if not installed: importing it raises ImportError
sys.modules["anthropic"] = None
import agenttrace_sdk
assert "agenttrace_sdk.integrations" not in sys.modules
from agenttrace_sdk.integrations import anthropic, openai
assert anthropic.instrument(object()) is not None and openai.instrument(object()) is not None
print("ok")
"""


def test_integrations_import_without_the_client_packages() -> None:
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", SCRIPT], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
