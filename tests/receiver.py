"""A company system's webhook endpoint, for tests: a real HTTP server on 127.0.0.1 (stdlib
http.server on a free port) that records each request's raw body and headers, and answers as the
test says. Signatures are checked with the receiver README.md shows, taken from README.md itself."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support import REPO

SNIPPET = re.compile(r"<!-- webhook-receiver -->\s*```python\n(.*?)```\s*<!-- /webhook-receiver -->", re.DOTALL)


def readme_verify() -> Callable[..., bool]:
    """The `verify` function of README.md's receiver, exactly as written there."""
    found = SNIPPET.search((REPO / "README.md").read_text(encoding="utf-8"))
    assert found, "README.md has no <!-- webhook-receiver --> snippet"
    code = found.group(1)
    assert len(code.strip().splitlines()) <= 12, "the README promises a receiver in about ten lines"
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md (webhook receiver)", "exec"), namespace)
    return namespace["verify"]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))

    def header(self, name: str) -> str:
        return next(v for k, v in self.headers.items() if k.lower() == name.lower())


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hold: threading.Event | None = None  # answer only once this is set (a slow endpoint)


class Receiver:
    """Answers 200 unless told otherwise: `answer_next(Answer(...), ...)` queues answers in order."""

    def __init__(self, port: int = 0) -> None:
        self.received: list[Received] = []
        self.arrived = threading.Condition()
        self._answers: list[Answer] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.arrived:
                    answer = receiver._answers.pop(0) if receiver._answers else Answer()
                    receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                    receiver.arrived.notify_all()
                if answer.hold is not None:
                    answer.hold.wait(30)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/leeway"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer_next(self, *answers: Answer) -> None:
        with self.arrived:
            self._answers.extend(answers)

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[Received]:
        """The first `count` requests, once they have arrived (polling the real server, not a clock)."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.received)} webhook requests arrived, not {count}")
                self.arrived.wait(left)
            return list(self.received[:count])
