"""The history bench/history.py measures against: a year of proposals, seeded through Leeway's own
migrations and then bulk SQL (`generate_series` on PostgreSQL, a recursive CTE on SQLite).

500 agents and 20 leads, the busiest agent with 4.4% of the proposals, 100 agents who never
propose, 5% pending, 38% of the grants older than a week reviewed, and every row a real grant
writes (proposal, its history, the agreement, the audit record, the posts it owed, all sent). It is
seeded at the schema it was written against (SEED_AT), and the later migrations then run over it,
as over a production database: what they derive from history they backfill. A table still empty
afterwards is named; the usage roll-up is the bot's own (at start), and bench/history.py waits
for it and names its tables if it left them empty.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import BindParameter, Connection, Engine, bindparam, func, inspect, select, text, update

from bot.core.lifecycle import Status
from bot.core.policy import Tier
from storage import migrate
from storage.db import make_engine
from storage.models import Base, OutboxMessage, Proposal

AGENTS = [f"U0A{i:03d}" for i in range(500)]  # bench/run.py's senders are the first 20
LEADS = [f"U0L{i:02d}" for i in range(20)]
DAY = 86_400
SEED_AT = "0005"  # the schema this seed was written against; later migrations run over it
SEEDED = {"proposal", "proposal_event", "approval", "decision", "outbox_message"}
EMPTY_BY_NATURE = {"availability", "channel_pace"}  # no one away; no post waiting for its slot
# Derived from history by the bot itself (its roll-up job, at start), not by a migration: the
# bench checks these once that has run.
ROLLED_UP_BY_THE_BOT = {"usage_total", "usage_total_time", "usage_rollup"}
DUE = 100  # requests the re-route pass finds due


def note(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Dialect:
    numbers: str  # a FROM item with i = 1..{n}
    postgresql: bool

    def ts(self, seconds: str) -> str:
        """Unix seconds as the column stores a UTC time (SQLite: the text SQLAlchemy writes)."""
        if self.postgresql:
            return f"to_timestamp({seconds})"
        return f"strftime('%Y-%m-%d %H:%M:%S', {seconds}, 'unixepoch') || '.000000'"

    def json(self, **pairs: str) -> str:
        args = ", ".join(f"'{key}', {value}" for key, value in pairs.items())
        return f"json_build_object({args})" if self.postgresql else f"json_object({args})"


POSTGRESQL = Dialect("generate_series(CAST(1 AS BIGINT), {n}) AS g(i)", postgresql=True)
SQLITE = Dialect(
    "(WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {n}) SELECT i FROM g) AS g",
    postgresql=False,
)


def user(prefix: str, number: str, width: int) -> str:
    """'U0A007': zero-padded the same way on both databases."""
    return f"'{prefix}' || substr(CAST({10**width} + {number} AS TEXT), 2)"


# One row of facts per proposal, from which every table's rows are drawn. Tier by i % 20: 14 in
# 20 alone, 5 peer, 1 lead; pending: one peer slot in 20 and a fifth of the lead slots (5%).
FACTS = """
SELECT b.*,
  CASE WHEN i % 10 < 3 THEN CASE WHEN i % 2 = 0 THEN amount ELSE amount - amount / 5 END END AS fair,
  CASE WHEN tier = 'alone' THEN proposer ELSE asked END AS decided_by,
  CASE WHEN pending = 0 AND created < {now} - 7 * {day} AND (i * 13) % 100 < 38 THEN 1 ELSE 0 END AS reviewed
