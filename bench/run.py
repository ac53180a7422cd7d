"""MessageBot's benchmark (issues 3 and 8): one command, one run, both systems, ratios.

    python bench/run.py            # the whole bench, ~4 minutes on 2 cores
    python bench/run.py --quick    # smaller batches, ~2 minutes (noisier)
    python bench/run.py --profile  # also sample both servers with py-spy under 200 streams

It starts, on loopback ports of its own:
  * the fake upstream (`python -m messagebot.fake_upstream --chunks 50 --delay 0.02`), shared;
  * the baseline relay (bench/baseline.py: FastAPI + uvicorn + StreamingResponse + AsyncOpenAI,
    as the seeds' posts write it), one worker;
  * MessageBot via its own `messagebot serve`, one process, OPENAI_BASE_URL at the fake;
and drives them with bench/loadgen.py (raw asyncio/uvloop HTTP/1.1, its own process). CPU is
read from /proc/<pid>/stat (utime+stime, children included) around each batch. With the local
extra installed it then measures the local provider (bench/local.py).

It prints the figures, writes bench/out/results.json and bench/out/chart.png, and (full runs)
copies the chart to docs/bench.png. The parts: servers.py (the processes, load batches),
profiling.py (py-spy and its classifier), results.py (the results' types, the figures),
report.py (the printed table), chart.py.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

# bench/ is this script's directory, so on sys.path.
from chart import chart
from profiling import profile
from report import report
from results import (
    Batch,
    CostSplit,
    FirstToken,
    Hold,
    Measured,
    Profiled,
    Results,
    Setup,
    figures,
    machine,
)
from servers import (
    CHUNKS,
    DELAY,
    HERE,
    ROOT,
    batch,
    hold,
    loadgen,
    run_local,
    servers,
    short_body,
    targets,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller batches (noisier)")
    parser.add_argument("--profile", action="store_true", help="py-spy both servers at 200")
    parser.add_argument("--no-local", action="store_true", help="skip the local provider")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument(
        "--baseline-standard",
        action="store_true",
        help="run the baseline's uvicorn with uvloop/httptools when installed",
    )
    parser.add_argument("--no-docs", action="store_true", help="do not copy to docs/bench.png")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    quick = args.quick
    levels = [10, 50, 100, 200, 400]
    # Streams per worker at each level: enough streams per batch, bounded time.
    per_worker = (
        {10: 3, 50: 2, 100: 2, 200: 2, 400: 1} if quick else {10: 4, 50: 3, 100: 3, 200: 3, 400: 2}
    )
    machine_info = machine()
    setup: Setup = {
        "fake_upstream": {"chunks": CHUNKS, "delay_s": DELAY},
        "levels": levels,
        "per_worker": per_worker,
        "quick": quick,
        "baseline_server": "uvicorn (uvloop/httptools if installed)"
        if args.baseline_standard
        else "uvicorn (asyncio loop, h11)",
    }
    t0 = time.monotonic()

    def lap() -> str:
        return f"at {time.monotonic() - t0:.0f} s"

    with servers(out, args) as srv:
        tgt = targets(srv)
        print(
            f"servers up: fake {srv['fake'].url}, baseline {srv['baseline'].url}, "
            f"messagebot {srv['messagebot'].url}"
        )
        for name in ("direct", "baseline", "messagebot"):
            batch(srv, tgt, name, 25, 2)  # warm-up: imports, pools, caches
        print(f"memory: idle streams held open ({lap()})")
        memory: dict[str, Hold] = {
            name: hold(srv, tgt, name, 200 if quick else 500) for name in ("baseline", "messagebot")
        }
        print(f"first token: sequential requests ({lap()})")
        # Short streams (2 chunks) read to the end on kept-alive connections: steady state,
        # no connection set-up on either side of the relay in the figure.
        short = {
            name: dict(t, body=short_body(t["body"], "[[fake chunks=2]]"))
            for name, t in tgt.items()
        }
        ttft = loadgen(
            {
                "kind": "ttft",
                "targets": short,
                "rounds": 60 if quick else 200,
                "warmup": 10 if quick else 20,
            }
        )
        ttft.pop("client_loop", None)
        ttft_sequential: dict[str, FirstToken] = ttft
        print(f"load sweep ({lap()})")
        sweep: dict[str, dict[str, Batch]] = {name: {} for name in tgt}
        for level in levels:
            for name in ("direct", "baseline", "messagebot"):
                r = batch(srv, tgt, name, level, per_worker[level])
                sweep[name][str(level)] = r
                print(
                    f"  {name:10} c={level:3}: {r['ok']}/{r['requests']} ok, "
                    f"server {r.get('server_cpu_ms_per_stream', 0):5.2f} ms/stream "
                    f"({r.get('server_cpu_pct', 0):3.0f}% cpu), "
                    f"ttft p50 {r['ttft_ms']['p50'] or 0:7.1f} p99 {r['ttft_ms']['p99'] or 0:7.1f}"
                    f", fake {r['fake_cpu_pct']:3.0f}%, client {r['client_cpu_pct']:3.0f}%"
                    f", other {r['other_cpu_pct']:3.0f}%"
                )
        # The headline level again, alternating, so each system has several samples at 200.
        print(f"200 streams again, alternating ({lap()})")
        repeat: dict[str, list[Batch]] = {"baseline": [], "messagebot": []}
        for _ in range(1 if quick else 2):
            for name in ("messagebot", "baseline"):
                repeat[name].append(batch(srv, tgt, name, 200, per_worker[200]))
        print(f"per-request and per-chunk cost: 5- and 50-chunk streams at c=25 ({lap()})")
        split: dict[str, CostSplit] = {}
        for name in ("baseline", "messagebot"):
            few = batch(srv, tgt, name, 25, 3, reason="birthday [[fake chunks=5]]")
            many = batch(srv, tgt, name, 25, 3)
            per_chunk = (many["server_cpu_ms_per_stream"] - few["server_cpu_ms_per_stream"]) / 45
            split[name] = {
                "cpu_ms_per_stream_5_chunks": few["server_cpu_ms_per_stream"],
                "cpu_ms_per_stream_50_chunks": many["server_cpu_ms_per_stream"],
                "per_chunk_us": per_chunk * 1000,
                "per_request_ms": few["server_cpu_ms_per_stream"] - 5 * per_chunk,
                "errors": few["errors"] + many["errors"],
            }
        profiled: Profiled = {}
        if args.profile:
            print(f"profile: py-spy on each server under 200 streams ({lap()})")
            profiled["profile"] = {
                name: profile(srv, tgt, name, out, per_worker[200])
                for name in ("messagebot", "baseline")
            }
        with (out / "fake.log").open("rb") as fake_log:
            fake_log_lines = sum(1 for _ in fake_log)
    print(f"local provider ({lap()})")
    local = run_local(out, args)
    measured: Measured = {
        "machine": machine_info,
        "setup": setup,
        "memory": memory,
        "ttft_sequential": ttft_sequential,
        "sweep": sweep,
        "repeat_200": repeat,
        "split": split,
        **profiled,
        "fake_log_lines": fake_log_lines,
        "local": local,
        "elapsed_s": time.monotonic() - t0,
    }
    results: Results = {**measured, "figures": figures(measured)}
    (out / "results.json").write_text(json.dumps(results, indent=1))
    report(results)
    chart(results, out / "chart.png")
    if not quick and not args.no_docs:
        shutil.copyfile(out / "chart.png", ROOT / "docs" / "bench.png")
    print(f"\nwrote {out / 'results.json'} and {out / 'chart.png'} in {results['elapsed_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
