"""The openai SDK's requests, sent with aiohttp.

The SDK builds each request (auth, headers, base URL) and turns error statuses into its
exceptions; this transport only moves the bytes. Under load, the SDK's default stack (httpx2,
httpcore2, anyio) cost us about as much CPU per stream as all of our own code: a cancel scope
and a selector round per read. aiohttp reads on an asyncio protocol with a C parser
(bench/README.md has the figures). The SDK ships an aiohttp transport of its own
(`openai.DefaultAioHttpClient`), but it reports a refused connection as a timeout (a 504
instead of our 502) and caps the pool at 100 connections, fewer than the streams we carry.
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator

import aiohttp

try:  # the SDK's HTTP client: httpx2 from openai 3, httpx before
    import httpx2 as httpx
except ImportError:  # pragma: no cover
    import httpx  # type: ignore[no-redef]

# Hop-by-hop and framing headers: aiohttp writes its own, and has already undone the body's.
_REQUEST_SKIP = frozenset({"host", "content-length", "transfer-encoding", "connection"})
_RESPONSE_SKIP = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class _Body(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for data in self._response.content.iter_any():
                yield data
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise httpx.ReadTimeout(str(exc) or "read timed out") from exc
        except aiohttp.ClientError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        # Back to the pool when the body was read to its end; closed otherwise.
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One aiohttp session, created on first use in the running loop; no cap on connections
    (each open stream holds one), idle ones kept for `keepalive_s`."""

    def __init__(self, keepalive_s: float = 30) -> None:
        self._keepalive_s = keepalive_s
        self._session: aiohttp.ClientSession | None = None
        # HTTPS_PROXY and friends, as the SDK's own client honours them. Read here, once:
        # aiohttp's trust_env would also read ~/.netrc in a thread on every request.
        self._proxies = urllib.request.getproxies()
        self._proxy_for: dict[tuple[str, str], str | None] = {}

    def _proxy(self, url: httpx.URL) -> str | None:
        key = (url.scheme, url.host)
        if key not in self._proxy_for:
            proxy = self._proxies.get(url.scheme)
            if proxy and urllib.request.proxy_bypass(url.host):
                proxy = None
            self._proxy_for[key] = proxy
        return self._proxy_for[key]

    def _open_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=self._keepalive_s)
        return aiohttp.ClientSession(connector=connector)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._session is None:
            self._session = self._open_session()
        timeout = request.extensions.get("timeout", {})
        headers = [
            (key, value)
            for key, value in request.headers.multi_items()
            if key.lower() not in _REQUEST_SKIP
        ]
        try:
            response = await self._session.request(
                request.method,
                str(request.url),
                headers=headers,
                data=await request.aread() or None,
                allow_redirects=False,
                proxy=self._proxy(request.url),
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                ),
            )
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise httpx.ConnectTimeout(str(exc) or "timed out", request=request) from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        except aiohttp.ClientError as exc:
            # The server closed a kept-alive connection, or sent something that is not HTTP.
            raise httpx.RemoteProtocolError(
                str(exc) or type(exc).__name__, request=request
            ) from exc
        return httpx.Response(
            response.status,
            headers=[
                (key, value)
                for key, value in response.raw_headers
                if key.decode("latin-1").lower() not in _RESPONSE_SKIP
            ],
            stream=_Body(response),
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def aclose(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
            # Let the connector's transports finish closing (aiohttp's documented advice).
            await asyncio.sleep(0)
