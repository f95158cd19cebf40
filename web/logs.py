"""Logging for the server: one line per record, control characters escaped, and
exceptions reduced to their type and where they happened.

An exception's message can quote what a person typed (a KeyError on a word, a
ValueError on a value), so no log line ever carries it: the traceback keeps the
files, lines and functions, and the last line is the exception's type only.
"""
from __future__ import annotations

import logging
import traceback

from .middleware import printable

__all__ = ["SafeFormatter", "log_config"]

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class SafeFormatter(logging.Formatter):
    def __init__(self, fmt: str | None = FORMAT, datefmt: str | None = None, style: str = "%", **_):
        super().__init__(fmt, datefmt, style)

    def format(self, record: logging.LogRecord) -> str:
        record = logging.makeLogRecord(record.__dict__)  # other handlers see the record unchanged
        record.msg, record.args = printable(record.getMessage(), 2000), None
        exc_info, record.exc_info, record.exc_text, record.stack_info = record.exc_info, None, None, None
        line = super().format(record)
        if exc_info and exc_info[0] is not None:
            frames = traceback.extract_tb(exc_info[2])
            where = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(frames))
            line += f" [{exc_info[0].__name__} at {printable(where, 2000)}]"
        return line


def log_config(level: str = "INFO") -> dict:
    """A logging.config dict for uvicorn (every worker applies it): our formatter everywhere."""
    handler = {"class": "logging.StreamHandler", "formatter": "safe", "stream": "ext://sys.stderr"}
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"safe": {"()": "web.logs.SafeFormatter"}},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level},
        "loggers": {name: {"handlers": [], "propagate": True, "level": level}
                    for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
    }
