"""bench/out/chart.png: CPU per stream and time to the first delta against concurrency."""

from __future__ import annotations

from pathlib import Path

from results import Results
from servers import CHUNKS, DELAY


def chart(results: Results, path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("  (no chart: pip install -r bench/requirements.txt)")
        return
    sweep = results["sweep"]
    levels = [int(x) for x in sweep["baseline"]]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110)
    styles = {
        "baseline": ("#d62728", "FastAPI + uvicorn + AsyncOpenAI"),
        "messagebot": ("#1f77b4", "MessageBot (Quart + Hypercorn)"),
        "direct": ("#7f7f7f", "fake upstream, direct"),
    }
    for name in ("baseline", "messagebot"):
        color, label = styles[name]
        ax1.plot(
            levels,
            [sweep[name][str(c)]["server_cpu_ms_per_stream"] for c in levels],
            "o-",
            color=color,
            label=label,
        )
    ax1.plot(
        levels,
        [0.5 * sweep["baseline"][str(c)]["server_cpu_ms_per_stream"] for c in levels],
        "--",
        color="#d62728",
        alpha=0.45,
        linewidth=1,
        label="goal: 0.5x the baseline",
    )
    ax1.plot(
        levels,
        [sweep["direct"][str(c)]["fake_cpu_ms_per_stream"] for c in levels],
        "s:",
        color="#7f7f7f",
        label="the fake upstream itself",
    )
    ax1.set_xscale("log")
    ax1.set_xticks(levels, [str(c) for c in levels])
    ax1.set_ylim(bottom=0)
    ax1.set_xlabel("concurrent streams (one worker)")
    ax1.set_ylabel("server CPU per stream (ms)")
    ax1.set_title("CPU per 50-chunk stream")
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=8)
    for name in ("baseline", "messagebot", "direct"):
        color, label = styles[name]
        p50 = [sweep[name][str(c)]["ttft_ms"]["p50"] for c in levels]
        p99 = [sweep[name][str(c)]["ttft_ms"]["p99"] for c in levels]
        ax2.plot(levels, p50, "o-", color=color, label=f"{label} p50")
        ax2.plot(levels, p99, "^--", color=color, alpha=0.7, label=f"{label} p99")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xticks(levels, [str(c) for c in levels])
    ax2.set_xlabel("concurrent streams (one worker)")
    ax2.set_ylabel("time to first delta (ms)")
    ax2.set_title("Latency to the first token")
    ax2.grid(alpha=0.3, which="both")
    ax2.legend(fontsize=7)
    m = results["machine"]
    fig.suptitle(
        f"Fake upstream: {CHUNKS} chunks, {DELAY * 1000:.0f} ms apart; {m['cores']} cores, "
        f"load client and fake on the same machine",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
