"""The printed summary of a run: the headline table, the sweep by concurrency, the cost split,
the local provider, and (with --profile) CPU by owner and stage."""

from __future__ import annotations

from results import Results
from servers import CHUNKS, DELAY


def report(results: Results) -> None:
    f = results["figures"]
    m = results["machine"]
    print(
        f"\nMessageBot bench: {m['cores']} cores ({m['cpu']}), Python {m['python']}, "
        f"load avg at start {m['loadavg_at_start'][0]:.2f}"
    )
    print(
        f"fake upstream: {CHUNKS} chunks, {DELAY * 1000:.0f} ms apart; one worker per system; "
        f"baseline = {results['setup']['baseline_server']}"
    )
    cpu = f["cpu_ms_per_stream_200"]
    ft = f["first_token_overhead_p50_ms"]
    c4 = f["c400"]
    mem = f["rss_kb_per_open_stream"]
    rows = [
        (
            "CPU per stream @200 (ms)",
            cpu["baseline"],
            cpu["messagebot"],
            f"{f['cpu_ratio_200']:.2f}x",
            "<= 0.5x",
        ),
        (
            "first-token overhead p50 (ms)",
            ft["baseline"],
            ft["messagebot"],
            f"{ft['messagebot'] - ft['baseline']:+.2f} ms",
            "<= 1.0 ms",
        ),
        (
            "errors @400",
            c4["baseline"]["errors"],
            c4["messagebot"]["errors"],
            f"of {c4['messagebot']['requests']}",
            "0",
        ),
        (
            "added TTFT p99 @400 (ms)",
            c4["baseline"]["added_ttft_p99_ms"],
            c4["messagebot"]["added_ttft_p99_ms"],
            "",
            "report",
        ),
        (
            "added stream-time p99 @400 (ms)",
            c4["baseline"]["added_total_p99_ms"],
            c4["messagebot"]["added_total_p99_ms"],
            "",
            "report",
        ),
        (
            "RSS per open stream (KiB)",
            mem["baseline"],
            mem["messagebot"],
            f"{mem['messagebot'] / mem['baseline']:.2f}x" if mem["baseline"] > 0 else "",
            "report",
        ),
    ]
    print(f"\n{'':34}{'baseline':>10}{'MessageBot':>12}{'ratio/diff':>13}   goal")
    for label, a, b, ratio, goal in rows:
        print(f"{label:34}{a:>10.2f}{b:>12.2f}{ratio:>13}   {goal}")
    print(
        "\nby concurrency: server CPU per stream (ms), MessageBot/baseline, server CPU %, "
        "time to first delta p50 (ms)"
    )
    print(
        f"{'c':>5}{'baseline':>10}{'MessageBot':>12}{'ratio':>7}{'cpu% b/m':>11}"
        f"{'ttft b/m/direct':>22}"
    )
    for level, row in f["sweep"].items():
        cpu, pct, t = row["cpu_ms_per_stream"], row["server_cpu_pct"], row["ttft_p50_ms"]
        print(
            f"{level:>5}{cpu['baseline']:>10.2f}{cpu['messagebot']:>12.2f}{row['cpu_ratio']:>7.2f}"
            f"{pct['baseline']:>6.0f}/{pct['messagebot']:<4.0f}"
            f"{t['baseline']:>10.1f}/{t['messagebot']:.1f}/{t['direct']:.1f}"
        )
    split = results.get("split")
    if split:
        base, mb = split["baseline"], split["messagebot"]
        print(
            f"\ncost split at c=25 (5- vs 50-chunk streams): per request baseline "
            f"{base['per_request_ms']:.2f} ms, MessageBot {mb['per_request_ms']:.2f} ms; per chunk "
            f"baseline {base['per_chunk_us']:.0f} us, MessageBot {mb['per_chunk_us']:.0f} us"
        )
    if "local_inprocess_ratio" in f:
        t = f["local_inprocess_tokens_per_s"]
        print(
            f"\nlocal, 200-token generations in-process: provider {t['provider']:.1f} tok/s vs "
            f"llama-cpp-python {t['raw']:.1f} tok/s = {f['local_inprocess_ratio']:.2f}x "
            "(goal >= 0.95x)"
        )
    if "local_http_short_ratio" in f:
        t = f["local_http_short_tokens_per_s"]
        print(
            f"local, one-line messages over HTTP: service {t['service']:.1f} tok/s vs "
            f"llama-cpp-python {t['raw']:.1f} tok/s = {f['local_http_short_ratio']:.2f}x "
            "(first to last token; ~13 tokens, shaky)"
        )
    if "local_http_short_end_to_end_ratio" in f:
        t = f["local_http_short_end_to_end_tokens_per_s"]
        print(
            f"  end to end (request sent to done): service {t['service']:.1f} tok/s vs "
            f"llama-cpp-python {t['raw']:.1f} tok/s = "
            f"{f['local_http_short_end_to_end_ratio']:.2f}x"
        )
    print(
        f"\nload client CPU at most {f['load_client_cpu_pct_max']:.0f}% of a core; "
        f"fake upstream at most {f['fake_cpu_pct_max']:.0f}%; other processes (shared "
        f"machine, kernel) at most {f['other_cpu_pct_max']:.0f}% during a sweep batch"
    )
    for name, prof in (results.get("profile") or {}).items():
        if not prof:
            continue
        per = prof["batch"]["server_cpu_ms_per_stream"]
        print(
            f"\nprofile {name} ({prof['samples']} samples, {per:.2f} ms CPU/stream), CPU by owner:"
        )
        for label, share in prof["by_owner_pct"][:12]:
            print(f"  {share:5.1f}%  {per * share / 100:5.2f} ms/stream  {label}")
        print("  stages (inclusive):")
        for label, share in prof["stages_pct"]:
            print(f"  {share:5.1f}%  {per * share / 100:5.2f} ms/stream  {label}")