FROM (
  SELECT a.*, {proposer} AS proposer,
    CASE WHEN tier = 'peer' THEN {peer} WHEN tier = 'lead' THEN {lead} END AS asked,
    CASE tier WHEN 'alone' THEN 0 WHEN 'peer' THEN 60 + (i * 17) % 3600 ELSE 300 + (i * 29) % 7200 END AS secs,
    CASE WHEN remedy = 'extension'
      THEN 100 * CASE tier WHEN 'alone' THEN 1 + i % 7 WHEN 'peer' THEN 8 + i % 23 ELSE 31 + i % 60 END
      ELSE CASE tier WHEN 'alone' THEN 500 + (i * 37) % 4501 WHEN 'peer' THEN 5001 + (i * 53) % 9999
        ELSE 15001 + (i * 71) % 34999 END
    END AS amount
  FROM (
    SELECT i,
      CASE WHEN i % 20 < 14 THEN 'alone' WHEN i % 20 = 19 THEN 'lead' ELSE 'peer' END AS tier,
      CASE WHEN i % 20 = 14 OR i % 100 = 19 THEN 1 ELSE 0 END AS pending,
      CASE WHEN i % 1000 < 44 THEN 0 ELSE 1 + (i * 7919) % 399 END AS p,
      CASE WHEN i % 10 < 6 THEN 'refund' WHEN i % 10 < 9 THEN 'goodwill' ELSE 'extension' END AS remedy,
      {start} + (i - 1) * {year} / {n} AS created
    FROM {numbers}
  ) AS a
) AS b
"""

DECIDED = "created + secs"
REVIEWED = f"created + secs + 3 * {DAY}"
VIA = "CASE WHEN tier = 'alone' THEN 'alone' ELSE 'button' END"
OUTCOME = "CASE WHEN i % 10 = 3 THEN 'talk' ELSE 'looks_good' END"
REVIEWER = user("U0L", "(i * 3) % 20", 2)
COACHING = "Great call. Next time, ask what feels fair first?"


def slack_ts(seconds: str) -> str:
    return f"CAST({seconds} AS TEXT) || '.' || substr(CAST(1000000 + i % 1000000 AS TEXT), 2)"


def rows(d: Dialect, now: int) -> list[tuple[str, str, dict[str, str]]]:
    """(table, which proposals, column → value) for every INSERT … SELECT of the seed."""
    far = f"{now} + 29 * {DAY}"
    proposal = {
        "id": "i",
        "source_key": "'seed:' || i",
        "status": "CASE WHEN pending = 1 THEN 'pending' ELSE 'granted' END",
        "remedy_id": "remedy",
        "remedy_label": "CASE remedy WHEN 'refund' THEN 'Refund' WHEN 'goodwill' THEN 'Goodwill credit' "
        "ELSE 'Extend a subscription' END",
        "unit": "CASE WHEN remedy = 'extension' THEN 'days' ELSE 'USD' END",
        "amount": "amount",
        "customer_fair": "fair",
        "case_ref": "'#' || i",
        "summary": "'The parcel arrived broken, and the customer needs it by Friday.'",
        "tier": "tier",
        "proposer": "proposer",
        "asked": "asked",
        "origin_channel": "'C0GEN'",
        "request_channel": "CASE WHEN tier <> 'alone' THEN 'C0REQ' END",
        "request_ts": f"CASE WHEN tier <> 'alone' THEN {slack_ts('created')} END",
        "created_at": d.ts("created"),
        "decided_at": f"CASE WHEN pending = 0 THEN {d.ts(DECIDED)} END",
        "decided_by": "CASE WHEN pending = 0 THEN decided_by END",
        # Pending requests wait far from their deadlines: only the re-route pass makes some due.
        "reroute_at": f"CASE WHEN pending = 1 THEN {d.ts(far)} END",
        "expire_at": f"CASE WHEN pending = 1 THEN {d.ts(far + ' + ' + str(DAY))} END",
    }
    amount = "CAST(amount / 100 AS TEXT) || '.' || substr(CAST(100 + amount % 100 AS TEXT), 2)"
    events = [
        ("1 = 1", "created", "'proposed'", "proposer", d.json(tier="tier", amount=amount)),
        ("tier <> 'alone'", "created", "'asked'", "NULL", d.json(asked="asked")),
        ("pending = 0", DECIDED, "'granted'", "decided_by", d.json(via=VIA)),
        ("reviewed = 1", REVIEWED, "'reviewed'", REVIEWER, d.json(outcome=OUTCOME)),
    ]
    approval = {"proposal_id": "i", "approver": "decided_by", "via": VIA, "at": d.ts(DECIDED)}
    decision = {
        "proposal_id": "i",
        "tier": "tier",
        "agreed_by": "CASE WHEN tier <> 'alone' THEN asked END",
        "granted_at": d.ts(DECIDED),
        "seconds_to_decision": "secs",
        "reviewed_at": f"CASE WHEN reviewed = 1 THEN {d.ts(REVIEWED)} END",
        "reviewed_by": f"CASE WHEN reviewed = 1 THEN {REVIEWER} END",
        "review_outcome": f"CASE WHEN reviewed = 1 THEN {OUTCOME} END",
        "coaching_note": f"CASE WHEN reviewed = 1 AND i % 10 = 3 THEN '{COACHING}' END",
    }
    # The posts each proposal owed, all sent: (kind, which, channel, when, Slack's channel, dedupe)
    posts = [
        ("request", "tier <> 'alone'", "'C0REQ'", "created", "'C0REQ'", True),
        ("decision", "pending = 0", "'C0DEC'", DECIDED, "'C0DEC'", True),
        ("kudos", "pending = 0", "'C0KUD'", DECIDED, "'C0KUD'", True),
        ("request_update", "pending = 0 AND tier <> 'alone'", "'C0REQ'", DECIDED, "'C0REQ'", False),
        ("proposer_note", "pending = 0 AND tier <> 'alone'", "proposer", DECIDED, "'D' || proposer", True),
        ("coaching", "reviewed = 1 AND i % 10 = 3", "proposer", REVIEWED, "'D' || proposer", True),
    ]
    return [
        ("proposal", "1 = 1", proposal),
        *(
            (
                "proposal_event",
                which,
                {"proposal_id": "i", "at": d.ts(at), "kind": kind, "actor": actor, "detail": detail},
            )
            for which, at, kind, actor, detail in events
        ),
        ("approval", "pending = 0", approval),
        ("decision", "pending = 0", decision),
        *(
            (
                "outbox_message",
                which,
                {
                    "kind": f"'{kind}'",
                    "proposal_id": "i",
                    "channel": channel,
                    "detail": d.json(),
                    "dedupe_key": f"'{kind}:' || i" if dedupe else "NULL",
                    "status": "'sent'",
                    "attempts": "1",
                    "created_at": d.ts(when),
                    "next_attempt_at": d.ts(when),
                    "sent_at": d.ts(when),
                    "slack_channel": slack,
                    "slack_ts": slack_ts(when),
                },
            )
            for kind, which, channel, when, slack, dedupe in posts
        ),
    ]


def insert(connection: Connection, table: str, which: str, values: dict[str, str]) -> None:
    """INSERT … SELECT the columns both the models and the database have; refuse, naming it, a
    column the database requires that the seed doesn't know."""
    model = {c.name for c in Base.metadata.tables[table].columns}
    present = {c["name"]: c for c in inspect(connection).get_columns(table)}
    for name, info in present.items():
        required = not info["nullable"] and info.get("default") is None and not info.get("autoincrement")
        if required and name not in values and name != "id":
            raise SystemExit(f"bench: {table}.{name} is required, and the seed in bench/history.py doesn't fill it")
    for name in sorted(set(values) - (model & set(present))):
        note(f"{table}.{name} is gone from the schema: not seeded")
    columns = [name for name in values if name in model and name in present]
    quote = connection.dialect.identifier_preparer.quote
    connection.execute(
        text(
            f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "
            f"SELECT {', '.join(values[c] for c in columns)} FROM seed WHERE {which}"
        )
    )


