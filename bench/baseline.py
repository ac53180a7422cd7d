"""The baseline: the relay as the seeds' posts write it (FastAPI + uvicorn + StreamingResponse +
AsyncOpenAI), with today's openai SDK. Kept here, not in the package: it is what we measure against.

    python bench/baseline.py --port 8100 --upstream http://127.0.0.1:9000/v1

It takes MessageBot's request body (the seed's MessageRequest: max_length as a string, name
optional), builds a chat prompt with an f-string, and yields each delta's text as it comes, under
`media_type="text/event-stream"` as the original did. One uvicorn worker. uvicorn runs on the plain
asyncio loop with h11 (what `pip install fastapi uvicorn` gives; `--standard` picks uvloop and
httptools when installed, as `uvicorn[standard]` would). The access log is off, as MessageBot's is.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam
from pydantic import BaseModel

app = FastAPI()
aclient = AsyncOpenAI(
    api_key=os.environ.get("OPENAI_API_KEY", "x"),
    base_url=os.environ.get("OPENAI_BASE_URL"),
)
MODEL = os.environ.get("MODEL", "gpt-4o-mini")


class MessageRequest(BaseModel):
    name: str | None = None
    relation: str
    reason: str
    manner: str | None = None
    max_length: str | int = "200"
    language: str | None = None


def make_prompt(data: MessageRequest) -> list[ChatCompletionMessageParam]:
    manner = data.manner or "warm"
    who = f"{data.name}, my {data.relation}" if data.name else f"my {data.relation}"
    return [
        {
            "role": "system",
            "content": "You write short greeting messages. Answer with the message only.",
        },
        {
            "role": "user",
            "content": f"Write a {manner} message to {who} for this occasion: {data.reason}. "
            f"At most {data.max_length} characters.",
        },
    ]


async def get_streaming_message_from_openai(data: MessageRequest) -> AsyncIterator[str]:
    stream = await aclient.chat.completions.create(
        model=MODEL,
        messages=make_prompt(data),
        temperature=1,
        max_tokens=1024,
        top_p=1,
        frequency_penalty=0,
        presence_penalty=0,
        stream=True,
    )
    async for chunk in stream:
        # The seed read chunk["choices"][0]["delta"] inside `try/except KeyError`; a chunk with no
        # choices (the fake's usage chunk) is skipped the same way here.
        if chunk.choices:
            content = chunk.choices[0].delta.content
            if content is not None:
                yield content


@app.post("/streaming/")
async def get_generated_messages_streaming(data: MessageRequest) -> StreamingResponse:
    return StreamingResponse(
        get_streaming_message_from_openai(data), media_type="text/event-stream"
    )


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--upstream", help="OPENAI_BASE_URL (default: from the environment)")
    parser.add_argument("--standard", action="store_true", help="uvloop + httptools if installed")
    args = parser.parse_args()
    if args.upstream:
        aclient.base_url = args.upstream
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        workers=1,
        loop="auto" if args.standard else "asyncio",
        http="auto" if args.standard else "h11",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
