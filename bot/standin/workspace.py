"""The stand-in Slack's workspace: users, user groups, channels' messages, ephemerals and views.

Method handlers change it; tests read it through :class:`bot.standin.StandInSlack`, always as
copies.  It does not lock; the stand-in holds its one lock around every use.
"""

from __future__ import annotations

import copy
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ResponseTarget", "Workspace", "dm_channel"]


def dm_channel(channel: str) -> str:
    """Slack answers a post to a user ID with the ID of the DM conversation with that user."""
    if channel[:1] in ("U", "W") and len(channel) > 1:
        return "D" + channel[1:]
    return channel


@dataclass(frozen=True)
class ResponseTarget:
    """Where the interaction behind a response URL happened."""

    channel: str | None
    message_ts: str | None
    user: str | None


class Workspace:
    def __init__(self, *, bot_user_id: str, bot_id: str, team_id: str, team_domain: str) -> None:
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.team_id = team_id
        self.team_domain = team_domain
        self._last_ts_us = 0
        self._view_counter = 0
        self._hash_counter = 0
        self._file_counter = 0
        self.base_url = ""  # the stand-in's address once it serves, where upload URLs point
        self.users: dict[str, dict[str, Any]] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.clear()

    def clear(self) -> None:
        """Forget messages, ephemerals, views and response URLs; users and user groups stay."""
        self.channels: dict[str, list[dict[str, Any]]] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.opened: list[str] = []  # views opened or pushed, oldest first
        self.home: dict[str, str] = {}  # user -> view ID of their Home tab
        self.response_targets: dict[str, ResponseTarget] = {}
        self.uploads: dict[str, dict[str, Any]] = {}  # file ID -> the upload (see files.py)
        self.upload_keys: dict[str, str] = {}  # upload URL key -> file ID
        self.shared_files: list[str] = []  # file IDs, in the order completed

    # ------------------------------------------------------------------ ids

    def new_ts(self) -> str:
        """A message timestamp: the clock in microseconds, and always later than the last one."""
        now = int(time.time() * 1_000_000)
        self._last_ts_us = max(now, self._last_ts_us + 1)
        return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"

    def new_file_id(self) -> str:
        self._file_counter += 1
        return f"F{self._file_counter:010d}"

    def new_hash(self) -> str:
        self._hash_counter += 1
        return f"{int(time.time())}.{hashlib.sha1(str(self._hash_counter).encode()).hexdigest()[:8]}"

    # ------------------------------------------------------------------ messages

    def find_message(self, channel: str | None, ts: str | None) -> dict[str, Any] | None:
        if channel is None or ts is None:
            return None
        for stored in self.channels.get(channel, []):
            if stored["ts"] == ts:
                return stored
        return None

    def store_message(self, channel: str, args: Mapping[str, Any]) -> dict[str, Any]:
        ts = self.new_ts()
        stored: dict[str, Any] = {
            "type": "message",
            "text": args.get("text", "") or "",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "team": self.team_id,
            "ts": ts,
        }
        for key in ("blocks", "attachments", "metadata", "files"):
            if args.get(key) is not None:
                stored[key] = copy.deepcopy(args[key])
        thread_ts = args.get("thread_ts")
        if thread_ts:
            stored["thread_ts"] = str(thread_ts)
        self.channels.setdefault(channel, []).append(stored)
        return stored

    def store_ephemeral(self, channel: str, user: str, args: Mapping[str, Any]) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "channel": channel,
            "user": user,
            "text": args.get("text", "") or "",
            "blocks": copy.deepcopy(args.get("blocks")),
            "message_ts": self.new_ts(),
        }
        if args.get("thread_ts"):
            entry["thread_ts"] = str(args["thread_ts"])
        self.ephemerals.append(entry)
        return entry

    # ------------------------------------------------------------------ views

    def store_view(
        self,
        view: Mapping[str, Any],
        *,
        view_id: str | None = None,
        previous: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store ``view`` as Slack would answer it, under a new ID unless ``view_id`` is given."""
        if view_id is None:
            self._view_counter += 1
            view_id = f"V{self._view_counter:08d}"
        stored: dict[str, Any] = copy.deepcopy(dict(view))
        stored.update(
            id=view_id,
            team_id=self.team_id,
            state={"values": {}},
            hash=self.new_hash(),
            private_metadata=view.get("private_metadata", "") or "",
            callback_id=view.get("callback_id", "") or "",
            external_id=view.get("external_id", "") or "",
            bot_id=self.bot_id,
            root_view_id=previous.get("root_view_id", view_id) if previous else view_id,
            previous_view_id=previous.get("previous_view_id") if previous else None,
        )
        self.views[view_id] = stored
        return stored

    # ------------------------------------------------------------------ users

    def add_user(self, user_id: str, *, name: str, is_bot: bool, real_name: str | None, tz: str) -> None:
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
        self.users[user_id] = {
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

    # ------------------------------------------------------------------ what tests see (copies)

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        found = self.find_message(dm_channel(channel), ts)
        return copy.deepcopy(found) if found is not None else None

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        return copy.deepcopy(self.channels.get(dm_channel(channel), []))

    def ephemerals_to(self, user: str | None) -> list[dict[str, Any]]:
        return copy.deepcopy([e for e in self.ephemerals if user is None or e["user"] == user])

    def views_opened(self) -> list[dict[str, Any]]:
        return copy.deepcopy([self.views[view_id] for view_id in self.opened])

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        view_id = self.home.get(user_id)
        return copy.deepcopy(self.views[view_id]) if view_id is not None else None

    def files_shared(self) -> list[dict[str, Any]]:
        """Every file shared with files.completeUploadExternal, oldest first, with its content."""
        return copy.deepcopy([self.uploads[file_id] for file_id in self.shared_files])

    def user(self, user_id: str) -> dict[str, Any] | None:
        found = self.users.get(user_id)
        return copy.deepcopy(found) if found is not None else None
