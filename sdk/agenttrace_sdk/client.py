"""``init()`` and the module-level controls: one exporter per process, flushed at exit."""

from __future__ import annotations

import atexit
import logging
import threading
from typing import Any, Callable

from agenttrace_sdk.capture import Redactor
from agenttrace_sdk.config import Config, load
from agenttrace_sdk.processor import BatchProcessor
from agenttrace_sdk.spans import DISCARD, Runtime, install
from agenttrace_sdk.stats import Stats
from agenttrace_sdk.transport import HttpTransport

log = logging.getLogger("agenttrace_sdk")

_lock = threading.Lock()
_processor: BatchProcessor | None = None
_last: BatchProcessor | None = None  # kept after shutdown, for its stats
_config: Config | None = None
_atexit_registered = False
# Integrations whose framework reports work from its own threads (CrewAI's event bus) drain
# those threads here first, so flush() and shutdown() see the spans they are still ending.
_drains: list[Callable[[float], object]] = []


def register_drain(drain: Callable[[float], object]) -> None:
    """Runs ``drain(timeout_s)`` at the start of every ``flush()`` and ``shutdown()``
    (also at exit); for integrations, not for application code."""
    with _lock:
        if drain not in _drains:
            _drains.append(drain)


def _drain(timeout_s: float) -> None:
    for drain in list(_drains):
        try:
            drain(timeout_s)
        except Exception:  # a framework's failure must not stop the flush
            log.debug("agenttrace: a drain hook failed", exc_info=True)


def init(
    api_key: str | None = None,
    endpoint: str | None = None,
    *,
    project: str | None = None,
    environment: str | None = None,
    release: str | None = None,
    sample_rate: float | None = None,
    redact: Redactor | None = None,
    capture: bool | None = None,
    live_threshold_s: float | None = None,
    max_field_bytes: int | None = None,
    max_queue_size: int | None = None,
    max_batch_size: int | None = None,
    schedule_delay_s: float | None = None,
    export_timeout_s: float | None = None,
    max_backoff_s: float | None = None,
    spool_dir: str | None = None,
    max_spool_bytes: int | None = None,
    enabled: bool | None = None,
    shutdown_timeout_s: float | None = None,
) -> Config:
    """Starts exporting spans. Arguments left as None come from ``AGENTTRACE_*`` variables,
    then defaults (see the README's table). Calling it again replaces the previous setup
    (which is flushed and shut down first). Returns the settings in force; ValueError
    for a malformed setting. Never contacts the server itself."""
    global _processor, _last, _config, _atexit_registered
    given: dict[str, Any] = dict(locals())
    config = load(given)
    with _lock:
        previous = _processor
        _processor = None
        if previous is not None:
            previous.shutdown(config.shutdown_timeout_s)
        if not config.enabled:
            install(Runtime(DISCARD, config.sample_rate, config.capture))
            _config = config
            return config
        if not config.api_key:
            log.warning("agenttrace: no API key (init(api_key=...) or AGENTTRACE_API_KEY)")
        transport = HttpTransport(
            config.endpoint, config.api_key, config.export_timeout_s, config.project
        )
        _processor = _last = BatchProcessor(config, transport)
        _config = config
        install(
            Runtime(
                _processor,
                config.sample_rate,
                config.capture,
                config.environment,
                config.release,
            )
        )
        if not _atexit_registered:
            atexit.register(_at_exit)
            _atexit_registered = True
    return config


def flush(timeout_s: float = 5.0) -> bool:
    """Waits up to ``timeout_s`` for every span ended so far to be sent (or written to the
    spool). False on timeout, e.g. while the server is down without a spool."""
    _drain(timeout_s)
    processor = _processor
    return processor.flush(timeout_s) if processor is not None else True


def shutdown(timeout_s: float = 5.0) -> bool:
    """Sends what is left within ``timeout_s`` (running spans as they are) and stops the
    exporter; spans ending afterwards are counted as dropped. True when nothing was left
    in memory."""
    global _processor
    _drain(timeout_s)
    with _lock:
        processor = _processor
        if processor is None:
            return True
        done = processor.shutdown(timeout_s)
        install(Runtime(DISCARD))
        _processor = None
        return done


def stats() -> Stats:
    """Counters of the current (or last shut down) exporter; zeros before ``init()``."""
    processor = _last
    return processor.stats() if processor is not None else Stats()


def _at_exit() -> None:
    config = _config
    try:
        shutdown(config.shutdown_timeout_s if config is not None else 5.0)
    except Exception:  # never let tracing spoil an exit
        log.debug("agenttrace: shutdown at exit failed", exc_info=True)
