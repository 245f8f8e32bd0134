"""Loopback servers for the client's hardening tests: a recorder and a redirector."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI, Request, Response
from fastapi.responses import StreamingResponse

from openbackpack.serve import serve_in_thread


@dataclass
class Seen:
    """One request a server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    """Every request a server received, in order."""

    seen: list[Seen] = field(default_factory=list)

    def raw(self) -> bytes:
        """Everything received, headers and bodies, as one blob to search."""
        return b"\n".join(repr(s.headers).encode() + s.path.encode() + s.body for s in self.seen)


def recording_app(recorder: Recorder, routes: dict[str, Response] | None = None) -> FastAPI:
    """An app that records every request and answers from ``routes`` (by path), else 200 {}."""
    app = FastAPI()

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE"])
    async def anything(path: str, request: Request) -> Response:
        body = await request.body()
        recorder.seen.append(Seen(request.method, "/" + path, dict(request.headers), body))
        answer = (routes or {}).get("/" + path)
        if answer is not None:
            return answer
        return Response(b'{"ok": true}', media_type="application/json")

    return app


@contextmanager
def recording_server(routes: dict[str, Response] | None = None) -> Iterator[tuple[str, Recorder]]:
    """Serve a recording app on loopback; yield its base URL and its recorder."""
    recorder = Recorder()
    with serve_in_thread(recording_app(recorder, routes)) as url:
        yield url, recorder


def redirect(status: int, location: str) -> Response:
    """A redirect answer."""
    return Response(status_code=status, headers={"Location": location})


def streaming_app(chunk: bytes, count: int, pause: float, *, sized: bool = False) -> FastAPI:
    """An app whose ``/v2/stream`` sends ``chunk`` ``count`` times, ``pause`` seconds apart.

    ``sized`` announces the whole length in ``Content-Length``; otherwise it is chunked.
    """
    app = FastAPI()

    async def body() -> AsyncIterator[bytes]:
        for _ in range(count):
            yield chunk
            if pause:
                await asyncio.sleep(pause)

    @app.get("/v2/stream")
    async def stream() -> StreamingResponse:
        headers = {"Content-Length": str(len(chunk) * count)} if sized else None
        return StreamingResponse(body(), media_type="application/json", headers=headers)

    return app
