"""HTTP to the upstream with aiohttp: one session, no cap on connections, proxies read once.

The openai SDK still says what a chat request carries (URL, auth, its headers) and turns an
error status into its exceptions (providers/openai.py); aiohttp only moves the bytes. The SDK's
default stack (httpx2, httpcore2, anyio) cost us about as much CPU per stream as all of our own
code under load: a cancel scope and a selector round per read, and httpx2's URL and header
objects for every request (bench/README.md has the figures). The SDK ships an aiohttp client of
its own (`openai.DefaultAioHttpClient`), but it reports a refused connection as a timeout (a 504
instead of our 502) and caps the pool at 100 connections, fewer than the streams we carry.
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Mapping

import aiohttp
from yarl import URL


class Upstream:
    """One aiohttp session, opened on first use in the running loop; no cap on connections
    (each open stream holds one), idle ones kept for `keepalive_s`. `timeout_s` bounds a
    connection attempt and the wait for each read (our own deadlines are shorter)."""

    def __init__(self, timeout_s: float, keepalive_s: float = 30) -> None:
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=timeout_s, sock_read=timeout_s
        )
        self._keepalive_s = keepalive_s
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        # HTTPS_PROXY and friends, as the SDK's own client honours them. Read here, once:
        # aiohttp's trust_env would also read ~/.netrc in a thread on every request.
        self._proxies = urllib.request.getproxies()
        self._proxy_for: dict[tuple[str, str], str | None] = {}

    def _proxy(self, url: URL) -> str | None:
        key = (url.scheme, url.host or "")
        if key not in self._proxy_for:
            proxy = self._proxies.get(url.scheme)
            if proxy and urllib.request.proxy_bypass(url.host or ""):
                proxy = None
            self._proxy_for[key] = proxy
        return self._proxy_for[key]

    async def post(
        self, url: URL, headers: Mapping[str, str], body: bytes
    ) -> aiohttp.ClientResponse:
        """The response once its headers are in; aiohttp's errors (`aiohttp.ClientError`,
        `TimeoutError`) as they come."""
        if self._closed:
            raise aiohttp.ClientConnectionError("the upstream connection pool is closed")
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=self._keepalive_s)
            self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(), timeout=self._timeout
            )
        return await self._session.post(
            url,
            headers=headers,
            data=body,
            # As the SDK's own client does (a proxy's http→https, a moved path); aiohttp
            # drops the Authorization header when a redirect leaves the origin.
            allow_redirects=True,
            proxy=self._proxy(url),
        )

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
            # Let the connector's transports finish closing (aiohttp's documented advice).
            await asyncio.sleep(0)