def rebuilt_after(connection: Connection, tables: set[str]) -> tuple[list[str], list[str]]:
    """What the seed drops before it loads `tables`, and what builds it all again after, from the
    definitions the database itself gives: plain indexes, and on PostgreSQL the unique and
    foreign-key constraints (primary keys stay). Building an index once, and checking a foreign
    key with one join, is far quicker than growing and checking them a row at a time."""
    quote = connection.dialect.identifier_preparer.quote
    listed: BindParameter[str] = bindparam("tables", expanding=True)
    if connection.dialect.name == "sqlite":
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN :tables"
        found = connection.execute(text(query).bindparams(listed), {"tables": sorted(tables)}).all()
        return [f"DROP INDEX {quote(name)}" for name, _ in found], [str(sql) for _, sql in found]
    indexes = connection.execute(
        text(
            "SELECT indexname, indexdef FROM pg_indexes AS i WHERE schemaname = current_schema() AND tablename IN "
            ":tables AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conname = i.indexname)"
        ).bindparams(listed),
        {"tables": sorted(tables)},
    ).all()
    constraints = connection.execute(
        text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE "
            "connamespace = current_schema()::regnamespace AND contype IN ('u', 'f') AND conrelid::regclass::text "
            "IN :tables ORDER BY contype DESC"  # unique ('u') before foreign keys ('f') when built again
        ).bindparams(listed),
        {"tables": sorted(tables)},
    ).all()
    drop = [f"DROP INDEX {quote(name)}" for name, _ in indexes] + [
        f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}" for table, name, _ in reversed(constraints)
    ]
    build = [str(definition) for _, definition in indexes] + [
        f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}"
        for table, name, definition in constraints
    ]
    return drop, build


