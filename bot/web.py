"""The HTTP edge: Bolt's ASGI adapter, the API for the company's systems under `/api/`,
`/healthz`, `/metrics` behind a token, and body-size caps, served by uvicorn: in this process,
or in worker processes under uvicorn's supervisor."""

from __future__ import annotations

import asyncio
import gc
import hmac
import json
import logging
import threading
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any, cast

import uvicorn
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.asgi import SlackRequestHandler
from slack_bolt.adapter.asgi.http_request import AsgiHttpRequest
from slack_sdk.signature import SignatureVerifier
from starlette.types import ASGIApp
from starlette.types import Send as StarletteSend
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from bot.api.problems import MEDIA_TYPE as PROBLEM_MEDIA_TYPE
from bot.api.problems import problem_body
from bot.metrics import CONTENT_TYPE, Metrics
from bot.request_shape import shape_problem

log = logging.getLogger("leeway.web")

EVENTS_PATH = "/slack/events"
API_PATHS = "/api/"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
# Slack's payloads are a few KB; anything near this is not from Slack.
MAX_BODY_BYTES = 1_048_576

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Health = Callable[[], tuple[int, dict[str, Any]]]


class ThreadedSlackRequestHandler(SlackRequestHandler):
    """Bolt's ASGI adapter calls the synchronous App on the event loop, one request at a
    time. Run each dispatch in a worker thread instead. A signed body that isn't what Slack
    sends (unparseable, missing what its kind always carries, or one Bolt chokes on) gets a
    400: it says nothing about Leeway, so it is one log line, not a traceback."""

    async def dispatch(self, request: AsgiHttpRequest) -> BoltResponse:
        body = await request.get_raw_body()

        def run() -> BoltResponse:
            try:
                bolt_request = BoltRequest(body=body, query=request.query_string, headers=request.get_headers())
            except Exception as error:
                return _malformed(f"unparseable ({type(error).__name__})")
            problem = shape_problem(bolt_request.body)
            if problem is not None:
                return _malformed(problem)
            try:
                return self.app.dispatch(bolt_request)
            except Exception as error:
                # Bolt hands listener errors to Leeway's error handler; what escapes is Bolt's
                # own reading of the payload failing, unless Leeway's code is in the traceback.
                if raised_in_leeway(error):
                    log.exception("unexpected error while dispatching a Slack request")
                    return BoltResponse(status=500, body="")
                return _malformed(f"Bolt could not read it ({type(error).__name__}: {str(error)[:100]!r})")

        return await asyncio.to_thread(run)


def _malformed(why: str) -> BoltResponse:
    log.warning("refused a signed request that Slack would not send: %s", why)
    return BoltResponse(status=400, body="malformed request")


def raised_in_leeway(error: BaseException) -> bool:
    """Whether Leeway's own code (beyond this edge) is in the traceback of `error`, or of an
    error it was raised while handling."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for frame, _ in traceback.walk_tb(current.__traceback__):
            module = str(frame.f_globals.get("__name__", ""))
            if module.startswith("bot.") and module != __name__:
                return True
        current = current.__cause__ or current.__context__
    return False


class LeewayASGI:
    def __init__(
        self,
        bolt: App,
        health: Health,
        signing_secret: str,
        metrics: Metrics | None = None,
        *,
        metrics_token: str | None = None,
        api: ASGIApp | None = None,
        api_max_body_bytes: int = 65_536,
    ) -> None:
        """With `metrics_token`, /metrics is served here too, to requests bearing it; without,
        this port has no /metrics (METRICS_PORT serves them on their own). `api` serves every
        path under /api/, with bodies up to `api_max_body_bytes`."""
        self.slack = ThreadedSlackRequestHandler(bolt, path=EVENTS_PATH)
        self.api = api
        self.api_max_body_bytes = api_max_body_bytes
        self.health = health
        self.verifier = SignatureVerifier(signing_secret)
        self.metrics = metrics or Metrics()
        self.metrics_token = metrics_token

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.slack(scope, receive, send)
            return
        if self.api is not None and scope["path"].startswith(API_PATHS):
            await self._api(self.api, scope, receive, send)
            return
        if scope["path"] == HEALTH_PATH and scope["method"] in ("GET", "HEAD"):
            status, report = await asyncio.to_thread(self.health)
            await _respond(send, status, json.dumps(report).encode(), "application/json")
            return
        if scope["path"] == METRICS_PATH and scope["method"] == "GET" and self.metrics_token is not None:
            if not bearer_matches(_headers(scope).get("authorization", ""), self.metrics_token):
                await _respond(send, 401, b"metrics need a bearer token", "text/plain", challenge=True)
                return
            await _respond(send, 200, await asyncio.to_thread(self.metrics.render), CONTENT_TYPE)
            return
        started = time.perf_counter()
        try:
            await self._slack(scope, receive, send)
        finally:
            if scope["path"] == EVENTS_PATH:
                self.metrics.ack.observe(time.perf_counter() - started)

    async def _slack(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
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
        await self.slack(scope, _replaying(body), send)

    async def _api(self, api: ASGIApp, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        """The body is read up to the API's cap before anything parses it: past it, 413."""
        declared = _headers(scope).get("content-length", "")
        too_large = declared.isdigit() and int(declared) > self.api_max_body_bytes
        body = None if too_large else await _read_capped(receive, self.api_max_body_bytes)
        if body is None:
            detail = f"The body is over the API's limit of {self.api_max_body_bytes} bytes."
            await _respond(send, 413, problem_body(413, detail), PROBLEM_MEDIA_TYPE)
            return
        await api(scope, _replaying(body), cast(StarletteSend, send))

    def _authentic(self, scope: dict[str, Any], body: bytes) -> bool:
        headers = _headers(scope)
        try:
            return bool(
                self.verifier.is_valid(
                    body, headers.get("x-slack-request-timestamp", ""), headers.get("x-slack-signature", "")
                )
            )
        except Exception:
            return False


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def bearer_matches(authorization: str, token: str) -> bool:
    """Whether an Authorization header carries `token` as its bearer token (compared in constant time)."""
    scheme, _, given = authorization.strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode("latin-1"), token.encode())


