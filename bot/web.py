"""The HTTP edge: Bolt's ASGI adapter, `/healthz`, and a body-size cap, served by uvicorn."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.asgi import SlackRequestHandler
from slack_bolt.adapter.asgi.http_request import AsgiHttpRequest
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger("leeway.web")

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
# Slack's payloads are a few KB; anything near this is not from Slack.
MAX_BODY_BYTES = 1_048_576

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Health = Callable[[], tuple[int, dict[str, Any]]]


class ThreadedSlackRequestHandler(SlackRequestHandler):
    """Bolt's ASGI adapter calls the synchronous App on the event loop, one request at a
    time. Run each dispatch in a worker thread instead; answer unparseable bodies 400."""

    async def dispatch(self, request: AsgiHttpRequest) -> BoltResponse:
        body = await request.get_raw_body()

        def run() -> BoltResponse:
            try:
                bolt_request = BoltRequest(body=body, query=request.query_string, headers=request.get_headers())
            except Exception:
                return BoltResponse(status=400, body="malformed request")
            return self.app.dispatch(bolt_request)

        return await asyncio.to_thread(run)


class LeewayASGI:
    def __init__(self, bolt: App, health: Health, signing_secret: str) -> None:
        self.slack = ThreadedSlackRequestHandler(bolt, path=EVENTS_PATH)
        self.health = health
        self.verifier = SignatureVerifier(signing_secret)

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.slack(scope, receive, send)
            return
        if scope["path"] == HEALTH_PATH and scope["method"] in ("GET", "HEAD"):
            status, report = await asyncio.to_thread(self.health)
            await _respond(send, status, json.dumps(report).encode(), "application/json")
            return
        body = await _read_capped(receive)
        if body is None:
            await _respond(send, 413, b"request body too large", "text/plain")
            return
        if scope["path"] == EVENTS_PATH and scope["method"] == "POST":
            # Check the signature over the raw bytes before anything parses them, so that
            # nothing unauthenticated (a bad timestamp, bytes that aren't UTF-8) gets further.
            if not self._authentic(scope, body):
                await _respond(send, 401, b"invalid request signature", "text/plain")
                return
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                await _respond(send, 400, b"request body is not UTF-8", "text/plain")
                return
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if replayed:
                return {"type": "http.disconnect"}
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.slack(scope, replay, send)


    def _authentic(self, scope: dict[str, Any], body: bytes) -> bool:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        try:
            return bool(self.verifier.is_valid(body, headers.get("x-slack-request-timestamp", ""),
                                               headers.get("x-slack-signature", "")))
        except Exception:
            return False


async def _read_capped(receive: Receive) -> bytes | None:
    chunks = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return bytes(chunks)
        chunks.extend(message.get("body", b""))
        if len(chunks) > MAX_BODY_BYTES:
            return None
        if not message.get("more_body", False):
            return bytes(chunks)


async def _respond(send: Send, status: int, body: bytes, content_type: str) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def make_server(app: LeewayASGI, *, host: str, port: int, log_level: str = "info") -> uvicorn.Server:
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level.lower(), access_log=False,
                            lifespan="off", timeout_graceful_shutdown=10)
    return uvicorn.Server(config)


class ServerThread:
    """uvicorn on a background thread (tests and the demo), on a free port when port=0."""

    def __init__(self, app: LeewayASGI, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = make_server(app, host=host, port=port, log_level="warning")
        self.thread = threading.Thread(target=self.server.run, name="leeway-http", daemon=True)

    def start(self, timeout: float = 10.0) -> ServerThread:
        self.thread.start()
        waited = threading.Event()
        for _ in range(int(timeout / 0.01)):
            if self.server.started:
                break
            waited.wait(0.01)
        if not self.server.started:
            raise RuntimeError("the HTTP server did not start")
        return self

    @property
    def port(self) -> int:
        sockets = self.server.servers[0].sockets
        return int(sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
