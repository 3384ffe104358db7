"""A stand-in for Slack's Web API: a real local HTTP server that answers in Slack's shapes.

Point a ``slack_sdk.WebClient`` (or a Bolt app) at :attr:`StandInSlack.url` and every call the bot
makes is recorded, checked against Slack's OpenAPI description (when one is given) and answered
the way Slack would answer it.  Tests then look at what the bot did through :attr:`StandInSlack.calls`,
:meth:`StandInSlack.message`, :meth:`StandInSlack.views_opened` and friends, and inject failures with
:meth:`StandInSlack.fail_next` / :meth:`StandInSlack.rate_limit_next`.

Only the standard library is used; the server runs on a daemon thread.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP as HTTP_POLICY
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

__all__ = ["ApiCall", "StandInSlack"]

# Arguments Slack takes as JSON documents.  In a form-encoded request they arrive as JSON strings
# (the OpenAPI description types them "string"); slack_sdk sends them as objects in a JSON body.
JSON_ARGS = frozenset({"blocks", "attachments", "view", "metadata"})

# Methods newer than the OpenAPI description; allowed without argument checks.
EXTRA_METHODS = frozenset({"files.getUploadURLExternal", "files.completeUploadExternal", "apps.connections.open"})

_METHOD_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)+$")
_INT_RE = re.compile(r"^-?\d+$")
_RECENT_CALLS_IN_DUMP = 20
_HOLD_LIMIT_SECONDS = 60


@dataclass(frozen=True)
class ApiCall:
    """One request the stand-in received."""

    method: str  # e.g. "chat.postMessage", or "response_url" for posts to a response URL
    args: dict[str, Any]  # merged query + form + JSON body args (the token is not included)
    status: int  # HTTP status answered
    response: dict[str, Any]
    at: float  # time.monotonic() when received

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        error = self.response.get("error")
        return error if isinstance(error, str) else None


@dataclass(frozen=True)
class _Param:
    name: str
    type: str
    required: bool


@dataclass
class Hold:
    """A call kept in flight: `arrived` is set when it reaches the stand-in; `release()` lets it on."""

    method: str
    match: dict[str, Any]
    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self.released.set()


@dataclass
class _Fault:
    method: str
    match: dict[str, Any]
    remaining: int
    error: str | None = None  # fail_next
    retry_after: int | None = None  # rate_limit_next


@dataclass
class _Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _ResponseTarget:
    channel: str | None
    message_ts: str | None
    user: str | None


class _ApiError(Exception):
    """Raised inside a method handler to answer ``{"ok": false, "error": code}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def _load_spec(path: Path) -> dict[str, dict[str, _Param]]:
    document = json.loads(path.read_text(encoding="utf-8"))
    methods: dict[str, dict[str, _Param]] = {}
    for route, operations in document.get("paths", {}).items():
        name = route.lstrip("/")
        params: dict[str, _Param] = {}
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for raw in operation.get("parameters", []):
                if "name" not in raw:
                    continue
                params[raw["name"]] = _Param(
                    name=raw["name"], type=str(raw.get("type", "string")), required=bool(raw.get("required"))
                )
        methods[name] = params
    return methods


def _matches(args: Mapping[str, Any], match: Mapping[str, Any]) -> bool:
    return all(key in args and args[key] == value for key, value in match.items())


def _type_ok(param: _Param, value: Any) -> bool:
    kind = param.type
    if kind == "boolean":
        if isinstance(value, bool):
            return True
        if isinstance(value, int):
            return value in (0, 1)
        return isinstance(value, str) and value in ("true", "false", "1", "0")
    if kind == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return True
        return isinstance(value, str) and bool(_INT_RE.match(value))
    if kind == "number":
        if isinstance(value, bool):
            return False
        if isinstance(value, int | float):
            return math.isfinite(value)
        if isinstance(value, str):
            try:
                return math.isfinite(float(value))
            except ValueError:
                return False
        return False
    if kind == "string":
        if isinstance(value, str):
            return True
        if isinstance(value, list | dict):
            return param.name in JSON_ARGS
        # Scalars: a form-encoded request would carry them as strings anyway, and slack_sdk sends
        # e.g. chat.update's ``link_names`` / ``as_user`` (typed "string" in the description) as JSON
        # booleans.  Accept them so real SDK calls do not count as violations.
        return isinstance(value, bool | int | float)
    return True


