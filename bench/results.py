"""The bench's results: the machine they were measured on, and the headline figures derived
from them (`figures`)."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import statistics
from typing import Any


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as file:
        for line in file:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = {}
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


def figures(results: dict[str, Any]) -> dict[str, Any]:
    sweep = results["sweep"]
    cpu200 = {
        name: [sweep[name]["200"]["server_cpu_ms_per_stream"]]
        + [r["server_cpu_ms_per_stream"] for r in results["repeat_200"][name]]
        for name in ("baseline", "messagebot")
    }
    ttft = results["ttft_sequential"]
    direct_p50 = ttft["direct"]["ms"]["p50"]
    fig: dict[str, Any] = {
        "cpu_ms_per_stream_200": {k: median(v) for k, v in cpu200.items()},
        "cpu_ms_per_stream_200_samples": cpu200,
        "first_token_p50_ms": {k: v["ms"]["p50"] for k, v in ttft.items()},
        "first_token_overhead_p50_ms": {
            k: ttft[k]["ms"]["p50"] - direct_p50 for k in ("baseline", "messagebot")
        },
    }
    fig["cpu_ratio_200"] = (
        fig["cpu_ms_per_stream_200"]["messagebot"] / fig["cpu_ms_per_stream_200"]["baseline"]
    )
    at400 = {name: sweep[name]["400"] for name in sweep}
    fig["c400"] = {
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
    }
    fig["rss_kb_per_open_stream"] = {k: v["kb_per_stream"] for k, v in results["memory"].items()}
    local = results.get("local")
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
    fig["sweep"] = {
        level: {
            "cpu_ms_per_stream": {
                n: sweep[n][level]["server_cpu_ms_per_stream"] for n in ("baseline", "messagebot")
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
    }
    client = [r["client_cpu_pct"] for s in sweep.values() for r in s.values()]
    fake = [r["fake_cpu_pct"] for s in sweep.values() for r in s.values()]
    fig["other_cpu_pct_max"] = max(r["other_cpu_pct"] for s in sweep.values() for r in s.values())
    fig["load_client_cpu_pct_max"] = max(client)
    fig["fake_cpu_pct_max"] = max(fake)
    return fig
