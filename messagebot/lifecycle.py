"""Graceful shutdown on SIGTERM, as Heroku asks: finish what runs, then exit in time.

Heroku sends SIGTERM to every process of a dyno and kills them 30 s later. On SIGTERM (and
SIGINT) every process that serves the app begins the service's shutdown: new generations get a
503 `server_shutdown`, running streams get MESSAGEBOT_SHUTDOWN_GRACE_S (25 s) to finish, and
the rest then end with an `error` event `server_shutdown`. Stopping the server itself is left
to whoever runs it:

- `hypercorn --workers N` (the Procfile): Hypercorn's master catches SIGTERM and tells its
  workers to stop accepting and to wait for running requests (its graceful timeout). A worker
  has no SIGTERM handler of its own, so without ours it would die at once.
- `hypercorn --workers 0` and `messagebot serve`: the server runs in this process, and its own
  handler (set with `loop.add_signal_handler`) stops it; ours runs as well.

In every mode Hypercorn cancels what still runs once its graceful timeout is over (3 s unless
`--graceful-timeout` says otherwise): keep it above the grace, as the Procfile (28 s) and
`messagebot serve` (the grace + 3 s) do.

With public APIs only: a loop keeps one handler per signal and has no way to read it, so
`loop.add_signal_handler` would replace the server's. We chain at Python's level instead:
`signal.signal` puts our handler in place of the one there and returns that one, which ours
calls after it. Ours runs between two bytecodes of the main thread, possibly inside the loop's
own code, so it only schedules the shutdown (`loop.call_soon_threadsafe`). A loop's own
handlers (asyncio's and uvloop's) still run: the loop reads signal numbers from the file
descriptor it gave to `signal.set_wakeup_fd`, which CPython writes to in C for every signal
that has a Python-level handler, whichever that handler is (CPython's `trip_signal`; both
loops' `add_signal_handler` rely on it). After serving, the handler we replaced is put back,
unless ours has been replaced since (`asyncio.Runner` follows the same rule for SIGINT).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from types import FrameType
from typing import Any

from quart import Quart

from .generation import GenerationService

_SIGNALS = (signal.SIGTERM, signal.SIGINT)

_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


def init_app(app: Quart, service: GenerationService) -> None:
    replaced: dict[signal.Signals, tuple[_Handler, _Handler]] = {}  # signal: (ours, before)

    @app.before_serving
    async def handle_signals() -> None:
        loop = asyncio.get_running_loop()
        for sig in _SIGNALS:
            before = signal.getsignal(sig)
            if before is None:
                continue  # a handler set outside Python, which we could not call: leave it
            ours = _chain(loop, service, before)
            try:
                signal.signal(sig, ours)
            except ValueError:
                return  # not the main thread: signals are for whoever runs the loop there
            replaced[sig] = (ours, before)

    @app.after_serving
    async def restore_signals() -> None:
        for sig, (ours, before) in replaced.items():
            if signal.getsignal(sig) is ours:
                signal.signal(sig, before)
        replaced.clear()


def _chain(
    loop: asyncio.AbstractEventLoop, service: GenerationService, before: _Handler
) -> Callable[[int, FrameType | None], None]:
    """A signal handler that begins the shutdown on `loop`, then calls `before` (SIG_DFL and
    SIG_IGN are not called: where nothing handled the signal, it no longer kills us)."""

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if not loop.is_closed():
            loop.call_soon_threadsafe(service.begin_shutdown)
        if callable(before):
            before(signum, frame)

    return on_signal