def _short(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("true", "1", "yes")
    return bool(value)


def _dm_channel(channel: str) -> str:
    """Slack answers a post to a user ID with the ID of the DM conversation with that user."""
    if channel[:1] in ("U", "W") and len(channel) > 1:
        return "D" + channel[1:]
    return channel


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: StandInSlack) -> None:
        self.app = app
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
            answer = self.server.app._dispatch(self.command, self.path, headers, raw)
        except Exception as exc:  # a bug in the stand-in: answer like Slack's 500s, and say so
            self.server.app._note_internal_error(f"{self.command} {self.path}: {exc!r}")
            answer = _Answer(500, {"ok": False, "error": "internal_error"})
        payload = json.dumps(answer.body).encode("utf-8")
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
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


class StandInSlack:
    """A local HTTP server speaking Slack's Web API (``/api/<method>``) and response URLs."""

    def __init__(
        self,
        *,
        spec_path: Path | None = None,
        bot_user_id: str = "U0LEEWAY",
        bot_id: str = "B0LEEWAY",
        team_id: str = "T0LEEWAY",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.team_id = team_id
        self.team_domain = "leeway-standin"
        self._host = host
        self._port = port
        self._spec: dict[str, dict[str, _Param]] | None = _load_spec(spec_path) if spec_path else None
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._last_ts_us = 0
        self._view_counter = 0
        self._hash_counter = 0
        self._users: dict[str, dict[str, Any]] = {}
        self._usergroups: dict[str, list[str]] = {}
        self._clear_state()
        self.add_user(bot_user_id, name="leeway", is_bot=True, real_name="Leeway")

    def _clear_state(self) -> None:
        self._calls: list[ApiCall] = []
        self._violations: list[str] = []
        self._warnings: list[str] = []
        self._faults: list[_Fault] = []
        for hold in getattr(self, "_holds", []):
            hold.release()  # nothing stays held across a reset
        self._holds: list[Hold] = []
        self._channels: dict[str, list[dict[str, Any]]] = {}
        self._ephemerals: list[dict[str, Any]] = []
        self._views: dict[str, dict[str, Any]] = {}
        self._opened: list[str] = []
        self._home: dict[str, str] = {}
        self._response_targets: dict[str, _ResponseTarget] = {}

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> StandInSlack:
        if self._server is not None:
            return self
        server = _Server((self._host, self._port), self)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="standin-slack", daemon=True
        )
        self._server = server
        self._thread = thread
        thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = None
        self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> StandInSlack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def _base(self) -> str:
        if self._server is None:
            raise RuntimeError("StandInSlack is not started; call start() first")
        host, port = self._server.server_address[:2]
        shown = host.decode() if isinstance(host, bytes) else host
        return f"http://{shown}:{port}"

    @property
    def url(self) -> str:
        """Web API base URL with a trailing slash, usable as ``WebClient(base_url=...)``."""
        return f"{self._base}/api/"

    def response_url(
        self,
        key: str,
        *,
        channel: str | None = None,
        message_ts: str | None = None,
        user: str | None = None,
    ) -> str:
        """A URL on this server recording POSTs as ``ApiCall(method="response_url", args={"key": key, ...})``.

        Optionally bind it to where the interaction happened, so that posts to it act like Slack's:
        ``delete_original`` / ``replace_original`` change the stored message ``channel``/``message_ts``,
        ``response_type: in_channel`` posts a new message in ``channel``, anything else posts an
        ephemeral message to ``user`` in ``channel``.
        """
        with self._lock:
            if channel is not None or message_ts is not None or user is not None:
                self._response_targets[key] = _ResponseTarget(channel, message_ts, user)
        return f"{self._base}/response/{quote(key, safe='')}"

    # ------------------------------------------------------------------ inspection

    @property
    def calls(self) -> list[ApiCall]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str, **match: Any) -> list[ApiCall]:
        with self._lock:
            return [call for call in self._calls if call.method == method and _matches(call.args, match)]

    def wait_for(self, method: str, *, count: int = 1, timeout: float = 5.0, **match: Any) -> list[ApiCall]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.calls_to(method, **match)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                break
            time.sleep(0.01)
        wanted = f"{method}" + (f" matching {_short(match, 300)}" if match else "")
        raise AssertionError(
            f"timed out after {timeout:.1f}s waiting for {count} call(s) to {wanted}; saw {len(found)}.\n" + self.dump()
        )

    def dump(self, last: int = _RECENT_CALLS_IN_DUMP) -> str:
        """A readable listing of the most recent calls, violations and warnings."""
        with self._lock:
            calls = self._calls[-last:]
            skipped = len(self._calls) - len(calls)
            violations = list(self._violations)
            warnings = list(self._warnings)
        lines = [f"recent calls ({len(calls)} shown, {skipped} earlier):" if calls else "no calls recorded"]
        for call in calls:
            outcome = "ok" if call.ok else f"error={call.error}"
            lines.append(f"  {call.method} -> {call.status} {outcome} args={_short(call.args, 400)}")
        if violations:
            lines.append("violations:")
            lines.extend(f"  {v}" for v in violations)
        if warnings:
            lines.append("warnings:")
            lines.extend(f"  {w}" for w in warnings)
        return "\n".join(lines)

    @property
    def violations(self) -> list[str]:
        with self._lock:
            return list(self._violations)

    @property
    def warnings(self) -> list[str]:
        with self._lock:
            return list(self._warnings)

    def reset(self) -> None:
        """Forget calls, violations, warnings, faults, messages, ephemerals and views (users/groups stay)."""
        with self._lock:
            self._clear_state()

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._find_message(_dm_channel(channel), ts)
            return copy.deepcopy(found) if found is not None else None

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._channels.get(_dm_channel(channel), []))

    def ephemerals(self, user: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy([e for e in self._ephemerals if user is None or e["user"] == user])

    def views_opened(self) -> list[dict[str, Any]]:
        """Views opened with views.open / views.push (current content after views.update), newest last."""
        with self._lock:
            return copy.deepcopy([self._views[view_id] for view_id in self._opened])

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        with self._lock:
            view_id = self._home.get(user_id)
            return copy.deepcopy(self._views[view_id]) if view_id is not None else None

    def user(self, user_id: str) -> dict[str, Any] | None:
        """The users.info record of a user added with :meth:`add_user` (the bot user is always there)."""
        with self._lock:
            found = self._users.get(user_id)
            return copy.deepcopy(found) if found is not None else None

    # ------------------------------------------------------------------ configuration

    def fail_next(self, method: str, error: str, *, times: int = 1, **match: Any) -> None:
        with self._lock:
            self._faults.append(_Fault(method=method, match=dict(match), remaining=times, error=error))

    def rate_limit_next(self, method: str, *, retry_after: int = 1, times: int = 1, **match: Any) -> None:
        with self._lock:
            self._faults.append(_Fault(method=method, match=dict(match), remaining=times, retry_after=retry_after))

    def set_usergroup(self, usergroup_id: str, users: list[str]) -> None:
        with self._lock:
            self._usergroups[usergroup_id] = list(users)

    def add_user(
        self,
        user_id: str,
        *,
        name: str,
        is_bot: bool = False,
        real_name: str | None = None,
        tz: str = "America/Los_Angeles",
    ) -> None:
        real = real_name if real_name is not None else name
        profile: dict[str, Any] = {
            "display_name": name,
            "display_name_normalized": name,
            "real_name": real,
            "real_name_normalized": real,
            "team": self.team_id,
        }
        if is_bot:
            profile["bot_id"] = self.bot_id if user_id == self.bot_user_id else "B" + user_id[1:]
        record: dict[str, Any] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "deleted": False,
            "real_name": real,
            "tz": tz,
            "tz_label": "Pacific Standard Time" if tz == "America/Los_Angeles" else tz,
            "tz_offset": -28800 if tz == "America/Los_Angeles" else 0,
            "is_admin": False,
            "is_owner": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "profile": profile,
        }
        with self._lock:
            self._users[user_id] = record

    # ------------------------------------------------------------------ request handling

    def _dispatch(self, verb: str, path: str, headers: Mapping[str, str], raw: bytes) -> _Answer:
        parts = urlsplit(path)
        route = parts.path
        if route.startswith("/api/") and self._holds:
            # Like a slow Slack: a held call stays in flight, outside the lock, until released.
            try:
                peek: dict[str, Any] = dict(parse_qsl(parts.query, keep_blank_values=True))
                peek.update(self._parse_body(headers, raw))
            except (ValueError, UnicodeDecodeError):
                peek = {}
            hold = self._take_hold(route[len("/api/") :], peek)
            if hold is not None:
                hold.released.wait(_HOLD_LIMIT_SECONDS)
        with self._lock:
            if route.startswith("/api/") and verb in ("GET", "POST"):
                method = route[len("/api/") :]
                if _METHOD_RE.match(method):
                    return self._api_request(method, parts.query, headers, raw)
            elif route.startswith("/response/") and verb == "POST" and len(route) > len("/response/"):
                return self._response_request(unquote(route[len("/response/") :]), headers, raw)
            self._violations.append(f"{verb} {route}: no such endpoint (404)")
            return _Answer(404, {"ok": False, "error": "not_found"})

    def _note_internal_error(self, description: str) -> None:
        with self._lock:
            self._violations.append(f"stand-in internal error on {description}")

    def _record(self, method: str, args: dict[str, Any], answer: _Answer, at: float) -> _Answer:
        self._calls.append(
            ApiCall(
                method=method,
                args=copy.deepcopy(args),
                status=answer.status,
                response=copy.deepcopy(answer.body),
                at=at,
            )
        )
        return answer

    def _parse_body(self, headers: Mapping[str, str], raw: bytes) -> dict[str, Any]:
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

    def _api_request(self, method: str, query: str, headers: Mapping[str, str], raw: bytes) -> _Answer:
        at = time.monotonic()
        args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        try:
            args.update(self._parse_body(headers, raw))
        except (ValueError, UnicodeDecodeError) as exc:
            args.pop("token", None)
            self._violations.append(f"{method}: request body could not be parsed ({exc})")
            return self._record(method, args, _Answer(200, {"ok": False, "error": "invalid_json"}), at)
        token = args.pop("token", None)

        problems = self._decode_json_args(method, args)
        known = self._check_spec(method, args, problems)
        authorization = headers.get("authorization", "")
        bearer = authorization[len("Bearer ") :] if authorization.startswith("Bearer ") else None
        authed = any(isinstance(t, str) and t.startswith(("xox", "xapp-")) for t in (bearer, token))
        if not known:
            return self._record(method, args, _Answer(200, {"ok": False, "error": "unknown_method"}), at)
        if not authed:
            return self._record(method, args, _Answer(200, {"ok": False, "error": "not_authed"}), at)
        if problems:
            self._violations.extend(problems)
            body = {
                "ok": False,
                "error": "invalid_arguments",
                "response_metadata": {"messages": [f"[ERROR] {p.split(': ', 1)[-1]}" for p in problems]},
            }
            return self._record(method, args, _Answer(200, body), at)

        fault = self._take_fault(method, args)
        if fault is not None:
            return self._record(method, args, fault, at)

        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        try:
            result: dict[str, Any] = handler(args) if handler is not None else {}
            answer = _Answer(200, {"ok": True, **result})
        except _ApiError as err:
            answer = _Answer(200, {"ok": False, "error": err.error, **err.extra})
        return self._record(method, args, answer, at)

    def _decode_json_args(self, method: str, args: dict[str, Any]) -> list[str]:
        problems: list[str] = []
        for name in JSON_ARGS:
            value = args.get(name)
            if not isinstance(value, str):
                continue
            try:
                decoded = json.loads(value)
            except ValueError:
                if value.strip():
                    problems.append(f"{method}: argument '{name}' is not valid JSON: {_short(value)}")
                continue
            if isinstance(decoded, list | dict):
                args[name] = decoded
        blocks = args.get("blocks")
        if blocks is not None and not (
            isinstance(blocks, list) and all(isinstance(b, dict) and isinstance(b.get("type"), str) for b in blocks)
        ):
            problems.append(f"{method}: argument 'blocks' must be a list of block objects, got {_short(blocks)}")
        view = args.get("view")
        if view is not None and not (isinstance(view, dict) and isinstance(view.get("type"), str)):
            problems.append(f"{method}: argument 'view' must be a view object with a type, got {_short(view)}")
        return problems

    def _check_spec(self, method: str, args: Mapping[str, Any], problems: list[str]) -> bool:
        """Append violations to ``problems``, warnings to the log; False if the method is unknown."""
        if self._spec is None or method in EXTRA_METHODS:
            return True
        params = self._spec.get(method)
        if params is None:
            self._violations.append(f"{method}: unknown method (not in the Web API description)")
            return False
        for param in params.values():
            if param.name == "token":
                continue
            if param.required and param.name not in args:
                problems.append(f"{method}: missing required argument '{param.name}'")
        for name, value in args.items():
            declared = params.get(name)
            if declared is None:
                warning = f"{method}: unknown argument '{name}'"
                if warning not in self._warnings:
                    self._warnings.append(warning)
            elif not _type_ok(declared, value):
                problems.append(f"{method}: argument '{name}' should be {declared.type}, got {_short(value)}")
        return True

    def hold_next(self, method: str, **match: Any) -> Hold:
        """The next matching call stays in flight (unanswered) until released: a stand-in for
        a Slack that is slow to answer, or for a process killed in the middle of a call."""
        hold = Hold(method=method, match=dict(match))
        with self._lock:
            self._holds.append(hold)
        return hold

    def _take_hold(self, method: str, args: Mapping[str, Any]) -> Hold | None:
        with self._lock:
            for hold in self._holds:
                if hold.method == method and _matches(args, hold.match):
                    self._holds.remove(hold)
                    hold.arrived.set()
                    return hold
        return None

    def _take_fault(self, method: str, args: Mapping[str, Any]) -> _Answer | None:
        for fault in self._faults:
            if fault.method != method or not _matches(args, fault.match):
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            if fault.retry_after is not None:
                return _Answer(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(fault.retry_after)})
            return _Answer(200, {"ok": False, "error": fault.error or "fatal_error"})
        return None

    def _response_request(self, key: str, headers: Mapping[str, str], raw: bytes) -> _Answer:
        at = time.monotonic()
        try:
            body = self._parse_body(headers, raw)
        except (ValueError, UnicodeDecodeError) as exc:
            self._violations.append(f"response_url {key}: body could not be parsed ({exc})")
            answer = _Answer(400, {"ok": False, "error": "invalid_payload"})
            return self._record("response_url", {"key": key}, answer, at)
        self._decode_json_args("response_url", body)
        args: dict[str, Any] = {"key": key, **body}
        fault = self._take_fault("response_url", args)
        if fault is not None:
            return self._record("response_url", args, fault, at)
        target = self._response_targets.get(key)
        try:
            if target is not None:
                self._apply_response(target, body)
            answer = _Answer(200, {"ok": True})
        except _ApiError as err:
            answer = _Answer(400, {"ok": False, "error": err.error})
        return self._record("response_url", args, answer, at)

    def _apply_response(self, target: _ResponseTarget, body: Mapping[str, Any]) -> None:
        original = (
            self._find_message(target.channel, target.message_ts)
            if target.channel is not None and target.message_ts is not None
            else None
        )
        if _truthy(body.get("delete_original")):
            if original is None or target.channel is None:
                raise _ApiError("message_not_found")
            self._channels[target.channel].remove(original)
            return
        if not (body.get("text") or body.get("blocks") or body.get("attachments")):
            raise _ApiError("no_text")
        if _truthy(body.get("replace_original")) and original is not None:
            original["text"] = body.get("text", "")
            for key in ("blocks", "attachments"):
                if key in body:
                    original[key] = copy.deepcopy(body[key])
                else:
                    original.pop(key, None)
            return
        if target.channel is None:
            return
        if body.get("response_type") == "in_channel":
            self._store_message(target.channel, body)
        elif target.user is not None:
            self._store_ephemeral(target.channel, target.user, body)

    # ------------------------------------------------------------------ state helpers

    def _new_ts(self) -> str:
        now = int(time.time() * 1_000_000)
        self._last_ts_us = max(now, self._last_ts_us + 1)
        return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"

    def _new_hash(self) -> str:
        self._hash_counter += 1
        return f"{int(time.time())}.{hashlib.sha1(str(self._hash_counter).encode()).hexdigest()[:8]}"

    def _find_message(self, channel: str | None, ts: str | None) -> dict[str, Any] | None:
        if channel is None or ts is None:
            return None
        for stored in self._channels.get(channel, []):
            if stored["ts"] == ts:
                return stored
        return None

    def _store_message(self, channel: str, args: Mapping[str, Any]) -> dict[str, Any]:
        ts = self._new_ts()
        stored: dict[str, Any] = {
            "type": "message",
            "text": args.get("text", "") or "",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "team": self.team_id,
            "ts": ts,
        }
        for key in ("blocks", "attachments", "metadata"):
            if args.get(key) is not None:
                stored[key] = copy.deepcopy(args[key])
        thread_ts = args.get("thread_ts")
        if thread_ts:
            stored["thread_ts"] = str(thread_ts)
        self._channels.setdefault(channel, []).append(stored)
        return stored

    def _store_ephemeral(self, channel: str, user: str, args: Mapping[str, Any]) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "channel": channel,
            "user": user,
            "text": args.get("text", "") or "",
            "blocks": copy.deepcopy(args.get("blocks")),
            "message_ts": self._new_ts(),
        }
        if args.get("thread_ts"):
            entry["thread_ts"] = str(args["thread_ts"])
        self._ephemerals.append(entry)
        return entry

    @staticmethod
    def _require_content(args: Mapping[str, Any]) -> None:
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            raise _ApiError("no_text")

    @staticmethod
    def _require(args: Mapping[str, Any], *names: str) -> None:
        for name in names:
            if args.get(name) in (None, ""):
                raise _ApiError(
                    "invalid_arguments",
                    response_metadata={"messages": [f"[ERROR] missing required field: {name}"]},
                )

    def _store_view(
        self,
        view: Mapping[str, Any],
        *,
        view_id: str | None = None,
        previous: Mapping[str, Any] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        if view_id is None:
            self._view_counter += 1
            view_id = f"V{self._view_counter:08d}"
        stored: dict[str, Any] = copy.deepcopy(dict(view))
        stored.update(
            id=view_id,
            team_id=self.team_id,
            state={"values": {}},
            hash=self._new_hash(),
            private_metadata=view.get("private_metadata", "") or "",
            callback_id=view.get("callback_id", "") or "",
            external_id=view.get("external_id", "") or "",
            bot_id=self.bot_id,
            root_view_id=previous.get("root_view_id", view_id) if previous else view_id,
            previous_view_id=previous.get("previous_view_id") if previous else None,
        )
        stored.update(extra)
        self._views[view_id] = stored
        return stored

    # ------------------------------------------------------------------ methods

    def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": "Leeway Stand-in",
            "user": self._users.get(self.bot_user_id, {}).get("name", "leeway"),
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        self._require(args, "channel")
        self._require_content(args)
        channel = _dm_channel(str(args["channel"]))
        stored = self._store_message(channel, args)
        return {"channel": channel, "ts": stored["ts"], "message": copy.deepcopy(stored)}

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        self._require(args, "channel", "ts")
        channel = _dm_channel(str(args["channel"]))
        stored = self._find_message(channel, str(args["ts"]))
        if stored is None:
            raise _ApiError("message_not_found")
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in args:
                stored[key] = copy.deepcopy(args[key])
        stored["edited"] = {"user": self.bot_user_id, "ts": self._new_ts()}
        return {
            "channel": channel,
            "ts": stored["ts"],
            "text": stored.get("text", ""),
            "message": copy.deepcopy(stored),
        }

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        self._require(args, "channel", "user")
        self._require_content(args)
        entry = self._store_ephemeral(_dm_channel(str(args["channel"])), str(args["user"]), args)
        return {"message_ts": entry["message_ts"]}

    def _m_chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        self._require(args, "channel", "ts")
        channel = _dm_channel(str(args["channel"]))
        stored = self._find_message(channel, str(args["ts"]))
        if stored is None:
            raise _ApiError("message_not_found")
        self._channels[channel].remove(stored)
        return {"channel": channel, "ts": stored["ts"]}

    def _m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        self._require(args, "trigger_id", "view")
        view = args["view"]
        if view.get("type") != "modal":
            raise _ApiError(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] views.open needs a view of type 'modal'"]},
            )
        stored = self._store_view(view)
        self._opened.append(stored["id"])
        return {"view": copy.deepcopy(stored)}

    def _m_views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        self._require(args, "trigger_id", "view")
        previous = self._views[self._opened[-1]] if self._opened else None
        stored = self._store_view(args["view"])
        if previous is not None:
            stored["root_view_id"] = previous["root_view_id"]
            stored["previous_view_id"] = previous["id"]
        self._opened.append(stored["id"])
        return {"view": copy.deepcopy(stored)}

    def _m_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        self._require(args, "view")
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            view_id = next((vid for vid, v in self._views.items() if v.get("external_id") == args["external_id"]), None)
        if not view_id or view_id not in self._views:
            raise _ApiError("not_found")
        previous = self._views[view_id]
        if args.get("hash") and args["hash"] != previous["hash"]:
            raise _ApiError("hash_conflict")
        stored = self._store_view(args["view"], view_id=view_id, previous=previous)
        return {"view": copy.deepcopy(stored)}

    def _m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        self._require(args, "user_id", "view")
        view = args["view"]
        if view.get("type") != "home":
            raise _ApiError(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] views.publish needs a view of type 'home'"]},
            )
        user_id = str(args["user_id"])
        previous_id = self._home.get(user_id)
        if previous_id is not None and args.get("hash") and args["hash"] != self._views[previous_id]["hash"]:
            raise _ApiError("hash_conflict")
        stored = self._store_view(view, view_id=previous_id)
        self._home[user_id] = stored["id"]
        return {"view": copy.deepcopy(stored)}

    def _m_usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        group = args.get("usergroup")
        if group not in self._usergroups:
            raise _ApiError("no_such_subteam")
        return {"users": list(self._usergroups[group])}

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self._users.get(str(args.get("user", "")))
        if user is None:
            raise _ApiError("user_not_found")
        return {"user": copy.deepcopy(user)}

    def _m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("channel"):
            return {"channel": {"id": str(args["channel"])}, "no_op": True, "already_open": True}
        users_arg = args.get("users")
        users = users_arg if isinstance(users_arg, list) else str(users_arg or "").split(",")
        users = [str(u).strip() for u in users if str(u).strip()]
        if not users:
            raise _ApiError("users_list_not_supplied")
        if len(users) == 1:
            channel_id = _dm_channel(users[0])
        else:
            digest = hashlib.sha1(",".join(sorted(users)).encode()).hexdigest()[:8].upper()
            channel_id = "G" + digest
        return {"channel": {"id": channel_id}, "no_op": False, "already_open": False}
