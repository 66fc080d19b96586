"""Settings: arguments over environment variables over defaults."""

from __future__ import annotations

import pytest
from agenttrace_sdk.config import DEFAULT_ENDPOINT, load


def test_defaults_without_arguments_or_environment() -> None:
    config = load({}, environ={})
    assert config.endpoint == DEFAULT_ENDPOINT
    assert (config.sample_rate, config.capture, config.live_threshold_s) == (1.0, True, 1.0)
    assert config.max_field_bytes == 32 * 1024


def test_environment_is_read_and_arguments_win() -> None:
    environ = {
        "AGENTTRACE_API_KEY": "at_env",
        "AGENTTRACE_ENDPOINT": "http://collector:9000",
        "AGENTTRACE_SAMPLE_RATE": "0.25",
        "AGENTTRACE_CAPTURE": "false",
        "AGENTTRACE_LIVE_THRESHOLD_S": "off",
        "AGENTTRACE_SPOOL_DIR": "/tmp/spool",
    }
    config = load({"api_key": "at_arg", "sample_rate": None}, environ=environ)
    assert config.api_key == "at_arg"
    assert config.endpoint == "http://collector:9000"
    assert (config.sample_rate, config.capture, config.live_threshold_s) == (0.25, False, None)
    assert config.spool_dir == "/tmp/spool"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"AGENTTRACE_SAMPLE_RATE": "lots"}, "AGENTTRACE_SAMPLE_RATE"),
        ({"AGENTTRACE_SAMPLE_RATE": "2"}, "sample_rate"),
        ({"AGENTTRACE_MAX_QUEUE_SIZE": "0"}, "max_queue_size"),
    ],
)
def test_bad_settings_are_named(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load({}, environ=environ)
