"""GET /metrics in Prometheus format.

With several Hypercorn workers, set PROMETHEUS_MULTIPROC_DIR (the Procfile does) so that every
worker writes its numbers to files there and any worker's /metrics reports the sum; without
it, each process reports its own.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess
from quart import Blueprint, Response
from quart_schema import hide

REQUESTS = Counter("messagebot_requests", "HTTP requests answered", ["method", "route", "status"])
STREAMS = Gauge(
    "messagebot_generations_in_flight", "Generations being written now", multiprocess_mode="livesum"
)
FIRST_TOKEN = Histogram(
    "messagebot_time_to_first_token_seconds",
    "From the request to the first token of the message",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
TOKENS = Counter(
    "messagebot_tokens", "Tokens generated (as the provider counts them)", ["provider"]
)
MESSAGES = Counter(
    "messagebot_generations", "Generations by how they ended", ["provider", "outcome"]
)
ERRORS = Counter("messagebot_errors", "Error answers and error events by code", ["code"])

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
@hide
async def metrics() -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest()
    return Response(body, 200, {"Content-Type": CONTENT_TYPE_LATEST})
