"""Bad input on every POST endpoint, over real sockets: always a clean 4xx JSON error that
says what is wrong, never a 5xx. Broken or hostile bodies, wrong content types, sizes, fields
that break their rules, a flood of them beside a stream, and schemathesis. (The parsing
functions' own rules, unit by unit: test_request.py.)"""

from __future__ import annotations

import asyncio
import json
import os
import sys

import httpx
import pytest

from messagebot.fake_upstream import FakeUpstream

from .helpers import Server, assert_error, free_port, openai_env, stream, wait_until_up

POSTS = ["/v1/messages", "/v1/messages/stream", "/streaming/"]
JSON = {"content-type": "application/json"}
BODY = {"name": "Minji", "relation": "wife", "reason": "birthday", "max_length": 200}

RAW_BODIES: list[tuple[str, bytes, int, str]] = [
    ("empty", b"", 400, "invalid_json"),
    ("not json", b"hello", 400, "invalid_json"),
    ("truncated", b'{"relation": "wife"', 400, "invalid_json"),
    ("array", b'["wife", "birthday"]', 400, "invalid_json"),
    ("string", b'"wife"', 400, "invalid_json"),
    ("null", b"null", 400, "invalid_json"),
    ("latin-1", '{"relation": "épouse", "reason": "fête"}'.encode("latin-1"), 400, "invalid_json"),
    ("utf-16", '{"relation": "a", "reason": "b"}'.encode("utf-16"), 400, "invalid_json"),
    ("deeply nested", b'{"relation": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400, "invalid_json"),
    ("nested objects", b'{"a":' * 2000 + b"1" + b"}" * 2000, 400, "invalid_json"),
    ("duplicate keys", b'{"relation": "a", "reason": "b", "reason": "c"}', 400, "invalid_json"),
    ("NaN", b'{"relation": "a", "reason": "b", "max_length": NaN}', 400, "invalid_json"),
    ("huge float", b'{"relation": "a", "reason": "b", "max_length": 1e400}', 400, "invalid_json"),
    (
        "huge integer",
        b'{"relation": "a", "reason": "b", "max_length": ' + b"9" * 4000 + b"}",
        400,
        "invalid_json",
    ),
    (
        "big integer",
        b'{"relation": "a", "reason": "b", "max_length": ' + b"9" * 25 + b"}",
        422,
        "invalid_request",
    ),
    (
        "boolean number",
        b'{"relation": "a", "reason": "b", "max_length": true}',
        422,
        "invalid_request",
    ),
    (
        "float number",
        b'{"relation": "a", "reason": "b", "max_length": 200.0}',
        422,
        "invalid_request",
    ),
    ("lone surrogate", b'{"relation": "\\ud800", "reason": "b"}', 422, "invalid_request"),
    ("escaped NUL", b'{"relation": "a\\u0000b", "reason": "b"}', 422, "invalid_request"),
    ("raw control", b'{"relation": "a\x1bb", "reason": "b"}', 400, "invalid_json"),
    ("object field", b'{"relation": {"$gt": ""}, "reason": "b"}', 422, "invalid_request"),
    ("array field", b'{"relation": ["a"], "reason": "b"}', 422, "invalid_request"),
    ("null required", b'{"relation": null, "reason": "b"}', 422, "invalid_request"),
    ("unknown field", b'{"relation": "a", "reason": "b", "__proto__": {}}', 422, "invalid_request"),
    ("giant", b'{"relation": "a", "reason": "' + b"x" * 20000 + b'"}', 413, "too_large"),
    ("giant whitespace", b" " * 17000 + b'{"relation": "a", "reason": "b"}', 413, "too_large"),
]


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize(
    ("name", "raw", "status", "code"), RAW_BODIES, ids=[b[0] for b in RAW_BODIES]
)
async def test_hostile_bodies(
    server: Server,
    client: httpx.AsyncClient,
    path: str,
    name: str,
    raw: bytes,
    status: int,
    code: str,
) -> None:
    response = await client.post(f"{server.url}{path}", content=raw, headers=JSON)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == code
    assert "Traceback" not in response.text


@pytest.mark.parametrize("path", POSTS)
async def test_chunked_body_over_the_limit_is_413(server: Server, path: str) -> None:
    """No Content-Length to refuse up front: the limit holds while the body streams in."""
    host, port = server.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n".encode()
    )
    try:
        for _ in range(40):
            writer.write(b"400\r\n" + b"x" * 1024 + b"\r\n")
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()
    except ConnectionError:
        pass  # the server may answer and close before reading it all
    answer = await asyncio.wait_for(reader.read(65536), 10)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"code":"too_large"' in body


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonx",
        "",
        "application/xml",
    ],
)
@pytest.mark.parametrize("path", POSTS)
async def test_wrong_content_types(
    server: Server, client: httpx.AsyncClient, path: str, content_type: str
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await client.post(
        f"{server.url}{path}", content=b'{"relation": "a", "reason": "b"}', headers=headers
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


async def test_charset_parameter_is_fine(server: Server, client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{server.url}/v1/messages",
        content=b'{"relation": "a", "reason": "b"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200


async def test_a_flood_of_bad_requests_does_not_disturb_a_stream(
    server: Server, client: httpx.AsyncClient
) -> None:
    good = asyncio.create_task(
        stream(
            client,
            f"{server.url}/v1/messages/stream",
            {"relation": "wife", "reason": "birthday [[fake chunks=30 delay=0.03]]"},
        )
    )
    bad_statuses = []
    async with httpx.AsyncClient(timeout=30) as flood:
        for index in range(300):
            _name, raw, status, _ = RAW_BODIES[index % len(RAW_BODIES)]
            response = await flood.post(
                f"{server.url}{POSTS[index % 3]}", content=raw, headers=JSON
            )
            bad_statuses.append(response.status_code == status)
    result = await good
    assert all(bad_statuses)
    assert result.sequence[0] == "start" and result.sequence[-1] == "done"
    assert result.named("done")[0].data["message"] == result.text
    assert len(result.named("delta")) >= 1


async def test_schemathesis_finds_no_server_error(fake: FakeUpstream) -> None:
    """Property-based requests generated from our own /openapi.json, against a real server."""
    port = free_port()
    env = {**os.environ, **openai_env(fake), "PORT": str(port)}
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "messagebot.cli",
        "serve",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient() as client:
            await wait_until_up(client, f"http://127.0.0.1:{port}")
        run = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"http://127.0.0.1:{port}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "40",
            "--no-color",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(run.communicate(), 300)
        text = output.decode()
        assert run.returncode == 0, text[-3000:]
        assert "No issues found" in text or "passed" in text, text[-3000:]
    finally:
        server.terminate()
        await server.wait()


# --- broken JSON, content type, size and field rules, as a client meets them ----------------


@pytest.mark.parametrize("path", POSTS)
async def test_broken_json_is_400(server: Server, client: httpx.AsyncClient, path: str) -> None:
    for raw in (
        b"{",
        b"not json",
        b"\xff\xfe{}",
        b"[1, 2]",
        b'{"a": NaN}',
        b"",
        b'{"relation": "a", "relation": "b"}',
        b"[" * 100_00,
    ):
        response = await client.post(
            f"{server.url}{path}", content=raw, headers={"content-type": "application/json"}
        )
        assert_error(
            response,
            400 if len(raw) <= 16384 else 413,
            "invalid_json" if len(raw) <= 16384 else "too_large",
        )


@pytest.mark.parametrize("path", POSTS)
async def test_wrong_content_type_is_415(
    server: Server, client: httpx.AsyncClient, path: str
) -> None:
    response = await client.post(
        f"{server.url}{path}", content=json.dumps(BODY), headers={"content-type": "text/plain"}
    )
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("path", POSTS)
async def test_body_over_16_kib_is_413(
    server: Server, client: httpx.AsyncClient, path: str
) -> None:
    response = await client.post(f"{server.url}{path}", json={**BODY, "name": "x" * 17000})
    assert_error(response, 413, "too_large")


@pytest.mark.parametrize("path", POSTS)
async def test_invalid_fields_are_422_naming_each(
    server: Server, client: httpx.AsyncClient, path: str
) -> None:
    response = await client.post(
        f"{server.url}{path}",
        json={
            "relation": "",
            "reason": "r" * 201,
            "max_lenght": 100,
            "max_length": True,
            "name": "x" * 41,
            "manner": 5,
            "language": "not a tag!",
        },
    )
    error = assert_error(response, 422, "invalid_request")
    assert error["fields"] == {
        "relation": "must not be empty",
        "reason": "must be at most 200 characters",
        "max_lenght": "unknown field",
        "max_length": "must be an integer",
        "name": "must be at most 40 characters",
        "manner": "must be a string",
        "language": "must be a BCP 47 language tag such as ko, en or ja",
    }


async def test_missing_required_fields(server: Server, client: httpx.AsyncClient) -> None:
    response = await client.post(f"{server.url}/v1/messages", json={})
    error = assert_error(response, 422, "invalid_request")
    assert error["fields"] == {"relation": "required", "reason": "required"}
