"""Pending proposals, asked for in the words of the partial indexes of them (`storage.models`).

SQLite uses a partial index only when the query repeats its condition with the same literal, and
PostgreSQL's cached generic plans (psycopg prepares a statement it has run five times) can't prove
a bound parameter equal to it either: so `'pending'` is written into the SQL, never bound."""

from __future__ import annotations

from sqlalchemy import ColumnElement, literal_column

from bot.core.lifecycle import Status
from storage.models import Proposal

PENDING: ColumnElement[bool] = Proposal.status == literal_column(f"'{Status.PENDING.value}'")
