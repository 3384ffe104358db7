"""The rules of the company's systems talking to Leeway: tokens, scopes, the idempotency
fingerprint of a request, and the rate limit's window. Pure: no SQL, no HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from bot.core.vocabulary import Scope

# Every token starts with this, so a leaked one is recognisable (secret scanners, logs).
TOKEN_PREFIX = "lw_"
# 32 random bytes: far beyond guessing, so one unsalted SHA-256 is all the hash it needs (a
# password hash's slowness protects low-entropy secrets, which these are not).
TOKEN_BYTES = 32
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
NAME_RULE = "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
RATE_WINDOW = timedelta(minutes=1)


class IntegrationError(Exception):
    """What is wrong with an integration command, in a sentence for whoever typed it."""


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def hash_matches(stored: str, token: str) -> bool:
    """Whether `token` is the one `stored` was made from, compared in constant time."""
    return hmac.compare_digest(stored.encode(), token_hash(token).encode())


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise IntegrationError(f"`{name[:70]}` can't name an integration: use {NAME_RULE}.")
    return name


def parse_scopes(words: Iterable[str]) -> frozenset[Scope]:
    """Scopes as typed (`propose` when none); an unknown word is an IntegrationError."""
    scopes: set[Scope] = set()
    for word in words:
        try:
            scopes.add(Scope(word.strip().lower()))
        except ValueError:
            known = ", ".join(s.value for s in Scope)
            raise IntegrationError(f"`{word[:30]}` isn't a scope; the scopes are {known}.") from None
    return frozenset(scopes or {Scope.PROPOSE})


def stored_scopes(scopes: Iterable[Scope]) -> str:
    """Scopes as one stored string, in a fixed order: `propose read`."""
    chosen = set(scopes)
    return " ".join(s.value for s in Scope if s in chosen)


def read_scopes(stored: str) -> frozenset[Scope]:
    return frozenset(Scope(word) for word in stored.split())


def fingerprint(body: Mapping[str, Any]) -> str:
    """The idempotency fingerprint of a validated request body: the SHA-256 of its canonical
    JSON (keys sorted, no spaces), so the same request spelled differently matches itself."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def rate_window(now: datetime) -> datetime:
    """The fixed window (the minute) a request at `now` counts in."""
    return now.replace(second=0, microsecond=0)


def retry_after(now: datetime) -> int:
    """Whole seconds until the window after `now`'s begins: at least 1."""
    left = (rate_window(now) + RATE_WINDOW - now).total_seconds()
    return max(1, math.ceil(left))
