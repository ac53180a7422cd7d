"""`messagebot serve` runs the service; `messagebot write` prints one message as it is written."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from .config import ConfigError, Settings


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - Windows, or a slimmed-down install
        return None
    return uvloop.new_event_loop


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config
    from hypercorn.utils import LifespanFailureError

    from . import create_app

    config = Config()
    config.bind = [f"{args.host}:{args.port or settings.port}"]
    if not settings.api_keys and args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"messagebot: warning: listening on {args.host} with no MESSAGEBOT_API_KEYS: "
            "anyone who reaches this port can spend your model budget",
            file=sys.stderr,
        )
    config.accesslog = None
    # Running streams get MESSAGEBOT_SHUTDOWN_GRACE_S and then a `server_shutdown` event;
    # Hypercorn must not cut them first.
    config.graceful_timeout = settings.shutdown_grace_s + 3
    app = create_app(settings)
    service = app.extensions["messagebot"]

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_signal() -> None:
            service.begin_shutdown()  # refuse new generations, end running ones in time
            stop.set()  # stop accepting; Hypercorn waits for running requests

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal)
        await serve(app, config, shutdown_trigger=stop.wait)

    try:
        # uvloop where it is installed (Linux, macOS): less CPU per stream under load (bench/).
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(run())
    except LifespanFailureError as error:
        # The app refused to start (say, a model file that does not load): say why, briefly.
        print(f"messagebot: start-up failed: {error}", file=sys.stderr)
        return 2
    return 0


def _check(settings: Settings) -> int:
    """What `hypercorn "messagebot:create_app()"` does in each worker, once, up front: a worker
    that stops on a bad setting does not fail Hypercorn's own exit status (it exits 0 whatever
    its workers did: pgjones/hypercorn#269), so a supervisor that restarts on failure would
    see a clean stop. The model is not loaded here: a model file that is there but does not
    load still stops the workers only."""
    from . import create_app

    create_app(settings)  # raises ConfigError on what Settings alone cannot see
    print(f"messagebot: configuration ok (provider {settings.provider})")
    return 0


def _write(args: argparse.Namespace, settings: Settings) -> int:
    from .errors import APIError
    from .generation import Choices, Delta, Done, Failure, GenerationService
    from .providers import make_provider
    from .request import resolve_language, validate_fields
    from .stats import MemoryStats

    fields: dict[str, Any] = {
        key: value
        for key, value in (
            ("name", args.name),
            ("relation", args.relation),
            ("reason", args.reason),
            ("manner", args.manner),
            ("draft", args.draft),
            ("max_length", args.max_length),
            ("language", args.language),
            ("n", args.n),
        )
        if value is not None
    }

    async def run() -> int:
        provider = make_provider(settings)
        await provider.startup()
        try:
            request = validate_fields(fields)
            stream = await GenerationService(provider, settings, MemoryStats()).begin(
                request, resolve_language(request, None)
            )
            if isinstance(stream, Choices):
                return await _print_choices(stream)
            async for item in stream.events():
                if isinstance(item, Delta):
                    sys.stdout.write(item.text)
                    sys.stdout.flush()
                elif isinstance(item, Done):
                    sys.stdout.write("\n")
                    return 0
                elif isinstance(item, Failure):
                    print(f"\nerror: {item.code}: {item.message}", file=sys.stderr)
                    return 1
            return 1
        except APIError as error:
            detail = "".join(f"\n  {k}: {v}" for k, v in (error.fields or {}).items())
            print(f"error: {error.code}: {error.message}{detail}", file=sys.stderr)
            return 2 if error.status == 422 else 1
        finally:
            await provider.shutdown()

    return asyncio.run(run())


async def _print_choices(choices: Any) -> int:
    """`-n` > 1: each message once written, numbered by its index (1, 2, 3), in that order."""
    from .generation import Done

    status = 0
    for outcome in await choices.results():
        number = outcome.index + 1
        if isinstance(outcome, Done):
            sys.stdout.write(f"{number}. {outcome.message}\n\n")
        else:
            print(f"{number}. error: {outcome.code}: {outcome.message}", file=sys.stderr)
            status = 1
    sys.stdout.flush()
    return status


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    from .errors import APIError
    from .evaluation import judge, load_eval_cases, report
    from .generation import Choices, Done, GenerationService
    from .providers import make_provider
    from .stats import MemoryStats

    async def run() -> int:
        provider = make_provider(settings)
        await provider.startup()
        service = GenerationService(provider, settings, MemoryStats())
        outcomes = []
        clock = asyncio.get_running_loop().time
        try:
            for case in load_eval_cases():
                request = case.request.model_copy(update={"n": args.n})
                started, cpu = clock(), time.process_time()
                try:
                    begun = await service.begin(request, request.language or "en")
                    results = (
                        await begun.results()
                        if isinstance(begun, Choices)
                        else [await begun.result()]
                    )
                except APIError as refused:
                    outcomes.append(judge(case, "", refused.code))
                    continue
                # Per message: a request's n share its time.
                took = (clock() - started) / len(results)
                used = (time.process_time() - cpu) / len(results)
                if args.show:
                    print(
                        f"{request.language} {request.name or '-'} · {request.relation} · "
                        f"{request.reason} · max {request.max_length}"
                    )
                # The pass rates are message 0's: what a request with n = 1 gets.
                for result in results:
                    message = result.message if isinstance(result, Done) else ""
                    failure = None if isinstance(result, Done) else result.code
                    outcome = judge(case, message, failure, took, used)
                    if result is results[0]:
                        outcomes.append(outcome)
                    if args.show and failure is not None:
                        print(f"  FAIL error: {failure}")
                    elif args.show:
                        mark = "ok  " if outcome.all_passed else "FAIL"
                        failed = [k for k, v in outcome.passed.items() if not v]
                        print(
                            f"  {mark} {message!r}"
                            + (f"  <- {', '.join(failed)}" if failed else "")
                        )
        finally:
            await provider.shutdown()
        print(f"provider {provider.name}, model {provider.model}")
        print(report(outcomes))
        rewritten = getattr(provider, "sentences_rewritten", None)
        if rewritten is not None:
            print(f"  sentences written again after failing a check: {rewritten}")
        ended = getattr(provider, "messages_ended_early", None)
        if ended is not None:
            print(f"  messages ended before a sentence that failed every try: {ended}")
        return 0

    return asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="messagebot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the web service")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (0.0.0.0 for every interface)"
    )
    serve.add_argument("--port", type=int, default=None, help="port (default: $PORT or 8000)")
    commands.add_parser(
        "check",
        help="build the service from the environment as a worker does, and exit: 0 if it "
        "would serve, 2 and the reason if not (the Procfile runs it before Hypercorn)",
    )
    write = commands.add_parser("write", help="print one message, streaming, to the terminal")
    # Required without --draft; the request's rules say so (validate_fields).
    write.add_argument("--relation", help="who they are to you (wife, boss, 친구…)")
    write.add_argument("--reason", help="occasion (birthday, 추석, thanks for …)")
    write.add_argument("--name", help="the recipient's name")
    write.add_argument(
        "--manner", help="tone (default: warm); with --draft, how to rewrite it (shorter…)"
    )
    write.add_argument(
        "--draft", help="your own text, to rewrite (--relation and --reason are optional then)"
    )
    write.add_argument("--max-length", type=int, dest="max_length", help="most characters")
    write.add_argument("--language", help="BCP 47 tag (ko, en, ja…); default: detected")
    write.add_argument(
        "-n", type=int, dest="n", help="how many different messages (1-5), printed numbered"
    )
    evaluate = commands.add_parser(
        "eval", help="run the evaluation set against the configured provider"
    )
    evaluate.add_argument("--show", action="store_true", help="print every message")
    evaluate.add_argument(
        "-n", type=int, default=1, help="messages per request (1-5); rates are the first's"
    )
    args = parser.parse_args(argv)
    if args.command == "eval" and not 1 <= args.n <= 5:
        parser.error("eval -n: between 1 and 5 (the API's n)")
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"messagebot: configuration error: {error}", file=sys.stderr)
        return 2
    try:
        if args.command == "serve":
            return _serve(args, settings)
        if args.command == "check":
            return _check(settings)
        if args.command == "eval":
            return _eval(args, settings)
        return _write(args, settings)
    except ConfigError as error:
        print(f"messagebot: configuration error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
