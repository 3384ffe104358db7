"""Shared fixtures. Every test that touches the database runs on SQLite and on PostgreSQL.

PostgreSQL comes from LEEWAY_TEST_POSTGRES_URL (`bash .ci/run` starts a server and sets it).
Without it those tests skip, unless LEEWAY_REQUIRE_POSTGRES=1, when they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from storage import migrate
from storage.db import make_engine
from tests.support import FakeClock, reset_postgres

POSTGRES_URL_VAR = "LEEWAY_TEST_POSTGRES_URL"


@pytest.fixture(autouse=True)
def _no_slack_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own SLACK_* or DATABASE_URL must never leak into a test."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "LEEWAY_POLICY")) or name in ("DATABASE_URL", "PORT", "HOST"):
            monkeypatch.delenv(name, raising=False)


def _postgres_url() -> str:
    url = os.environ.get(POSTGRES_URL_VAR)
    if not url:
        message = f"PostgreSQL tests need {POSTGRES_URL_VAR} (bash .ci/run starts PostgreSQL and sets it)"
        if os.environ.get("LEEWAY_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'leeway.db'}"
    url = _postgres_url()
    reset_postgres(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back: each test starts from empty."""
    with engine.connect() as connection:
        transaction = connection.begin()
        db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield db
        finally:
            db.close()
            transaction.rollback()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
