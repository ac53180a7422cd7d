"""Graceful shutdown on SIGTERM, as Heroku asks: finish what runs, then exit in time.

Heroku sends SIGTERM to every process of a dyno and kills them 30 s later. Hypercorn's master
then tells its workers to stop accepting and to wait for running requests (its graceful
timeout); but a worker that gets SIGTERM itself would die at once. So each worker handles
SIGTERM: running streams get the grace period (MESSAGEBOT_SHUTDOWN_GRACE_S, 25 s) and then end
with an `error` event `server_shutdown`.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Any

from quart import Quart

from .generation import Writer

_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_NO_HANDLER = (signal.SIG_DFL, signal.SIG_IGN, signal.default_int_handler, None)


def init_app(app: Quart, writer: Writer) -> None:
    previous: dict[signal.Signals, Any] = {}

    @app.before_serving
    async def handle_signals() -> None:
        loop = asyncio.get_running_loop()
        # Where the server runs in this process (`messagebot serve`, hypercorn --workers 0),
        # it has a handler of its own that stops it: call that one too. asyncio keeps one
        # handler per signal in a table with no public way to read it; uvloop has none.
        table = getattr(loop, "_signal_handlers", None)
        for sig in _SIGNALS:
            if table is not None:
                previous[sig] = table.get(sig)
            elif signal.getsignal(sig) in _NO_HANDLER:
                previous[sig] = None  # a Hypercorn worker: nobody handles SIGTERM but us
            else:
                # A handler we cannot chain to (uvloop): leave the server's own in place.
                # `messagebot serve` begins the shutdown from its handler itself.
                continue

            def on_signal(before: Any = previous[sig]) -> None:
                writer.begin_shutdown()
                if before is not None:
                    before._callback(*before._args)

            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, on_signal)  # fails off the main thread

    @app.after_serving
    async def restore_signals() -> None:
        loop = asyncio.get_running_loop()
        for sig, before in previous.items():
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
                if before is not None:
                    loop.add_signal_handler(sig, before._callback, *before._args)
