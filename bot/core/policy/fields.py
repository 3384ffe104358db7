"""What the policy's models are made of: frozen models, limits, durations, switches, shares."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from bot.core.timing import parse_duration

Limit = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _duration(value: Any) -> timedelta:
    return value if isinstance(value, timedelta) else parse_duration(str(value))


Duration = Annotated[timedelta, BeforeValidator(_duration)]


def _switch(value: Any) -> Any:
    """`on` / `off`: YAML reads them as booleans already; written in quotes they are words."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("on", "off"):
        return value.strip().lower() == "on"
    raise ValueError(f"{value!r}: write on or off")


Switch = Annotated[bool, BeforeValidator(_switch)]


def _duration_or_off(value: Any) -> Any:
    if value is False or (isinstance(value, str) and value.strip().lower() == "off"):
        return None
    if value is True or value is None:
        raise ValueError(f"{value!r}: write a duration like 14d, or off")
    return _duration(value)


DurationOrOff = Annotated[timedelta | None, BeforeValidator(_duration_or_off)]


Share = Annotated[float, Field(ge=0, le=1)]
