"""Webhook events as company systems receive them: the event document, its bytes, and their
signature. Pure: no clock, no network (the sender passes the time it signs at)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bot.core.vocabulary import WebhookEvent

SIGNATURE_HEADER = "Leeway-Signature"
EVENT_ID_HEADER = "Leeway-Event-Id"
EVENT_ID_PREFIX = "evt_"


def event_document(*, event_id: str, event: WebhookEvent, created: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """`{"id", "type", "created", "data"}`: what the endpoint receives, in that order."""
    return {"id": event_id, "type": event.value, "created": timestamp(created), "data": data}


def body_of(document: dict[str, Any]) -> bytes:
    """The document's bytes on the wire: compact UTF-8 JSON, keys in the order they were written.
    These exact bytes are signed and sent."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def signature(secret: str, body: bytes, *, at: int) -> str:
    """`t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">`, as Stripe and others sign: the time is
    inside the MAC, so a receiver can refuse a replay of an old delivery."""
    mac = hmac.new(secret.encode(), str(at).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def timestamp(at: datetime) -> str:
    """ISO 8601 in UTC, to the second, with a Z: `2026-11-24T09:00:00Z`."""
    return at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def money(amount: Decimal | None) -> str | None:
    """Amounts as strings with two decimals (`"15.00"`), so no receiver reads them as floats."""
    return None if amount is None else str(Decimal(amount).quantize(Decimal("0.01")))
