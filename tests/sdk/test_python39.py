"""The SDK on its floor, Python 3.9, with nothing but the standard library: nested sync,
async, generator and threaded spans and a recorded exception reach a real serve."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.sdk.conftest import Serve, spans_by_name

ROOT = Path(__file__).resolve().parents[2]


def python39() -> str | None:
    """A working Python 3.9: on PATH, else one pyenv installed (the machines' image has it)."""
    candidates = [shutil.which("python3.9") or ""]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.9*/bin/python3.9")))
    for candidate in candidates:
        if not candidate:
            continue
        probe = subprocess.run(
            [candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 9)"],
            capture_output=True,
            timeout=30,
            check=False,
        )
        if probe.returncode == 0:
            return candidate
    return None


def test_the_sdk_runs_on_python_3_9_with_the_standard_library_only(serve: Serve) -> None:
    interpreter = python39()
    if interpreter is None:
        pytest.skip("no Python 3.9 interpreter on this machine (python3.9 or pyenv's)")
    assert serve.api is not None
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT / "sdk"),  # the SDK alone: no site-packages of ours
        "AGENTTRACE_API_KEY": serve.api.api_key,
        "AGENTTRACE_ENDPOINT": serve.base_url,
    }
    done = subprocess.run(
        [interpreter, "-W", "error", "-s", str(ROOT / "tests/sdk/py39_app.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    trace_id = done.stdout.strip()

    trace = serve.api.wait_for_trace(trace_id, 7)
    spans = spans_by_name(trace)
    root = spans["py39 agent"]
    assert root["parent_span_id"] is None
    children = sorted(s["name"] for s in trace["spans"] if s["parent_span_id"] == root["span_id"])
    assert children == ["documents", "fails", "lookup", "lookup", "think", "think"]
    thinks = [s for s in trace["spans"] if s["name"] == "think"]
    assert sorted(s["output_tokens"] for s in thinks) == [1, 2]
    assert all(s["kind"] == "LLM" and s["model"] == "fake-gpt" for s in thinks)
    assert spans["documents"]["output"] == ["doc one", "doc two"]
    failed = spans["fails"]
    assert failed["status"] == "ERROR"
    assert failed["error"]["type"] == "KeyError"
    assert 'raise KeyError("missing")' in failed["error"]["stack"]
    lookups = sorted(s["output"]["city"] for s in trace["spans"] if s["name"] == "lookup")
    assert lookups == ["Oslo", "Paris"]  # the pool's threads kept the agent's context