def _replaying(body: bytes) -> Receive:
    """A `receive` that gives the body already read, then says the client went away."""
    replayed = False

    async def replay() -> dict[str, Any]:
        nonlocal replayed
        if replayed:
            return {"type": "http.disconnect"}
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _read_capped(receive: Receive, cap: int = MAX_BODY_BYTES) -> bytes | None:
    chunks = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return bytes(chunks)
        chunks.extend(message.get("body", b""))
        if len(chunks) > cap:
            return None
        if not message.get("more_body", False):
            return bytes(chunks)


async def _respond(send: Send, status: int, body: bytes, content_type: str, *, challenge: bool = False) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    if challenge:  # a 401 says which scheme it wants
        headers.append((b"www-authenticate", b'Bearer realm="metrics"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def make_server(
    app: LeewayASGI, *, host: str, port: int, log_level: str = "info", keep_logging: bool = False
) -> uvicorn.Server:
    """`keep_logging`: leave the logging Leeway set up (JSON lines) instead of uvicorn's own."""
    return uvicorn.Server(
        _config(app, host=host, port=port, log_level=log_level, keep_logging=keep_logging, lifespan="off")
    )


def freeze_startup_heap() -> None:
    """What building Leeway made (modules, the app, SQLAlchemy's mappers: some 150,000 objects)
    lives as long as the process: out of the garbage collector's sight from here on, called
    before the background starts, so its jobs' leftovers are still collected. Each full collection
    went over all of it, holding the interpreter for tens of milliseconds while acks waited, and
    now goes over only what was made since."""
    gc.collect()
    gc.freeze()


def serve_workers(
    factory: str, *, workers: int, host: str, port: int, log_level: str = "info", keep_logging: bool = False
) -> bool:
    """Serve `host:port` with `workers` processes under uvicorn's supervisor, until SIGTERM or
    SIGINT, when each finishes the requests in flight and runs its lifespan shutdown. Each
    process calls `factory` ("module:function") for its app as it starts. False when a worker
    could not start (the supervisor then stops them all)."""
    config = _config(
        factory,
        host=host,
        port=port,
        log_level=log_level,
        keep_logging=keep_logging,
        factory=True,
        workers=workers,
        lifespan="on",  # how each worker starts and stops its background work (see Lifespan)
    )
    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    supervisor.run()
    return all(process.exitcode != STARTUP_FAILURE for process in supervisor.processes)


def _config(
    app: LeewayASGI | str, *, host: str, port: int, log_level: str, keep_logging: bool, **options: Any
) -> uvicorn.Config:
    extra: dict[str, Any] = {"log_config": None} if keep_logging else {}
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level.lower(),
        access_log=False,
        timeout_graceful_shutdown=10,
        **extra,
        **options,
    )


class Lifespan:
    """A worker process's app: `app`, with `start` run before the worker takes its first request
    and `stop` after it has answered its last (ASGI's lifespan events)."""

    def __init__(self, app: LeewayASGI, *, start: Callable[[], None], stop: Callable[[], None]) -> None:
        self.app = app
        self.start = start
        self.stop = stop

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                freeze_startup_heap()  # before the start's jobs run, so what they leave isn't frozen
                await asyncio.to_thread(self.start)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.to_thread(self.stop)
                await send({"type": "lifespan.shutdown.complete"})
                return


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
