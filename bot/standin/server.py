"""The stand-in Slack's HTTP server: a standard-library server on a daemon thread.

It reads each request, hands it to a :class:`Responder` and writes the :class:`Answer` back as
JSON.  :func:`parse_body` reads the bodies Slack accepts: JSON, multipart and form-encoded.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP as HTTP_POLICY
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl

__all__ = ["Answer", "HttpServer", "Responder", "parse_body"]


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    # The connection is closed instead of answering: the caller never learns what happened.
    dropped: bool = False
    # Plain text instead of the JSON body (an upload URL answers "OK - <bytes>", as Slack's does).
    text: str | None = None


class Responder(Protocol):
    def answer(self, verb: str, path: str, headers: Mapping[str, str], raw: bytes) -> Answer: ...

    def note_internal_error(self, description: str) -> None: ...


def parse_body(headers: Mapping[str, str], raw: bytes) -> dict[str, Any]:
    """Arguments carried by the body; raises ValueError for a body Slack would not understand."""
    if not raw:
        return {}
    content_type = headers.get("content-type", "")
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime == "application/json":
        decoded = json.loads(raw.decode("utf-8"))
        if not isinstance(decoded, dict):
            raise ValueError("JSON body is not an object")
        return {str(k): v for k, v in decoded.items() if v is not None}
    if mime == "multipart/form-data":
        envelope = f"Content-Type: {content_type}\r\n\r\n".encode() + raw
        message = BytesParser(policy=HTTP_POLICY).parsebytes(envelope)
        args: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                continue
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            args[name] = data.decode("utf-8") if part.get_filename() is None else f"<{len(data)} bytes>"
        return args
    return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))


class HttpServer:
    """Serves ``responder`` on ``host:port`` (port 0: any free port) once started."""

    def __init__(self, responder: Responder, host: str, port: int) -> None:
        self._responder = responder
        self._host = host
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._server is not None:
            return
        server = _Server((self._host, self._port), self._responder)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="standin-slack", daemon=True
        )
        self._server = server
        self._thread = thread
        thread.start()

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = None
        self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("StandInSlack is not started; call start() first")
        host, port = self._server.server_address[:2]
        shown = host.decode() if isinstance(host, bytes) else host
        return f"http://{shown}:{port}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], responder: Responder) -> None:
        self.responder = responder
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up early is not worth a traceback on stderr."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "StandInSlack/1.0"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: no request lines on stderr."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        try:
            answer = self.server.responder.answer(self.command, self.path, headers, raw)
        except Exception as exc:  # a bug in the stand-in: answer like Slack's 500s, and say so
            self.server.responder.note_internal_error(f"{self.command} {self.path}: {exc!r}")
            answer = Answer(500, {"ok": False, "error": "internal_error"})
        if answer.dropped:
            self.close_connection = True
            return
        plain = answer.text is not None
        payload = (answer.text if answer.text is not None else json.dumps(answer.body)).encode("utf-8")
        self.send_response(answer.status)
        self.send_header("Content-Type", "text/plain; charset=utf-8" if plain else "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in answer.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = _serve
    do_POST = _serve
    do_PUT = _serve
    do_DELETE = _serve
    do_PATCH = _serve
    do_HEAD = _serve
