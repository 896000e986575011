"""Structured logs on stderr: key=value lines for people, JSON lines (log_json = true) for log shippers.

Code logs events with fields: `log = get_logger(__name__); log.info("crawl.finished", run_id=3, articles=12)`.
Third-party libraries' stdlib logging goes through the same formatter.
"""

from __future__ import annotations

import logging
import sys

import structlog

get_logger = structlog.stdlib.get_logger

# Until configure_logging runs (library use, benchmarks), events go through stdlib logging, so its
# level (WARNING by default) applies and nothing is printed on stdout.
structlog.configure(
    processors=[structlog.stdlib.filter_by_level, structlog.stdlib.add_log_level,
                structlog.processors.format_exc_info, structlog.processors.KeyValueRenderer(key_order=["event"])],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=False,
)


def configure_logging(level: str = "WARNING", *, json_lines: bool = False) -> None:
    shared = [structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name,
              structlog.processors.TimeStamper(fmt="iso", utc=True)]
    renderer = structlog.processors.JSONRenderer() if json_lines else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.processors.format_exc_info,
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(processor=renderer, foreign_pre_chain=shared))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
