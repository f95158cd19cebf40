"""Serving: uvicorn with timeouts, a connection cap and, with Redis, several workers.

uvicorn closes idle keep-alive connections, but waits forever for the headers of a
request that trickles in, and accepts every connection. `GuardedH11Protocol` closes
a connection whose request headers have not all arrived within
`ORIENTATION_HEADER_TIMEOUT` seconds, and refuses connections beyond
`ORIENTATION_MAX_CONNECTIONS` per process; `web.guards.BodyLimit` does the same for a
body that trickles in. Proxy headers are ours to read (web.proxies), not uvicorn's.

Several workers (`--workers N`) need the conversations in Redis: in memory, each
worker would hold its own and a person's next message could reach another one.
A rolling restart is `kill -HUP <pid of the server>`: uvicorn starts a new worker,
waits until it is ready, then stops an old one gracefully, one at a time.
"""
from __future__ import annotations

import os
from dataclasses import fields

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from .logs import log_config
from .settings import Settings

__all__ = ["GuardedH11Protocol", "run"]

KEEP_ALIVE = 5  # seconds an idle keep-alive connection stays open
WORKER_START = 180  # seconds a new worker may take to load the model before a rolling restart gives up


class GuardedH11Protocol(H11Protocol):
    header_timeout: float | None = None
    max_connections: int | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if GuardedH11Protocol.header_timeout is None:  # once per process, from the settings
            settings = Settings.from_env()
            GuardedH11Protocol.header_timeout = float(settings.header_timeout)
            GuardedH11Protocol.max_connections = settings.max_connections
        self._header_deadline = None

    def connection_made(self, transport):
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.abort()  # over the cap: closed at once, before anything is read
            return
        self._arm()

    def _arm(self) -> None:
        self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _headers_too_slow(self) -> None:
        # Still no complete request line and headers (h11 waits in IDLE): a slow client.
        waiting = self.cycle is None or self.cycle.response_complete
        if waiting and self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()

    def handle_events(self) -> None:
        super().handle_events()
        if self._header_deadline is not None and self.cycle is not None and not self.cycle.response_complete:
            self._header_deadline.cancel()  # headers are in: the body has its own timeout
            self._header_deadline = None

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._header_deadline is None and not self.transport.is_closing():
            self._arm()  # the next request on this connection gets the same deadline

    def connection_lost(self, exc):
        if self._header_deadline is not None:
            self._header_deadline.cancel()
        super().connection_lost(exc)


def _export(settings: Settings) -> None:
    """Workers are new processes that read the settings from the environment."""
    for f in fields(Settings):
        value = getattr(settings, f.name)
        os.environ[f.metadata["env"]] = ("1" if value else "0") if isinstance(value, bool) else str(value)


def run(settings: Settings, host: str, port: int, workers: int = 1, app=None) -> None:
    import uvicorn

    _export(settings)
    options = dict(host=host, port=port, http="web.server:GuardedH11Protocol", access_log=False,
                   server_header=False, proxy_headers=False, log_config=log_config(),
                   timeout_keep_alive=KEEP_ALIVE, timeout_graceful_shutdown=30,
                   timeout_worker_healthcheck=WORKER_START)
    if workers > 1:
        # Each worker builds its app from the environment (exported above).
        uvicorn.run("web.app:create_app", factory=True, workers=workers, **options)
    else:
        from .app import create_app

        uvicorn.run(app or create_app(settings), **options)
