"""The bench's results, typed: what bench/out/results.json holds, key for key (TypedDicts are
plain dicts at run time, so the JSON is what it was), the machine they were measured on, and
the headline figures derived from them (`figures`)."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import statistics
from typing import NotRequired, TypedDict

# -- what the load client and local.py report (their JSON, as read back) ----------------------


class Percentiles(TypedDict):
    """loadgen's percentiles of a batch's times in ms; None when no request succeeded."""

    p50: float | None
    p90: float | None
    p99: float | None
    max: float | None
    mean: float | None


class LoadSummary(TypedDict):
    """loadgen's answer to a "load" job: `concurrency` workers' streams, and the CPU seconds of
    the processes it watched (by pid, as a string), its own, and the rest of the machine's."""

    requests: int
    ok: int
    errors: int
    error_kinds: dict[str, int]
    ttft_ms: Percentiles
    total_ms: Percentiles
    body_bytes_mean: float
    concurrency: int
    wall_s: float
    client_cpu_s: float
    cpu_s: dict[str, float]
    other_cpu_pct: float
    client_loop: str


class Batch(LoadSummary):
    """A load batch against one target ("direct", "baseline" or "messagebot"), with its CPU
    worked out per stream and as a share of the batch's wall time."""

    target: str
    fake_cpu_ms_per_stream: float
    fake_cpu_pct: float
    client_cpu_pct: float
    server_cpu_ms_per_stream: NotRequired[float]  # not for "direct": no server in between
    server_cpu_pct: NotRequired[float]


class FirstToken(TypedDict):
    """One target of loadgen's "ttft" job (sequential requests)."""

    errors: int
    samples: int
    ms: Percentiles


class Hold(TypedDict):
    """A server's RSS with `streams` streams open and idle."""

    streams: int
    open: int
    rss_before_mb: float
    rss_open_mb: float
    rss_after_mb: float
    kb_per_stream: float


class CostSplit(TypedDict):
    """5- against 50-chunk streams at c=25: the cost of a request and of a chunk."""

    cpu_ms_per_stream_5_chunks: float
    cpu_ms_per_stream_50_chunks: float
    per_chunk_us: float
    per_request_ms: float
    errors: int


class ProfileSummary(TypedDict):
    """py-spy's samples of one server, classified (profiling.summarize_profile): (name, % of
    samples) pairs, best first."""

    samples: int
    by_owner_pct: list[tuple[str, float]]
    stages_pct: list[tuple[str, float]]
    inclusive_by_owner_pct: list[tuple[str, float]]
    self_top_functions_pct: list[tuple[str, float]]
    inclusive_top_functions_pct: list[tuple[str, float]]


class ProfileBatch(TypedDict):
    requests: int
    errors: int
    server_cpu_ms_per_stream: float


class Profile(ProfileSummary):
    """The summary and the 200-stream batch it was sampled during."""

    batch: ProfileBatch


class LocalRuns(TypedDict):
    """local.py's summary of one side's generations."""

    runs: int
    tokens: list[int]
    tokens_per_s: list[float]
    median: float | None
    end_to_end_tokens_per_s: list[float]
    end_to_end_median: float | None


class LocalInProcess(TypedDict):
    raw: LocalRuns
    provider: LocalRuns


class LocalHttp(TypedDict):
    raw: LocalRuns
    service: LocalRuns


class Local(TypedDict):
    """local.py's answer."""

    n_threads: int | None
    max_tokens: int
    prompt_chars: int
    inprocess: LocalInProcess
    http_short: NotRequired[LocalHttp]


# -- the run ----------------------------------------------------------------------------------


class Machine(TypedDict):
    cpu: str
    cores: int | None
    python: str
    kernel: str
    loadavg_at_start: tuple[float, float, float]
    versions: dict[str, str]


class FakeUpstream(TypedDict):
    chunks: int
    delay_s: float


class Setup(TypedDict):
    fake_upstream: FakeUpstream
    levels: list[int]
    per_worker: dict[int, int]  # streams per worker at each level
    quick: bool
    baseline_server: str


