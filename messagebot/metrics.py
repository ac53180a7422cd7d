"""GET /metrics in Prometheus format.

With several Hypercorn workers, set PROMETHEUS_MULTIPROC_DIR (the Procfile does) so that every
worker writes its numbers to files there and any worker's /metrics reports the sum; without
it, each process reports its own.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess
from quart import Blueprint, Response, current_app
from quart_schema import hide

from .errors import ErrorCode

# Every label value comes from a closed set, so that no client can make a new time series
# (each one costs memory in every worker, a file's worth under PROMETHEUS_MULTIPROC_DIR, and
# bytes in every scrape). A value outside its set is counted as `other`.
METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"}
)
#: The statuses the service answers with (Quart's redirects and static files included);
#: any other is counted under its class, `4xx`.
STATUSES = frozenset(
    {200, 204, 206, 301, 302, 304, 307, 308}
    | {400, 401, 403, 404, 405, 408, 413, 415, 416, 422, 429}
    | {500, 502, 503, 504}
)
PROVIDERS = frozenset({"openai", "local"})
#: The error codes (docs/api.md, "Errors"): errors.ErrorCode's.
CODES = frozenset(code.value for code in ErrorCode)
#: How a generation ended: its finish_reason, the client leaving, an error code, or
#: `duplicate` (one of `n` dropped unseen as the same text as another, and asked again).
OUTCOMES = frozenset({"stop", "length", "cancelled", "duplicate"}) | CODES
#: What a key's tokens are counted as.
TOKEN_KINDS = frozenset({"prompt", "completion"})
_STATUS_LABELS = {status: str(status) for status in STATUSES}


def method_label(method: str) -> str:
    return method if method in METHODS else "other"


def status_label(status: int | None) -> str:
    """The status itself if it is one we send, else its class (`4xx`); `none` when the client
    left before any answer."""
    if status is None:
        return "none"
    label = _STATUS_LABELS.get(status)
    if label is None:
        label = f"{status // 100}xx" if 100 <= status <= 599 else "other"
    return label


class ClosedLabels:
    """A labelled counter whose `labels()` maps each value outside its closed set to `other`."""

    def __init__(self, metric: Counter, *allowed: frozenset[str]) -> None:
        self.metric = metric
        self._allowed = allowed

    def labels(self, *values: str) -> Counter:
        return self.metric.labels(
            *(
                value if value in allowed else "other"
                for value, allowed in zip(values, self._allowed, strict=True)
            )
        )


# Its labels are closed by web/request_log.py: method_label, the matched route rule (else
# `unmatched`), status_label.
REQUESTS = Counter("messagebot_requests", "HTTP requests answered", ["method", "route", "status"])
STREAMS = Gauge(
    "messagebot_generations_in_flight", "Generations being written now", multiprocess_mode="livesum"
)
FIRST_TOKEN = Histogram(
    "messagebot_time_to_first_token_seconds",
    "From the request to the first token of the message",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
TOKENS = ClosedLabels(
    Counter("messagebot_tokens", "Tokens generated (as the provider counts them)", ["provider"]),
    PROVIDERS,
)
MESSAGES = ClosedLabels(
    Counter("messagebot_generations", "Generations by how they ended", ["provider", "outcome"]),
    PROVIDERS,
    OUTCOMES,
)
# Per API key name (docs/api.md, "Stats"): the `key` label's values are the configured names,
# `page` and `anonymous` (GenerationService.key_names), never what a client sends.
KEY_MESSAGES = Counter(
    "messagebot_key_generations",
    "Generations by API key name and how they ended",
    ["key", "outcome"],
)
KEY_TOKENS = Counter(
    "messagebot_key_tokens", "Tokens by API key name (as the provider counts them)", ["key", "kind"]
)
ERRORS = ClosedLabels(
    Counter("messagebot_errors", "Error answers and error events by code", ["code"]), CODES
)

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
@hide
async def metrics() -> Response:
    if current_app.extensions["messagebot"].settings.metrics_dir is not None:
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest()
    return Response(body, 200, {"Content-Type": CONTENT_TYPE_LATEST})
