"""Engine and sessions. SQLite by default (WAL, busy timeout); PostgreSQL via DATABASE_URL.

This opens connections and transactions for the use cases; the queries run on what it opens."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000
# The execution option that marks a connection's transaction as one that only reads.
READ_ONLY = "leeway_read_only"


def normalize_url(url: str) -> str:
    """Accept the usual `postgresql://user:pass@host/db` (and `postgres://`) as written."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalize_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}, **kwargs
        )
        _configure_sqlite(engine)
    else:
        kwargs.setdefault("pool_size", 10)
        engine = create_engine(url, **kwargs)
    _ping_if_idle(engine)
    _refuse_writes_when_reading(engine)
    return engine


# A connection used moments ago is alive; pinging it before every transaction would add a round
# trip to each one. One that sat idle may have been dropped (a restart, a failover): check it.
PING_AFTER_IDLE_SECONDS = 10.0


def _ping_if_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["leeway_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("leeway_idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The server went away: the pool drops this connection and every other one made
            # before now, then connects afresh (SQLAlchemy's documented way).
            raise exc.InvalidatePoolError(f"stale connection: {error}") from error


def _refuse_writes_when_reading(engine: Engine) -> None:
    """A transaction opened to read (see `reading`) may not write: on SQLite it holds no writer
    lock, and a write there would fail at once whenever another writer had committed since its
    first read. Refused every time, on every database, it cannot slip through the tests."""

    @event.listens_for(engine, "before_cursor_execute")
    def _on_execute(
        connection: Connection, _cursor: Any, _statement: str, _parameters: Any, context: Any, _many: bool
    ) -> None:
        writes = context is not None and (context.isinsert or context.isupdate or context.isdelete)
        if writes and connection.get_execution_options().get(READ_ONLY):
            raise WriteWhileReading("a write in a transaction opened only to read")


class WriteWhileReading(RuntimeError):
    pass


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    # Within one process, writers queue on a Python lock: the next one starts the moment the
    # last commits, instead of waking from SQLite's busy-handler sleeps (up to 100 ms each).
    # Between processes (WEB_CONCURRENCY's workers), SQLite's own lock queues them: BEGIN
    # IMMEDIATE waits for it up to the busy timeout, so only one writer a process polls for it.
    # A transaction that only reads (see `reading`) takes neither lock: in WAL mode it reads
    # its snapshot beside the writer.
    writer = threading.Lock()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
            return
        if not writer.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise sqlite3.OperationalError("database is locked (another writer held it too long)")
        connection.info["leeway_writer"] = True
        try:
            # Take SQLite's write lock up front: a read that later upgrades to a write can
            # fail at once with "database is locked" instead of waiting its turn.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            connection.info.pop("leeway_writer", None)
            writer.release()
            raise

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(connection: Connection) -> None:
        if connection.info.pop("leeway_writer", False):  # only the connection that took it
            writer.release()


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def reading(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction that only reads. On SQLite it takes no writer lock and waits for no
    writer, reading the snapshot of its first read. A write in it raises WriteWhileReading."""
    with sessions.begin() as session:
        session.connection(execution_options={READ_ONLY: True})
        yield session


@contextmanager
def batch_connection(sessions: sessionmaker[Session]) -> Iterator[Connection]:
    """A connection to write one batch of new proposals on (`storage.batch.add_proposals`),
    committed when the block ends: all of it or none. On PostgreSQL the batch is one statement,
    atomic by itself, so the connection is in autocommit: no BEGIN and COMMIT, two round trips
    fewer. Elsewhere it is a transaction."""
    engine: Engine = sessions.kw["bind"]
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            yield connection
    else:
        with engine.begin() as connection:
            yield connection
