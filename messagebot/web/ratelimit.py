"""Rate limits (MESSAGEBOT_RATE_LIMIT): one budget per client, checked and spent in one step.

The algorithm is GCRA (the generic cell rate algorithm): each client has a theoretical arrival
time (TAT); a request is let through while the TAT is at most `(count - 1) × interval` ahead of
now, and moves it one interval on. So `5/minute` lets a burst of 5 through, then one every 12 s.

With REDIS_URL the TAT lives in Redis and a Lua script reads, decides and writes it: Redis runs
a script alone, so however many requests of however many workers and dynos arrive at once, at
most the budget gets through. (Reading, checking and writing back in separate round trips, as
the store of quart-rate-limiter did, let a burst of 50 through a limit of 5.) A request makes
two calls: a look that spends nothing before its body is read (a client over its budget hears
429 at once), then the spending of its whole `n` in one decision. The script takes the time
from Redis's clock, so dynos' clocks need not agree.
Without Redis the TAT lives in this process, where nothing awaits between reading and writing.

If Redis cannot be reached, requests are let through (fail open), the log says so every 30 s
and `messagebot_rate_limit_unenforced_total` counts them; after a failure, requests pass at
once until Redis answers a probe again (SharedRedis's breaker).

With API keys set, requests let in by the form page's token (and the form's own POST /) spend
a budget of their own per client address (MESSAGEBOT_PAGE_RATE_LIMIT), never a key's.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter
from quart import Quart, Response, g, request

from ..config import RateLimit, Settings
from ..errors import APIError, ErrorCode
from ..redis_connection import (
    MAX_CONNECTIONS,
    PING_S,
    NoTurn,
    Refused,
    SharedRedis,
    Unavailable,
)
from ..request import messages_asked
from .policies import PAGE_N, spends_rate_limit
from .request import parse_json_object
from .security import by_page_token, client_identity, client_ip

KEY_PREFIX = "messagebot:rate:"
PAGE_KEY_PREFIX = "messagebot:rate:page:"
log = logging.getLogger("messagebot.ratelimit")

UNENFORCED = Counter(
    "messagebot_rate_limit_unenforced",
    "Requests let through unchecked because Redis could not be reached (fail open)",
)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    #: Refused: microseconds until one more request may pass. Allowed: until the whole
    #: budget is back (the TAT minus now).
    wait_us: int
    remaining: int


def _verdict(limit: RateLimit, allowed: bool, wait_us: int) -> Verdict:
    remaining = 0
    if allowed and wait_us <= limit.tolerance_us:
        remaining = (limit.tolerance_us - wait_us) // limit.interval_us + 1
    return Verdict(allowed, wait_us, remaining)


class MemoryLimiter:
    """The TATs of one process. Nothing awaits between reading a TAT and writing it back, so
    concurrent requests are decided one after the other."""

    def __init__(self) -> None:
        self._tats: dict[str, int] = {}
        self._prune_at = 1024

    async def enforced(self) -> bool:
        """Always: this process decides alone."""
        return True

    async def startup(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def hit(
        self, key: str, limit: RateLimit, cost: int = 1, spend: bool = True
    ) -> Verdict | None:
        now = time.monotonic_ns() // 1000
        tat = max(self._tats.get(key, now), now)
        # `cost` messages pass together or not at all: as if one had cost*interval.
        tolerance = limit.tolerance_us - (cost - 1) * limit.interval_us
        if tat - now > tolerance:
            return _verdict(limit, False, tat - now - tolerance)
        if not spend:
            return _verdict(limit, True, tat - now)
        self._tats[key] = tat + cost * limit.interval_us
        if len(self._tats) > self._prune_at:  # forget clients whose budget is whole again
            self._tats = {k: v for k, v in self._tats.items() if v > now}
            self._prune_at = max(1024, 2 * len(self._tats))
        return _verdict(limit, True, tat + cost * limit.interval_us - now)


# KEYS[1]: the client's TAT, in microseconds of Redis's clock. ARGV[1]: the interval,
# ARGV[2]: the tolerance (RateLimit), ARGV[3]: how many messages the request writes (its `n`:
# they pass together, as one request of that many intervals, or not at all), ARGV[4]: "0" to
# only ask whether they would pass, spending nothing. Returns
# {1, TAT - now} when the request may pass (and moves the TAT on), {0, microseconds until it
# may} when not. The key expires when the TAT
# is reached: from then on, a missing key and an old TAT mean the same.
GCRA_SCRIPT = """
if redis.replicate_commands then redis.replicate_commands() end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval = tonumber(ARGV[1])
local cost = tonumber(ARGV[3]) or 1
local tolerance = tonumber(ARGV[2]) - (cost - 1) * interval
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
if tat - now > tolerance then
    return {0, tat - now - tolerance}
