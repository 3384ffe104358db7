"""A stand-in for Slack's Web API: a real local HTTP server that answers in Slack's shapes.

Point a ``slack_sdk.WebClient`` (or a Bolt app) at :attr:`StandInSlack.url` and every call the bot
makes is recorded, checked against Slack's OpenAPI description (when one is given) and answered
the way Slack would answer it.  Files uploaded with Slack's external upload are kept
(:meth:`StandInSlack.files`).  Tests then look at what the bot did through :attr:`StandInSlack.calls`,
:meth:`StandInSlack.message`, :meth:`StandInSlack.views_opened` and friends, and inject failures with
:meth:`StandInSlack.fail_next` / :meth:`StandInSlack.rate_limit_next` / :meth:`StandInSlack.drop_answer_next`.

:class:`StandInSlack` is the face of its parts: ``server`` (HTTP), ``dispatch`` (one request to
its answer), ``spec`` (checks against the description), ``methods`` (the handlers, by method
name), ``workspace`` (users, messages, views), ``faults`` (errors, 429s, held calls) and ``calls``
(the log).  One lock guards all their state.  Only the standard library is used; the server runs
on a daemon thread.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

from bot.standin.calls import RECENT_CALLS_IN_DUMP, ApiCall, CallLog, short
from bot.standin.dispatch import Dispatcher
from bot.standin.faults import Faults, Hold
from bot.standin.server import HttpServer
from bot.standin.spec import Spec
from bot.standin.workspace import ResponseTarget, Workspace

__all__ = ["ApiCall", "Hold", "StandInSlack"]


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
        self._lock = threading.RLock()
        self._workspace = Workspace(
            bot_user_id=bot_user_id, bot_id=bot_id, team_id=team_id, team_domain="leeway-standin"
        )
        self._faults = Faults()
        self._log = CallLog()
        dispatcher = Dispatcher(
            lock=self._lock,
            spec=Spec.load(spec_path) if spec_path else None,
            workspace=self._workspace,
            faults=self._faults,
            log=self._log,
        )
        self._server = HttpServer(dispatcher, host, port)
        self.add_user(bot_user_id, name="leeway", is_bot=True, real_name="Leeway")

    @property
    def bot_user_id(self) -> str:
        return self._workspace.bot_user_id

    @property
    def bot_id(self) -> str:
        return self._workspace.bot_id

    @property
    def team_id(self) -> str:
        return self._workspace.team_id

    @property
    def team_domain(self) -> str:
        return self._workspace.team_domain

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> StandInSlack:
        self._server.start()
        with self._lock:
            self._workspace.base_url = self._server.base_url
        return self

    def stop(self) -> None:
        self._server.stop()

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
    def url(self) -> str:
        """Web API base URL with a trailing slash, usable as ``WebClient(base_url=...)``."""
        return f"{self._server.base_url}/api/"

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
                self._workspace.response_targets[key] = ResponseTarget(channel, message_ts, user)
        return f"{self._server.base_url}/response/{quote(key, safe='')}"

    # ------------------------------------------------------------------ inspection

    @property
    def calls(self) -> list[ApiCall]:
        with self._lock:
            return list(self._log.calls)

    def calls_to(self, method: str, **match: Any) -> list[ApiCall]:
        with self._lock:
            return self._log.calls_to(method, match)

    def wait_for(self, method: str, *, count: int = 1, timeout: float = 5.0, **match: Any) -> list[ApiCall]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.calls_to(method, **match)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                break
            time.sleep(0.01)
        wanted = f"{method}" + (f" matching {short(match, 300)}" if match else "")
        raise AssertionError(
            f"timed out after {timeout:.1f}s waiting for {count} call(s) to {wanted}; saw {len(found)}.\n" + self.dump()
        )

    def dump(self, last: int = RECENT_CALLS_IN_DUMP) -> str:
        """A readable listing of the most recent calls, violations and warnings."""
        with self._lock:
            return self._log.dump(last)

    @property
    def violations(self) -> list[str]:
        with self._lock:
            return list(self._log.violations)

    @property
    def warnings(self) -> list[str]:
        with self._lock:
            return list(self._log.warnings)

    def reset(self) -> None:
        """Forget calls, violations, warnings, faults, messages, ephemerals and views (users/groups stay)."""
        with self._lock:
            self._log.clear()
            self._faults.clear()
            self._workspace.clear()

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        with self._lock:
            return self._workspace.message(channel, ts)

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        with self._lock:
            return self._workspace.messages_in(channel)

    def ephemerals(self, user: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return self._workspace.ephemerals_to(user)

    def views_opened(self) -> list[dict[str, Any]]:
        """Views opened with views.open / views.push (current content after views.update), newest last."""
        with self._lock:
            return self._workspace.views_opened()

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._workspace.home_view(user_id)

    def files(self) -> list[dict[str, Any]]:
        """Files shared with files.completeUploadExternal, oldest first: each with its ``id``,
        ``name``, ``title``, ``length``, ``channel``, ``initial_comment`` and ``content`` (bytes)."""
        with self._lock:
            return self._workspace.files_shared()

    def user(self, user_id: str) -> dict[str, Any] | None:
        """The users.info record of a user added with :meth:`add_user` (the bot user is always there)."""
        with self._lock:
            return self._workspace.user(user_id)

    # ------------------------------------------------------------------ configuration

    def fail_next(self, method: str, error: str, *, times: int = 1, **match: Any) -> None:
        with self._lock:
            self._faults.fail_next(method, error, times=times, match=match)

    def rate_limit_next(self, method: str, *, retry_after: int = 1, times: int = 1, **match: Any) -> None:
        with self._lock:
            self._faults.rate_limit_next(method, retry_after=retry_after, times=times, match=match)

    def drop_answer_next(self, method: str, *, times: int = 1, **match: Any) -> None:
        """The next matching call takes effect (a post is posted), then the connection closes
        without an answer: a stand-in for a network that drops Slack's reply on the way back."""
        with self._lock:
            self._faults.drop_answer_next(method, times=times, match=match)

    def hold_next(self, method: str, **match: Any) -> Hold:
        """The next matching call stays in flight (unanswered) until released: a stand-in for
        a Slack that is slow to answer, or for a process killed in the middle of a call."""
        with self._lock:
            return self._faults.hold_next(method, match)

    def hold_answer_next(self, method: str, **match: Any) -> Hold:
        """The next matching call is carried out, but its answer stays in flight until released:
        Slack has posted the message (people see it and react) and its reply to the bot is slow."""
        with self._lock:
            return self._faults.hold_next(method, match, answer_only=True)

    def set_usergroup(self, usergroup_id: str, users: list[str]) -> None:
        with self._lock:
            self._workspace.usergroups[usergroup_id] = list(users)

    def add_user(
        self,
        user_id: str,
        *,
        name: str,
        is_bot: bool = False,
        real_name: str | None = None,
        tz: str = "America/Los_Angeles",
    ) -> None:
        with self._lock:
            self._workspace.add_user(user_id, name=name, is_bot=is_bot, real_name=real_name, tz=tz)
