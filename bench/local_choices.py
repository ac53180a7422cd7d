"""The embedded model (issue 26): when the first text of a message goes out, and what `n` = 3
costs against `n` = 1, in one run, in-process (the provider as the service drives it).

    python bench/local_choices.py [--cases 32] [--rounds 12] [--threads 2] [--http 27]

1. Streaming: every other request of the evaluation set (prompts/eval_cases.json; `--cases`
   of them), `n` = 1, as `/v1/messages` and the stream ask it: the time from the request to its
   first piece, and to its end; the first piece's share of the whole (p50: issue 26 asks for a
   third at most); prompt evaluation alone (the batch decoding just the prompt) beside it; the
   share of messages that pass every check of text/quality.py.
2. `n`: `--rounds` requests from the set, each as `n` = 1, `n` = 3 in one batch, and three
   `n` = 1 one after the other (what `n` = 3 cost before), in a rotating order. The prompt
   cache is emptied before each, so each pays for its prompt. Wall time to the last message's
   end; how often the three messages differ (exactly, and beyond case and punctuation).

3. `--http` requests (0: skipped) through a real server (`messagebot serve`, the local
   provider, its own process, started after the in-process provider is shut down): `POST
   /v1/messages`, `n` = 1, one at a time, the same cases in turn: wall time per request p50
   (issue 26 asks for about 2 s or less).

Load the machine with nothing else while it runs: the figures are wall times. Prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from messagebot.config import Settings
from messagebot.evaluation import judge, load_eval_cases
from messagebot.providers.local import LocalGeneration, LocalProvider
from messagebot.text.prompts import Prompt, build_prompt


async def timed(provider: LocalProvider, prompt: Prompt, n: int, seed: int) -> dict[str, Any]:
    """One request of `n` messages: when its first piece came, when it ended, its texts."""
    provider.batch_cached = []  # pay for the prompt (the next _Batch clears the context)
    start = time.perf_counter()
    generations = (
        [await provider.open(prompt, seed)]
        if n == 1
        else await provider.open_many(prompt, n, seed) or []
    )
    firsts: list[float] = []

    async def read(generation: LocalGeneration) -> str:
        parts = []
        async for piece in generation.pieces():
            if not parts:
                firsts.append(time.perf_counter() - start)
            parts.append(piece)
        return "".join(parts)

    texts = await asyncio.gather(*(read(g) for g in generations))
    return {
        "first": min(firsts) if firsts else None,
        "total": time.perf_counter() - start,
        "texts": texts,
        "tokens": [g.usage["completion_tokens"] if g.usage else 0 for g in generations],
    }


def p50(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def squash(text: str) -> str:
    return re.sub(r"\W+", "", text.lower())


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--threads", default=os.environ.get("MESSAGEBOT_LOCAL_THREADS", "2"))
    parser.add_argument("--http", type=int, default=27)
    args = parser.parse_args()
    env = {"MESSAGEBOT_PROVIDER": "local", "MESSAGEBOT_LOCAL_THREADS": args.threads}
    provider = LocalProvider(Settings.from_env(env))
    await provider.startup()
    cases = load_eval_cases()[::2][: args.cases]
    print(f"{len(cases)} cases, {args.threads} threads, load {os.getloadavg()[0]:.1f}")
    try:
        prompts = [
            build_prompt(case.request, case.request.language or "en", provider.prompt_style)
            for case in cases
        ]
        await timed(provider, prompts[0], 1, 1)  # warm-up: the batch context is made
        # 1. Streaming, n = 1.
        shares, totals, firsts, prompt_only, passed = [], [], [], [], 0
        for index, (case, prompt) in enumerate(zip(cases, prompts, strict=True)):
            run = await timed(provider, prompt, 1, index)
            bare = await timed(provider, Prompt(max_tokens=1, text=prompt.text), 1, index)
            totals.append(run["total"])
            firsts.append(run["first"])
            shares.append(run["first"] / run["total"])
            prompt_only.append(bare["total"])
            passed += judge(case, run["texts"][0]).all_passed
            print(
                f"  {run['first']:.2f}/{run['total']:.2f} s (prompt {bare['total']:.2f} s) "
                f"{run['texts'][0]!r}",
                flush=True,
            )
        print(
            f"n=1: first piece p50 {p50(firsts):.2f} s, whole message p50 {p50(totals):.2f} s "
            f"(mean {statistics.fmean(totals):.2f}, max {max(totals):.2f}); prompt evaluation "
            f"alone p50 {p50(prompt_only):.2f} s"
        )
        print(
            f"first piece's share of the message's time: p50 {p50(shares):.2f} "
            f"(max {max(shares):.2f}); all checks passed {passed}/{len(cases)}; sentences "
            f"written again {provider.sentences_rewritten}"
        )
        # 2. n = 3 against n = 1 and three n = 1 in a row.
        walls: dict[str, list[float]] = {"n=1": [], "n=3 batch": [], "3 x n=1": []}
        exact = loose = 0
        for round_ in range(args.rounds):
            prompt = prompts[round_ % len(prompts)]
            kinds = list(walls)
            kinds = kinds[round_ % 3 :] + kinds[: round_ % 3]
            for kind in kinds:
                if kind == "n=1":
                    walls[kind].append((await timed(provider, prompt, 1, round_))["total"])
                elif kind == "n=3 batch":
                    run = await timed(provider, prompt, 3, round_)
                    walls[kind].append(run["total"])
                    exact += len(set(run["texts"])) == 3
                    loose += len({squash(text) for text in run["texts"]}) == 3
                else:
                    start = time.perf_counter()
                    for k in range(3):
                        await timed(provider, prompt, 1, round_ * 3 + k)
                    walls[kind].append(time.perf_counter() - start)
        one = p50(walls["n=1"])
        for kind, values in walls.items():
            print(
                f"{kind:>10}: wall p50 {p50(values):.2f} s, mean {statistics.fmean(values):.2f} s"
                f", {p50(values) / one:.2f}x n=1"
            )
        ratios = [b / a for a, b in zip(walls["n=1"], walls["n=3 batch"], strict=True)]
        print(
            f"n=3 batch / n=1, per request: p50 {p50(ratios):.2f}, max {max(ratios):.2f}; "
            f"three different texts {exact}/{args.rounds}, different beyond case and "
            f"punctuation {loose}/{args.rounds}"
        )
    finally:
        await provider.shutdown()
    if args.http:
        http_p50(cases, args.http, args.threads)
    return 0


def http_p50(cases: list[Any], requests: int, threads: str) -> None:
    """Part 3: `POST /v1/messages`, n = 1, against `messagebot serve` on loopback."""
    import tempfile

    import httpx
    from servers import Server, clean_env, free_port, messagebot_cmd

    port = free_port()
    env = clean_env(MESSAGEBOT_PROVIDER="local", MESSAGEBOT_LOCAL_THREADS=threads)
    handle, name = tempfile.mkstemp(prefix="local_choices_serve_", suffix=".log")
    os.close(handle)  # Server opens the file by its name
    log = Path(name)
    argv = [*messagebot_cmd(), "serve", "--port", str(port)]
    server = Server("messagebot", argv, env, log, f"http://127.0.0.1:{port}")
    try:
        server.wait_ready("/healthz", timeout=120)
        walls, failed = [], 0
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for index in range(requests + 1):
                body = cases[index % len(cases)].request.model_dump(exclude_none=True)
                start = time.perf_counter()
                response = client.post("/v1/messages", json=body)
                if not index:
                    continue  # the first warms the model up
                if response.status_code == 200:
                    walls.append(time.perf_counter() - start)
                else:
                    failed += 1
        print(
            f"POST /v1/messages, n=1, a real server: p50 {p50(walls):.2f} s, max "
            f"{max(walls):.2f} s over {len(walls)} answered requests ({failed} not 200, left out)"
        )
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