end
if ARGV[4] == '0' then
    return {1, tat - now}
end
tat = tat + cost * interval
if tat <= now then
    redis.call('DEL', KEYS[1])
    return {1, 0}
end
redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000))
return {1, tat - now}
"""


class RedisLimiter:
    """The TATs in Redis, shared by every worker and dyno; one script call per request.

    At most MESSAGEBOT_REDIS_MAX_CONNECTIONS calls (with the counters') are under way at once,
    the others wait their turn (up to QUEUE_S). Waiting is not failing: in a burst on a busy
    machine a turn took over half a second, and letting the requests that waited longer through
    unchecked let up to 37 of 50 pass. Nor is Redis refusing a new connection because it has
    as many clients as it allows (maxclients): the requests then wait for the connections
    already open (SharedRedis). A failure (no connection, a timeout, a certificate refused) is:
    SharedRedis's breaker then opens, and requests pass at once without asking, those waiting
    their turn included, until its probe gets an answer from Redis again. So a frozen Redis
    costs the requests under way when it froze at most a second each, and the others nothing.
    Redis refusing the script (the user in REDIS_URL may not run scripts) lets requests
    through as well, and the log says why."""

    QUEUE_S = 5.0
    #: The key /healthz runs the script on (outside KEY_PREFIX: no client's budget).
    HEALTH_KEY = "messagebot:health:rate"

    def __init__(
        self, url: str, *, verify: bool = True, max_connections: int = MAX_CONNECTIONS
    ) -> None:
        self._redis = SharedRedis(
            url, "rate limits are not enforced", verify=verify, max_connections=max_connections
        )
        self._script: Any = None
        self._decided_at = -math.inf
        self._refused_warned = -math.inf

    async def startup(self) -> None:
        await self._redis.connect()
        # redis-py sends the script's SHA1 (EVALSHA), and the script itself when Redis does
        # not know it yet (after a restart or a flush); each call names the connection.
        self._script = self._redis.pool.slots[0].client.register_script(GCRA_SCRIPT)

    async def shutdown(self) -> None:
        await self._redis.close()

    async def _run(
        self,
        key: str,
        interval_us: int,
        tolerance_us: int,
        cost: int = 1,
        spend: bool = True,
        **bounds: float,
    ) -> Any:
        args = [interval_us, tolerance_us, cost, 1 if spend else 0]
        return await self._redis.call(
            lambda client: self._script(keys=[key], args=args, client=client), **bounds
        )

    async def hit(
        self, key: str, limit: RateLimit, cost: int = 1, spend: bool = True
    ) -> Verdict | None:
        """The verdict, or None when Redis could not be asked (the request then passes);
        with `spend` False, whether `cost` would pass, spending nothing."""
        try:
            allowed, wait_us = await self._run(
                key, limit.interval_us, limit.tolerance_us, cost, spend, queue_s=self.QUEUE_S
            )
        except Refused as error:
            self._refused(error)
            UNENFORCED.inc()
            return None
        except Unavailable as error:
            self._redis.unreachable(error)
            UNENFORCED.inc()
            return None
        self._decided_at = time.monotonic()
        return _verdict(limit, bool(allowed), int(wait_us))

    def _refused(self, error: Refused) -> None:
        """Redis answered, but would not run the script: say so, loudly (every 30 s)."""
        from redis.exceptions import NoPermissionError

        now = time.monotonic()
        if now - self._refused_warned <= 30:
            return
        self._refused_warned = now
        said = error.__cause__ or error
        if isinstance(said, NoPermissionError):
            log.error(
                "Rate limits are NOT enforced: the Redis user in REDIS_URL lacks permission to "
                "run scripts, which the rate limit needs (ACL SETUSER <user> +@scripting, or at "
                "least +evalsha +eval +script|load). Redis said: %s",
                said,
            )
        else:
            log.error("Rate limits are NOT enforced: Redis refuses their script: %s", said)

    async def enforced(self) -> bool:
        """Whether the limit is enforced right now: the script runs (on a key of its own,
        bounded by PING_S). When every connection stays busy that long, whether a request
        was decided within FRESH_S."""
        if not self._redis.available():
            return False
        try:
            await self._run(self.HEALTH_KEY, 1, 0, queue_s=PING_S, within=PING_S)
        except NoTurn:
            return time.monotonic() - self._decided_at < SharedRedis.FRESH_S
        except Refused as error:
            self._refused(error)
            return False
        except Unavailable:
            return False
        self._decided_at = time.monotonic()
        return True


async def _messages_asked() -> int:
    """How many messages the request asks for (its `n`, by request.py's one rule), which it
    spends of the budget at once. Read from the body before the view does (Quart keeps it for
    the view); a body that is not a JSON object counts as one, and gets its 4xx from the view.
    The form page's POST / writes PAGE_N, or one for a card's refinement (page.py)."""
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return 1 if "refined" in await request.form else PAGE_N
    if request.mimetype != "application/json":
        return 1
    try:
        data = parse_json_object(
            await request.get_data(cache=True, as_text=False, parse_form_data=False)
        )
    except APIError:
        return 1
    return messages_asked(data)


def _seconds(refused: Verdict) -> int:
    """Retry-After for a refused verdict: whole seconds, at least one."""
    return max(1, math.ceil(refused.wait_us / 1_000_000))


def init_app(app: Quart, settings: Settings) -> None:
    limit = settings.rate_limit
    # The page's token is honoured only with API keys set (without them the API is open, and
    # the page's requests are anyone's): then it has a budget of its own per client address.
    page_limit = settings.page_rate_limit if settings.api_keys and settings.page else None
    if limit is None and page_limit is None:
        return
    limiter: MemoryLimiter | RedisLimiter = (
        RedisLimiter(
            settings.redis_url,
            verify=settings.redis_verify,
            max_connections=settings.redis_max_connections,
        )
        if settings.redis_url
        else MemoryLimiter()
    )
    app.extensions["rate_limiter"] = limiter  # /healthz asks it whether it is enforced
    app.before_serving(limiter.startup)
    app.after_serving(limiter.shutdown)

    @app.before_request
    async def check_rate_limit() -> None:
        # One budget for all the routes that write messages (declared @rate_limited), so
        # that a client cannot get three times the limit by using three routes; health,
        # stats, docs and static files are not limited. A CORS preflight (OPTIONS) writes
        # nothing: a browser's message must not cost two.
        if not spends_rate_limit() or request.method == "OPTIONS":
            return
        if by_page_token():
            # The page's budget, per client address, whatever MESSAGEBOT_RATE_LIMIT says:
            # anyone can load the page and take its token, so a token is no identity.
            chosen, key = page_limit, PAGE_KEY_PREFIX + client_ip()
        else:
            chosen, key = limit, KEY_PREFIX + client_identity()
        if chosen is None:
            return
        # Whether one message would pass, before the body is read and spending nothing: a
        # client over its budget hears 429 without having to send the body (and the
        # connection stays usable).
        verdict = await limiter.hit(key, chosen, spend=False)
        if verdict is None:  # Redis could not be asked: let through (and counted) once
            return
        if not verdict.allowed:
            g.rate_limit = (chosen, verdict)
            raise APIError(ErrorCode.RATE_LIMITED, retry_after=_seconds(verdict))
        # Then its whole `n`, in one atomic decision: a burst never gets more than the budget
        # through, and nothing is spent and given back, so none is refused for want of a unit
        # another request held for a moment.
        cost = await _messages_asked()
        if cost > chosen.count:  # it could never pass: say so, rather than "retry later"
            raise APIError(
                ErrorCode.INVALID_REQUEST,
                fields={"n": f"must be at most {chosen.count}, the rate limit's whole budget"},
            )
        verdict = await limiter.hit(key, chosen, cost)
        if verdict is None:
            return
        g.rate_limit = (chosen, verdict)
        if not verdict.allowed:
            raise APIError(ErrorCode.RATE_LIMITED, retry_after=_seconds(verdict))

    @app.after_request
    async def rate_limit_headers(response: Response) -> Response:
        decided: tuple[RateLimit, Verdict] | None = g.get("rate_limit")
        if decided is not None:
            chosen, verdict = decided
            response.headers["RateLimit-Limit"] = str(chosen.count)
            response.headers["RateLimit-Remaining"] = str(verdict.remaining)
            # Until the whole budget is back.
            reset_us = verdict.wait_us + (0 if verdict.allowed else chosen.tolerance_us)
            response.headers["RateLimit-Reset"] = str(math.ceil(reset_us / 1_000_000))
        return response
