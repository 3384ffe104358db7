"""What every table is made of: UTC-aware times, exact amounts, enum columns, the naming
convention, and the conditions of the partial indexes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, DateTime, Enum, MetaData, TypeDecorator, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

from bot.core.lifecycle import Status

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC time")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Hundredths(TypeDecorator[Decimal]):
    """Amounts as whole hundredths: exact on SQLite, which has no decimal type."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, _dialect: Dialect) -> int | None:
        if value is None:
            return None
        return int((Decimal(value) * 100).to_integral_value())

    def process_result_value(self, value: int | None, _dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(value) / 100).quantize(Decimal("0.01"))


def stored(words: type[StrEnum], length: int) -> Enum:
    """An enum column: the VARCHAR(length) it always was, holding the members' values, read
    back as members. SQLAlchemy's own Enum, made neither a database enum type nor a CHECK
    constraint, renders as that VARCHAR on every database, so the schema (and the comparison
    of the models with the migrations) is unchanged; a new word needs no migration."""
    return Enum(
        words,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )


# The conditions of the partial indexes, written as the queries that use them write them.
PENDING = text(f"status = '{Status.PENDING.value}'")
UNSCHEDULED = text(f"status = '{Status.PENDING.value}' AND expire_at IS NULL")
ASKED = text("asked IS NOT NULL")
# What a customer served themselves has no agent to look back with: it never waits for a review.
UNREVIEWED = text("reviewed_at IS NULL AND tier <> 'customer'")
AGREED = text("agreed_by IS NOT NULL")
ENDED = text("decided_at IS NOT NULL")  # every proposal that ended: granted, declined, expired, withdrawn


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        Decimal: Hundredths(),
        dict[str, Any]: JSON(),
    }
