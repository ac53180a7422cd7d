"""Local provider throughput: MessageBot's tokens/s against llama-cpp-python called directly.

Run by bench/run.py as its own process (it loads the model, ~2 s):

    python bench/local.py '{"runs": 4, "http_port": 8200, "http_runs": 6}'

1. In-process, long generations: the provider object (`LocalProvider.open` → `pieces()`, its
   worker thread and the hand-off to the event loop) against `create_completion` on the same
   loaded model, same prompt text (`build_prompt(..., "completion")`), same `SAMPLING`, with
   the one-line stop removed (`stop=()`, `max_tokens=200`) so every run writes ~200 tokens.
   Alternated, `runs` times each. Through HTTP the completion prompt always stops at the first
   newline, so long generations can only be measured this way.
   The prompt's best-of-n and sentence stop (issue 17) are turned off for this part, so both
   sides stream one candidate.
2. Through HTTP (`messagebot serve` with MESSAGEBOT_PROVIDER=local, started by run.py): short
   one-line messages, tokens counted from `done.usage.completion_tokens` (every candidate of
   best-of-3 included), timed from the first to the last delta; against `create_completion`
   with the same prompt and stops. Alternated. Best-of-3 sends a message whole once judged,
   so only the end-to-end rate means something here.

tokens/s = (tokens - 1) / (time of the last token - time of the first token), so prompt
evaluation and start-up are left out of both sides. For the short HTTP messages that figure is
shaky (a dozen tokens; the service may hold a leading space back), so an end-to-end rate is
also given: tokens / (time from the call, or the request sent, to the end of the generation).
"""

from __future__ import annotations

import asyncio
import dataclasses
import http.client
import json
import os
import statistics
import sys
import time
from typing import Any

BODY = {"name": "Minji", "relation": "wife", "reason": "birthday", "max_length": "200"}


def rate(count: int, first: float, last: float) -> float | None:
    if count < 2 or last <= first:
        return None
    return (count - 1) / (last - first)


def raw_run(
    llama: Any, prompt: Any, sampling: dict[str, Any]
) -> tuple[int, float | None, float | None]:
    start = time.perf_counter()
    stream = llama.create_completion(
        prompt.text,
        max_tokens=prompt.max_tokens,
        stop=list(prompt.stop),
        stream=True,
        **sampling,
    )
    count, first, last = 0, 0.0, 0.0
    for chunk in stream:
        if chunk["choices"][0]["text"]:
            now = time.perf_counter()
            count += 1
            first = first or now
            last = now
    end = time.perf_counter()
    return count, rate(count, first, last), count / (end - start) if count else None


async def provider_run(provider: Any, prompt: Any) -> tuple[int, float | None, float | None]:
    start = time.perf_counter()
    generation = await provider.open(prompt)
    count, first, last = 0, 0.0, 0.0
    try:
        async for _piece in generation.pieces():
            now = time.perf_counter()
            count += 1
            first = first or now
            last = now
    finally:
        await generation.aclose()
    end = time.perf_counter()
    return count, rate(count, first, last), count / (end - start) if count else None


def http_run(port: int) -> tuple[int, float | None, float | None]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.connect()
    start = time.perf_counter()
    conn.request(
        "POST",
        "/v1/messages/stream",
        json.dumps(BODY),
        {"Content-Type": "application/json"},
    )
    response = conn.getresponse()
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {response.read()[:200]!r}")
    buffer = b""
    first = last = 0.0
    tokens = 0
    while True:
        data = response.read1(65536)
        if not data:
            break
        now = time.perf_counter()
        buffer += data
        if b"event: delta" in data:
            first = first or now
            last = now
        if b"event: done" in buffer and buffer.endswith(b"\n\n"):
            break
    end = time.perf_counter()
    conn.close()
    for block in buffer.split(b"\n\n"):
        if block.startswith(b"event: done"):
            done = json.loads(block.split(b"data: ", 1)[1])
            tokens = int((done.get("usage") or {}).get("completion_tokens") or 0)
    return tokens, rate(tokens, first, last), tokens / (end - start) if tokens else None


def summary(runs: list[tuple[int, float | None, float | None]]) -> dict[str, Any]:
    rates = [r[1] for r in runs if r[1]]
    whole = [r[2] for r in runs if r[2]]
    return {
        "runs": len(runs),
        "tokens": [r[0] for r in runs],
        "tokens_per_s": rates,
        "median": statistics.median(rates) if rates else None,
        "end_to_end_tokens_per_s": whole,
        "end_to_end_median": statistics.median(whole) if whole else None,
    }


async def main_async(job: dict[str, Any]) -> dict[str, Any]:
    from messagebot.config import Settings
    from messagebot.providers.local import SAMPLING, LocalProvider, assemble_bundled_model
    from messagebot.request import validate_fields
    from messagebot.text.prompts import build_prompt

    path = assemble_bundled_model()  # the cached GGUF the provider loads
    settings = Settings.from_env({"MESSAGEBOT_PROVIDER": "local"})
    provider = LocalProvider(settings)
    await provider.startup()
    # The provider's own loaded model (same GGUF, n_threads, context) when it exposes it.
    llama = getattr(provider, "llama", None)
    if llama is None:
        from llama_cpp import Llama

        threads = settings.local_threads or os.cpu_count() or 1
        llama = Llama(
            model_path=str(path),
            n_ctx=2048,
            n_threads=threads,
            n_threads_batch=threads,
            verbose=False,
        )
    request = validate_fields(dict(BODY))
    short = build_prompt(request, "en", "completion")
    # One candidate streamed as it is written, with no stop: the provider's hand-off against
    # the bare call. (The request's own prompt asks for best-of-3 and a sentence stop since
    # issue 17: then every piece reaches the loop at once when the message is judged, and a
    # rate from the first piece to the last measured nothing: 72,000 tokens/s.)
    long = dataclasses.replace(
        short,
        stop=(),
        max_tokens=int(job.get("max_tokens", 200)),
        finish_after=0,
        max_chars=0,
        candidates=1,
        check=None,
        sentence_check=None,  # and no sentence held back to be judged (issue 26)
    )
    runs = int(job.get("runs", 4))
    out: dict[str, Any] = {
        "n_threads": getattr(getattr(llama, "context_params", None), "n_threads", None),
        "max_tokens": long.max_tokens,
        "prompt_chars": len(long.text),
    }
    loop = asyncio.get_running_loop()
    # A warm-up of each, then alternate.
    await loop.run_in_executor(None, raw_run, llama, long, SAMPLING)
    await provider_run(provider, long)
    raw: list[tuple[int, float | None, float | None]] = []
    prov: list[tuple[int, float | None, float | None]] = []
    for _ in range(runs):
        # The raw call runs on a worker thread too, as the provider's does; never both at once.
        raw.append(await loop.run_in_executor(None, raw_run, llama, long, SAMPLING))
        prov.append(await provider_run(provider, long))
    out["inprocess"] = {"raw": summary(raw), "provider": summary(prov)}
    port = job.get("http_port")
    if port:
        http_runs = int(job.get("http_runs", 6))
        await loop.run_in_executor(None, http_run, port)  # warm-up
        raw, service = [], []
        for _ in range(http_runs):
            service.append(await loop.run_in_executor(None, http_run, port))
            raw.append(await loop.run_in_executor(None, raw_run, llama, short, SAMPLING))
        out["http_short"] = {"raw": summary(raw), "service": summary(service)}
    await provider.shutdown()
    return out


def main() -> None:
    job = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    print(json.dumps(asyncio.run(main_async(job))), flush=True)


if __name__ == "__main__":
    main()
