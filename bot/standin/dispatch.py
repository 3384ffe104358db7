"""One request to the stand-in Slack, from its path to its recorded answer.

``/api/<method>``: parse the arguments, check them against the spec, authenticate, apply a fault
if one is switched on, then run the method's handler.  ``/response/<key>``: a post to a response
URL.  ``/upload/v1/<key>``: a file's bytes, to the URL files.getUploadURLExternal handed out.
Anything else is a 404 and a violation.  Every answer to a call is recorded in the log.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from bot.standin import files
from bot.standin.calls import CallLog
from bot.standin.faults import Faults
from bot.standin.methods import HANDLERS as MESSAGE_HANDLERS
from bot.standin.methods import ApiError
from bot.standin.response_urls import apply_response
from bot.standin.server import Answer, parse_body
from bot.standin.spec import Spec, SpecCheck, decode_json_args
from bot.standin.workspace import Workspace

__all__ = ["Dispatcher"]

_METHOD_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)+$")
_API = "/api/"
_RESPONSE = "/response/"
HANDLERS = {**MESSAGE_HANDLERS, **files.HANDLERS}


class Dispatcher:
    """Answers the server's requests; holds ``lock`` while it reads or changes any state."""

    def __init__(
        self,
        *,
        lock: threading.RLock,
        spec: Spec | None,
        workspace: Workspace,
        faults: Faults,
        log: CallLog,
    ) -> None:
        self._lock = lock
        self._spec = spec
        self._workspace = workspace
        self._faults = faults
        self._log = log

    def answer(self, verb: str, path: str, headers: Mapping[str, str], raw: bytes) -> Answer:
        parts = urlsplit(path)
        route = parts.path
        hold = None
        if route.startswith(_API) and self._faults.holding:
            # Like a slow Slack: a held call stays in flight, outside the lock, until released.
            try:
                peek: dict[str, Any] = dict(parse_qsl(parts.query, keep_blank_values=True))
                peek.update(parse_body(headers, raw))
            except (ValueError, UnicodeDecodeError):
                peek = {}
            with self._lock:
                hold = self._faults.take_hold(route[len(_API) :], peek)
            if hold is not None and not hold.answer_only:
                hold.wait_released()
        answer = self._carry_out(verb, route, parts.query, headers, raw)
        if hold is not None and hold.answer_only:
            hold.wait_released()  # done, and recorded; only the answer is slow to come back
        return answer

    def _carry_out(self, verb: str, route: str, query: str, headers: Mapping[str, str], raw: bytes) -> Answer:
        with self._lock:
            if route.startswith(_API) and verb in ("GET", "POST"):
                method = route[len(_API) :]
                if _METHOD_RE.match(method):
                    return self._api_call(method, query, headers, raw)
            elif route.startswith(_RESPONSE) and verb == "POST" and len(route) > len(_RESPONSE):
                return self._response_post(unquote(route[len(_RESPONSE) :]), headers, raw)
            elif route.startswith(files.UPLOAD_PATH) and verb == "POST":
                return self._upload(unquote(route[len(files.UPLOAD_PATH) :]), headers, raw)
            self._log.violations.append(f"{verb} {route}: no such endpoint (404)")
            return Answer(404, {"ok": False, "error": "not_found"})

    def note_internal_error(self, description: str) -> None:
        with self._lock:
            self._log.violations.append(f"stand-in internal error on {description}")

    def _record(self, method: str, args: dict[str, Any], answer: Answer, at: float) -> Answer:
        self._log.record(method, args, answer.status, answer.body, at)
        return answer

    def _api_call(self, method: str, query: str, headers: Mapping[str, str], raw: bytes) -> Answer:
        at = time.monotonic()
        args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        try:
            args.update(parse_body(headers, raw))
        except (ValueError, UnicodeDecodeError) as exc:
            args.pop("token", None)
            self._log.violations.append(f"{method}: request body could not be parsed ({exc})")
            return self._record(method, args, Answer(200, {"ok": False, "error": "invalid_json"}), at)
        token = args.pop("token", None)

        problems = decode_json_args(method, args)
        checked = self._spec.check(method, args) if self._spec is not None else SpecCheck()
        problems.extend(checked.problems)
        for warning in checked.warnings:
            self._log.warn(warning)
        authorization = headers.get("authorization", "")
        bearer = authorization[len("Bearer ") :] if authorization.startswith("Bearer ") else None
        authed = any(isinstance(t, str) and t.startswith(("xox", "xapp-")) for t in (bearer, token))
        if not checked.known:
            self._log.violations.append(f"{method}: unknown method (not in the Web API description)")
            return self._record(method, args, Answer(200, {"ok": False, "error": "unknown_method"}), at)
        if not authed:
            return self._record(method, args, Answer(200, {"ok": False, "error": "not_authed"}), at)
        if problems:
            self._log.violations.extend(problems)
            body = {
                "ok": False,
                "error": "invalid_arguments",
                "response_metadata": {"messages": [f"[ERROR] {p.split(': ', 1)[-1]}" for p in problems]},
            }
            return self._record(method, args, Answer(200, body), at)

        fault = self._faults.take_fault(method, args)
        if fault is not None:
            return self._record(method, args, fault, at)

        handler = HANDLERS.get(method)
        try:
            result: dict[str, Any] = handler(self._workspace, args) if handler is not None else {}
            answer = Answer(200, {"ok": True, **result})
        except ApiError as err:
            answer = Answer(200, {"ok": False, "error": err.error, **err.extra})
        return self._record(method, args, self._maybe_dropped(method, args, answer), at)

    def _response_post(self, key: str, headers: Mapping[str, str], raw: bytes) -> Answer:
        at = time.monotonic()
        try:
            body = parse_body(headers, raw)
        except (ValueError, UnicodeDecodeError) as exc:
            self._log.violations.append(f"response_url {key}: body could not be parsed ({exc})")
            answer = Answer(400, {"ok": False, "error": "invalid_payload"})
            return self._record("response_url", {"key": key}, answer, at)
        decode_json_args("response_url", body)
        args: dict[str, Any] = {"key": key, **body}
        fault = self._faults.take_fault("response_url", args)
        if fault is not None:
            return self._record("response_url", args, fault, at)
        target = self._workspace.response_targets.get(key)
        try:
            if target is not None:
                apply_response(self._workspace, target, body)
            answer = Answer(200, {"ok": True})
        except ApiError as err:
            answer = Answer(400, {"ok": False, "error": err.error})
        return self._record("response_url", args, self._maybe_dropped("response_url", args, answer), at)

    def _upload(self, key: str, headers: Mapping[str, str], raw: bytes) -> Answer:
        at = time.monotonic()
        args: dict[str, Any] = {"key": key, "length": len(raw)}
        fault = self._faults.take_fault("upload", args)
        if fault is not None:
            return self._record("upload", args, fault, at)
        answer = files.receive_upload(self._workspace, key, headers, raw)
        return self._record("upload", args, self._maybe_dropped("upload", args, answer), at)

    def _maybe_dropped(self, method: str, args: dict[str, Any], answer: Answer) -> Answer:
        """The call has taken effect; a switched-on fault loses its answer all the same."""
        return replace(answer, dropped=True) if self._faults.take_drop(method, args) else answer
