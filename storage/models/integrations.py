"""The company's systems that talk to Leeway's API: their tokens (hashed), and the answers
each gave under an Idempotency-Key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class Integration(Base):
    """One company system with an API token. Only the token's SHA-256 is kept; revoked ones stay,
    so their name still says who made the proposals they made."""

    __tablename__ = "integration"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(64))  # space-separated, e.g. "propose read"
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    # The rate limit's counter: requests in the current minute, spent by one conditional write
    # (see queries.spend_rate), so it holds across processes and instances.
    rate_window: Mapped[datetime | None]
    rate_count: Mapped[int] = mapped_column(Integer, default=0)


class IdempotentAnswer(Base):
    """A request made under an Idempotency-Key: claimed with its body's fingerprint before the
    proposal is recorded, and given the answer after. A repeat with the same body gets this
    answer; with another body, a conflict."""

    __tablename__ = "idempotent_answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integration.id"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    # None while the request that claimed the key is being answered (or if it died meanwhile:
    # a repeat then records it again under the same source key, which makes nothing twice).
    status_code: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[dict[str, Any] | None]

    __table_args__ = (UniqueConstraint("integration_id", "key", name="uq_idempotent_answer_integration_id_key"),)
