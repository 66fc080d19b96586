"""The SDK's settings: ``init()`` arguments over ``AGENTTRACE_*`` environment variables
over defaults, read once into one frozen object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from agenttrace_sdk.capture import Redactor

DEFAULT_ENDPOINT = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Config:
    api_key: str | None = None
    endpoint: str = DEFAULT_ENDPOINT
    project: str | None = None
    environment: str | None = None
    release: str | None = None
    sample_rate: float = 1.0
    capture: bool = True
    redact: Redactor | None = None
    max_field_bytes: int = 32 * 1024
    live_threshold_s: float | None = 1.0
    max_queue_size: int = 2048
    max_batch_size: int = 256
    max_batch_bytes: int = 4 * 1024 * 1024
    schedule_delay_s: float = 1.0
    export_timeout_s: float = 10.0
    max_backoff_s: float = 30.0
    max_server_error_attempts: int = 8
    spool_dir: str | None = None
    max_spool_bytes: int = 256 * 1024 * 1024
    enabled: bool = True
    shutdown_timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.sample_rate <= 1.0:
            raise ValueError(f"sample_rate must be within [0, 1], got {self.sample_rate}")
        for name in ("max_field_bytes", "max_queue_size", "max_batch_size", "max_batch_bytes"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.schedule_delay_s <= 0 or self.export_timeout_s <= 0:
            raise ValueError("schedule_delay_s and export_timeout_s must be positive")


_ENV = {
    "api_key": "AGENTTRACE_API_KEY",
    "endpoint": "AGENTTRACE_ENDPOINT",
    "project": "AGENTTRACE_PROJECT",
    "environment": "AGENTTRACE_ENVIRONMENT",
    "release": "AGENTTRACE_RELEASE",
    "sample_rate": "AGENTTRACE_SAMPLE_RATE",
    "capture": "AGENTTRACE_CAPTURE",
    "max_field_bytes": "AGENTTRACE_MAX_FIELD_BYTES",
    "live_threshold_s": "AGENTTRACE_LIVE_THRESHOLD_S",
    "max_queue_size": "AGENTTRACE_MAX_QUEUE_SIZE",
    "max_batch_size": "AGENTTRACE_MAX_BATCH_SIZE",
    "schedule_delay_s": "AGENTTRACE_SCHEDULE_DELAY_S",
    "export_timeout_s": "AGENTTRACE_EXPORT_TIMEOUT_S",
    "max_backoff_s": "AGENTTRACE_MAX_BACKOFF_S",
    "spool_dir": "AGENTTRACE_SPOOL_DIR",
    "max_spool_bytes": "AGENTTRACE_MAX_SPOOL_BYTES",
    "enabled": "AGENTTRACE_ENABLED",
}
ENV_VARS = dict(_ENV)


def _parse(name: str, text: str) -> Any:
    kind = {f.name: f.type for f in fields(Config)}[name]
    if "bool" in str(kind):
        return text.strip().lower() in ("1", "true", "yes", "on")
    if "float" in str(kind):
        return None if text.strip().lower() in ("", "off", "none") else float(text)
    if "int" in str(kind):
        return int(text)
    return text or None


def load(overrides: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Config:
    """Arguments given (not None) win over the environment, which wins over defaults.
    ValueError names a malformed variable or an out-of-range value."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, var in _ENV.items():
        if var in env:
            try:
                values[name] = _parse(name, env[var])
            except ValueError:
                raise ValueError(f"{var}={env[var]!r} is not valid") from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    return replace(Config(), **values)