class Profiled(TypedDict, total=False):
    """Only with --profile: each server's profile, None if py-spy was missing or wrote nothing."""

    profile: dict[str, Profile | None]


class Measured(Profiled):
    """Everything measured; target names are "direct", "baseline", "messagebot", levels are
    concurrencies as strings (as in the JSON)."""

    machine: Machine
    setup: Setup
    memory: dict[str, Hold]
    ttft_sequential: dict[str, FirstToken]
    sweep: dict[str, dict[str, Batch]]  # target -> level -> batch
    repeat_200: dict[str, list[Batch]]
    split: dict[str, CostSplit]
    fake_log_lines: int
    local: Local | None
    elapsed_s: float


class At400(TypedDict):
    errors: int
    requests: int
    ttft_p99_ms: float | None
    total_p99_ms: float | None
    added_ttft_p99_ms: float  # minus direct's, at 400 too
    added_total_p99_ms: float


class LevelFigures(TypedDict):
    """One concurrency level of the sweep, by target."""

    cpu_ms_per_stream: dict[str, float]
    cpu_ratio: float  # MessageBot / baseline
    server_cpu_pct: dict[str, float]
    streams_per_s: dict[str, float]
    ttft_p50_ms: dict[str, float | None]
    ttft_p99_ms: dict[str, float | None]
    errors: dict[str, int]


class LocalFigures(TypedDict, total=False):
    """Only with the local provider measured; a ratio only when both medians are known."""

    local_inprocess_tokens_per_s: dict[str, float | None]  # "raw", "provider"
    local_inprocess_ratio: float
    local_http_short_tokens_per_s: dict[str, float | None]  # "raw", "service"
    local_http_short_ratio: float
    local_http_short_end_to_end_tokens_per_s: dict[str, float | None]
    local_http_short_end_to_end_ratio: float


class Figures(LocalFigures):
    """The headline figures (the printed table), by target where a dict."""

    cpu_ms_per_stream_200: dict[str, float]  # median of the samples
    cpu_ms_per_stream_200_samples: dict[str, list[float]]
    first_token_p50_ms: dict[str, float | None]
    first_token_overhead_p50_ms: dict[str, float]
    cpu_ratio_200: float
    c400: dict[str, At400]
    rss_kb_per_open_stream: dict[str, float]
    sweep: dict[str, LevelFigures]  # level -> figures
    other_cpu_pct_max: float
    load_client_cpu_pct_max: float
    fake_cpu_pct_max: float


class Results(Measured):
    """bench/out/results.json."""

    figures: Figures


# -- machine and figures ----------------------------------------------------------------------


def machine() -> Machine:
    model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as file:
        for line in file:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions: dict[str, str] = {}
    for dist in (
        "messagebot",
        "openai",
        "httpx2",
        "httpx",
        "pydantic",
        "quart",
        "hypercorn",
        "h11",
        "fastapi",
        "starlette",
        "uvicorn",
        "uvloop",
        "llama-cpp-python",
    ):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[dist] = importlib.metadata.version(dist)
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "loadavg_at_start": os.getloadavg(),
        "versions": versions,
    }


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def known(value: float | None, what: str) -> float:
    """A percentile a figure is computed from; None only if every request behind it failed."""
    if value is None:
        raise ValueError(f"no {what}: every request failed")
    return value


