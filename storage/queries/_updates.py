"""Running an UPDATE (or a DELETE) and learning how many rows it changed."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Delete, Update
from sqlalchemy.orm import Session


def updated(session: Session, statement: Update | Delete) -> int:
    """Run `statement` and return how many rows it changed. Objects already loaded are left as
    they are: the caller knows what it changed (see `bot.services.records.mark`)."""
    result = session.execute(statement.execution_options(synchronize_session=False))
    # The session types every result as rows to read; an UPDATE's is a cursor result, with a count.
    return cast("CursorResult[Any]", result).rowcount