def seed(url: str, proposals: int, now: datetime) -> str:
    """A year of history; returns what it took, naming any table still empty after it."""
    engine = make_engine(url)
    d = POSTGRESQL if engine.dialect.name == "postgresql" else SQLITE
    known = {script.revision for script in ScriptDirectory.from_config(migrate.alembic_config()).walk_revisions()}
    migrate.upgrade(engine, SEED_AT if SEED_AT in known else "head")
    end = int(now.timestamp())
    started = time.perf_counter()
    with engine.begin() as connection:
        if d.postgresql:
            connection.exec_driver_sql("SET temp_buffers = '512MB'")  # the facts, scanned once per INSERT
            connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")  # the index builds
        else:
            connection.exec_driver_sql("PRAGMA cache_size = -512000")
        facts = FACTS.format(
            n=proposals,
            now=end,
            start=end - 365 * DAY,
            day=DAY,
            year=365 * DAY,
            numbers=d.numbers.format(n=proposals),
            proposer=user("U0A", "p", 3),
            peer=user("U0A", "(p + 1 + i % 97) % 500", 3),
            lead=user("U0L", "i % 20", 2),
        )
        connection.execute(text(f"CREATE TEMPORARY TABLE seed AS {facts}"))
        drop, build = rebuilt_after(connection, SEEDED)
        for statement in drop:
            connection.exec_driver_sql(statement)
        for table, which, values in rows(d, end):
            step = time.perf_counter()
            insert(connection, table, which, values)
            note(f"seeded {table} where {which}: {time.perf_counter() - step:.1f} s")
        step = time.perf_counter()
        for statement in build:
            connection.exec_driver_sql(statement)
        note(f"built {len(build)} indexes and constraints again: {time.perf_counter() - step:.1f} s")
        if d.postgresql:  # the seed gave the proposals their ids
            connection.execute(text("SELECT setval(pg_get_serial_sequence('proposal', 'id'), :n)"), {"n": proposals})
        connection.execute(text("DROP TABLE seed"))
    seeded = time.perf_counter() - started
    migrate.upgrade(engine)  # what came after SEED_AT runs over the history, backfills included
    migrated = time.perf_counter() - started - seeded
    if d.postgresql:  # what autovacuum would do within a minute, done now so every run reads the same
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:  # outside any transaction: the WAL folded into the database, so its size is the file's
        raw = engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
    empty = empty_tables(engine)
    engine.dispose()
    note(f"seeded {proposals:,} proposals in {seeded:.0f} s; later migrations took {migrated:.1f} s")
    return f"seeded in {seeded:.0f} s, later migrations {migrated:.1f} s" + (
        f" · NOTE: still empty after the migrations: {', '.join(empty)}" if empty else ""
    )


def empty_tables(engine: Engine, among: set[str] | None = None) -> list[str]:
    """Tables of the models the seed didn't fill and no migration backfilled (or, of `among`,
    those still empty)."""
    empty = []
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if among is None and table.name in SEEDED | EMPTY_BY_NATURE | ROLLED_UP_BY_THE_BOT:
                continue
            if among is not None and table.name not in among:
                continue
            if connection.execute(select(1).select_from(table).limit(1)).first() is None:
                empty.append(table.name)
    return empty


def still_empty(url: str, tables: set[str]) -> list[str]:
    engine = make_engine(url)
    try:
        return empty_tables(engine, tables)
    finally:
        engine.dispose()


def make_due(url: str, now: datetime) -> None:
    """DUE pending peer requests due for re-routing; every other pending one far from due."""
    engine = make_engine(url)
    first = (
        select(Proposal.id)
        .where(Proposal.status == Status.PENDING, Proposal.tier == Tier.PEER)
        .order_by(Proposal.id)
        .limit(DUE)
    )
    with engine.begin() as connection:
        connection.execute(
            update(Proposal).where(Proposal.status == Status.PENDING).values(reroute_at=now + timedelta(days=29))
        )
        connection.execute(update(Proposal).where(Proposal.id.in_(first)).values(reroute_at=now - timedelta(minutes=1)))
    engine.dispose()


def database_size(url: str) -> int:
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        return sum(
            Path(f"{path}{suffix}").stat().st_size for suffix in ("", "-wal") if Path(f"{path}{suffix}").exists()
        )
    engine = make_engine(url)
    with engine.connect() as connection:
        size = int(connection.execute(text("SELECT pg_database_size(current_database())")).scalar() or 0)
    engine.dispose()
    return size


def outbox_rows(url: str, before: datetime) -> tuple[int, int]:
    """How many messages the outbox holds, and how many of them were last tried before `before`."""
    engine = make_engine(url)
    with engine.connect() as connection:
        held = connection.execute(select(func.count()).select_from(OutboxMessage)).scalar() or 0
        old = connection.execute(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.next_attempt_at < before)
        ).scalar()
    engine.dispose()
    return int(held), int(old or 0)