def figures(results: Measured) -> Figures:
    sweep = results["sweep"]
    cpu200 = {
        name: [sweep[name]["200"]["server_cpu_ms_per_stream"]]
        + [r["server_cpu_ms_per_stream"] for r in results["repeat_200"][name]]
        for name in ("baseline", "messagebot")
    }
    cpu_ms_per_stream_200 = {k: median(v) for k, v in cpu200.items()}
    ttft = results["ttft_sequential"]
    direct_p50 = known(ttft["direct"]["ms"]["p50"], "direct first-token p50")
    at400 = {name: sweep[name]["400"] for name in sweep}
    client = [r["client_cpu_pct"] for s in sweep.values() for r in s.values()]
    fake = [r["fake_cpu_pct"] for s in sweep.values() for r in s.values()]
    return {
        "cpu_ms_per_stream_200": cpu_ms_per_stream_200,
        "cpu_ms_per_stream_200_samples": cpu200,
        "first_token_p50_ms": {k: v["ms"]["p50"] for k, v in ttft.items()},
        "first_token_overhead_p50_ms": {
            k: known(ttft[k]["ms"]["p50"], f"{k} first-token p50") - direct_p50
            for k in ("baseline", "messagebot")
        },
        "cpu_ratio_200": cpu_ms_per_stream_200["messagebot"] / cpu_ms_per_stream_200["baseline"],
        "c400": {
            name: {
                "errors": at400[name]["errors"],
                "requests": at400[name]["requests"],
                "ttft_p99_ms": at400[name]["ttft_ms"]["p99"],
                "total_p99_ms": at400[name]["total_ms"]["p99"],
                "added_ttft_p99_ms": (at400[name]["ttft_ms"]["p99"] or 0)
                - (at400["direct"]["ttft_ms"]["p99"] or 0),
                "added_total_p99_ms": (at400[name]["total_ms"]["p99"] or 0)
                - (at400["direct"]["total_ms"]["p99"] or 0),
            }
            for name in ("baseline", "messagebot")
        },
        "rss_kb_per_open_stream": {k: v["kb_per_stream"] for k, v in results["memory"].items()},
        **local_figures(results["local"]),
        "sweep": {
            level: {
                "cpu_ms_per_stream": {
                    n: sweep[n][level]["server_cpu_ms_per_stream"]
                    for n in ("baseline", "messagebot")
                },
                "cpu_ratio": sweep["messagebot"][level]["server_cpu_ms_per_stream"]
                / sweep["baseline"][level]["server_cpu_ms_per_stream"],
                "server_cpu_pct": {
                    n: sweep[n][level]["server_cpu_pct"] for n in ("baseline", "messagebot")
                },
                "streams_per_s": {
                    n: sweep[n][level]["requests"] / sweep[n][level]["wall_s"] for n in sweep
                },
                "ttft_p50_ms": {n: sweep[n][level]["ttft_ms"]["p50"] for n in sweep},
                "ttft_p99_ms": {n: sweep[n][level]["ttft_ms"]["p99"] for n in sweep},
                "errors": {n: sweep[n][level]["errors"] for n in sweep},
            }
            for level in sweep["baseline"]
        },
        "other_cpu_pct_max": max(r["other_cpu_pct"] for s in sweep.values() for r in s.values()),
        "load_client_cpu_pct_max": max(client),
        "fake_cpu_pct_max": max(fake),
    }


def local_figures(local: Local | None) -> LocalFigures:
    fig: LocalFigures = {}
    if local:
        inproc = local["inprocess"]
        fig["local_inprocess_tokens_per_s"] = {
            "raw": inproc["raw"]["median"],
            "provider": inproc["provider"]["median"],
        }
        if inproc["raw"]["median"] and inproc["provider"]["median"]:
            fig["local_inprocess_ratio"] = inproc["provider"]["median"] / inproc["raw"]["median"]
        if "http_short" in local:
            h = local["http_short"]
            fig["local_http_short_tokens_per_s"] = {
                "raw": h["raw"]["median"],
                "service": h["service"]["median"],
            }
            if h["raw"]["median"] and h["service"]["median"]:
                fig["local_http_short_ratio"] = h["service"]["median"] / h["raw"]["median"]
            fig["local_http_short_end_to_end_tokens_per_s"] = {
                "raw": h["raw"]["end_to_end_median"],
                "service": h["service"]["end_to_end_median"],
            }
            if h["raw"]["end_to_end_median"] and h["service"]["end_to_end_median"]:
                fig["local_http_short_end_to_end_ratio"] = (
                    h["service"]["end_to_end_median"] / h["raw"]["end_to_end_median"]
                )
    return fig
