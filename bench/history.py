"""Leeway against a year of history, measured from outside: the bot as a user starts it
(`python -m bot run`), against the stand-in Slack, on a database seeded with 365 days of
proposals. Prints one line per figure, beside its goal; asserts nothing.

    python bench/history.py [--database sqlite|postgresql|both] [--proposals 1000000 | --sizes 10000,100000]
                            [--concurrency 8] [--duration 10]

History goes in through Leeway's own migrations, then bulk SQL: 500 agents and 20 leads, the
busiest agent with 4.4% of the proposals, 100 agents who never propose, 5% pending, 38% of the
grants older than a week reviewed, and every row a real grant writes (proposal, its history, the
agreement, the audit record, the posts it owed, all sent). It is seeded at the schema it was
written against (SEED_AT), and the later migrations then run over it, as over a production
database: what they derive from history (a roll-up, say) they backfill. A table still empty
afterwards is named.

PostgreSQL comes from LEEWAY_BENCH_POSTGRES_URL or LEEWAY_TEST_POSTGRES_URL (a database it may
reset). Load comes from wrk, as in bench/run.py.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from alembic.script import ScriptDirectory  # noqa: E402
from sqlalchemy import BindParameter, Connection, Engine, bindparam, inspect, select, text, update  # noqa: E402

from bench.run import (  # noqa: E402
    SECRET,
    bot_environment,
    free_port,
    percentile,
    reset_database,
    wait_until_up,
    write_bodies,
    wrk,
)
from bot.core.lifecycle import Status  # noqa: E402
from bot.core.policy import Tier  # noqa: E402
from bot.standin import ApiCall, SlackDriver, StandInSlack  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.models import Base, Proposal  # noqa: E402

AGENTS = [f"U0A{i:03d}" for i in range(500)]  # bench/run.py's senders are the first 20
LEADS = [f"U0L{i:02d}" for i in range(20)]
LEAD = LEADS[0]
DAY = 86_400
SEED_AT = "0005"  # the schema this seed was written against; later migrations run over it
SEEDED = {"proposal", "proposal_event", "approval", "decision", "outbox_message"}
EMPTY_BY_NATURE = {"availability", "channel_pace"}  # no one away; no post waiting for its slot
REPLY_TIMEOUT = 900.0  # seconds to wait for a report before calling it lost
WRK_TIMEOUT = 60  # seconds before wrk gives up on one request
DUE = 100


def note(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def figure(line: str) -> None:
    print(line, flush=True)


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


# --- the seed --------------------------------------------------------------------------------


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


def empty_tables(engine: Engine) -> list[str]:
    """Tables of the models the seed didn't fill and no migration backfilled."""
    empty = []
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name in SEEDED | EMPTY_BY_NATURE:
                continue
            if connection.execute(select(1).select_from(table).limit(1)).first() is None:
                empty.append(table.name)
    return empty


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


# --- the bot, as a user starts it ------------------------------------------------------------


def policy(digest_at: datetime) -> str:
    return f"""\
currency: USD
timezone: UTC
digest: {{day: {digest_at.strftime("%a").lower()}, at: "{digest_at.strftime("%H:%M")}"}}
channels: {{requests: C0REQ, decisions: C0DEC, kudos: C0KUD}}
people:
  agents: [{", ".join(AGENTS)}]
  leads: [{", ".join(LEADS)}]
remedies:
  - {{id: refund, label: Refund, alone_up_to: 50, peer_up_to: 150, lead_up_to: 500}}
  - {{id: goodwill, label: Goodwill credit, alone_up_to: 50, peer_up_to: 150, lead_up_to: 500}}
  - {{id: extension, label: Extend a subscription, unit: days, alone_up_to: 7, peer_up_to: 30, lead_up_to: 90}}
"""


@dataclass
class Running:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def memory_mib(self) -> tuple[float, float]:
        """VmRSS now and VmHWM (the peak), in MiB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kib = {k: int(v.split()[0]) for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(.*)$", status, re.MULTILINE)}
        return kib["VmRSS"] / 1024, kib["VmHWM"] / 1024

    def job_seconds(self, name: str, trigger: str = "interval", timeout: float = REPLY_TIMEOUT) -> float | None:
        """How long the scheduler's first run of a job took, from the bot's log (APScheduler
        logs when it starts a job and when the job ends)."""
        line = re.compile(
            rf'^(\S+ \S+) INFO apscheduler\.executors\.default: (Running job|Job) "{name} \(trigger: {trigger}'
            r".*?(executed successfully|raised an exception)?$",
            re.MULTILINE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = line.findall(self.log.read_text(errors="replace"))
            starts = [at for at, what, _ in found if what == "Running job"]
            ends = [(at, how) for at, what, how in found if what == "Job"]
            if starts and ends:
                if ends[0][1] != "executed successfully":
                    note(f"{name} raised an exception: see {self.log}")
                return (logged_at(ends[0][0]) - logged_at(starts[0])).total_seconds()
            time.sleep(0.05)
        return None

    def count_in_log(self, words: str) -> int:
        return self.log.read_text(errors="replace").count(words)


def logged_at(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")


@contextmanager
def leeway(api: StandInSlack, url: str, workdir: Path, digest_at: datetime, name: str) -> Iterator[Running]:
    (workdir / "policy.yml").write_text(policy(digest_at))
    port, log = free_port(), workdir / f"{name}.log"
    env = bot_environment(api, url, port, log_level="INFO")  # the scheduler's lines time its jobs
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", process, timeout=300)
        yield Running(f"http://127.0.0.1:{port}", process, log)
    finally:
        if process.poll() is None:  # a report still running in the bot holds its exit: wait a little
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def next_call(
    api: StandInSlack, method: str, before: int, timeout: float, give_up: threading.Event | None = None, **match: str
) -> ApiCall | None:
    """The first call to `method` after the `before` already made; None if none came in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not (give_up and give_up.is_set()):
        calls = api.calls_to(method, **match)
        if len(calls) > before:
            return calls[before]
        time.sleep(0.005)
    return None


def report(
    api: StandInSlack, driver: SlackDriver, command: str, give_up: threading.Event | None = None
) -> tuple[float | None, float | None]:
    """Seconds to the ack, and to the reply the lead sees: the response_url post after an ack
    that says the report is coming, or else the ack itself. None: no answer in time."""
    before = len(api.calls_to("response_url"))
    started = time.monotonic()
    try:
        ack = driver.command(LEAD, command, channel="C0GEN").json
    except OSError:  # the driver's own timeout: Slack would have given up long before
        return None, None
    acked = time.monotonic() - started
    if not str(ack.get("text", "")).startswith(":hourglass:"):
        return acked, acked
    call = next_call(api, "response_url", before, REPLY_TIMEOUT, give_up)
    return acked, None if call is None else call.at - started


def home(api: StandInSlack, driver: SlackDriver) -> float | None:
    """From app_home_opened to the stand-in receiving views.publish for that lead."""
    before = len(api.calls_to("views.publish", user_id=LEAD))
    started = time.monotonic()
    driver.event({"type": "app_home_opened", "user": LEAD, "channel": "D0LEAD", "tab": "home"})
    call = next_call(api, "views.publish", before, REPLY_TIMEOUT, user_id=LEAD)
    return None if call is None else call.at - started


def seconds(value: float | None) -> str:
    if value is None:
        return "no answer"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def under(value: float | None, limit: float) -> str:
    return met(value is not None and value < limit)


# --- one database at one size ----------------------------------------------------------------


def measure(api: StandInSlack, url: str, workdir: Path, args: argparse.Namespace, label: str) -> None:
    now = datetime.now(UTC)
    seeded = seed(url, args.proposals, now)
    figure(f"{label}: {seeded} · database {database_size(url) / 2**20:,.0f} MiB on disk")
    # When the digest last fell due: too long ago to catch up on, or just before the bot starts.
    quiet, due = now - timedelta(days=3), now - timedelta(minutes=2)
    api.reset()
    with leeway(api, url, workdir, quiet, "interactive") as bot:
        interactive(api, bot, workdir, args, label)
    api.reset()
    with leeway(api, url, workdir, due, "digest") as bot:
        digest(api, bot, label)
    make_due(url, datetime.now(UTC))
    api.reset()
    with leeway(api, url, workdir, quiet, "reroute") as bot:
        note(f"a re-route pass over {DUE} due requests")
        took = bot.job_seconds("requests_due")
        moved = re.findall(r"re-routed (\d+)", bot.log.read_text(errors="replace"))
        figure(
            f"{label}: a re-route pass over {DUE} due requests (the requests_due job, from the bot's log): "
            f"{seconds(took)}, {moved[0] if moved else 0} re-routed · goal under 1 s: {under(took, 1)}"
        )


def interactive(api: StandInSlack, bot: Running, workdir: Path, args: argparse.Namespace, label: str) -> None:
    """Reports, a Home, and proposals under load, against the bot's memory before and after."""
    for job in ("requests_due", "weekly"):
        bot.job_seconds(job)  # the runs at start are over: idle is idle
    idle, _ = bot.memory_mib()
    driver = SlackDriver(f"{bot.base}/slack/events", SECRET, api=api)
    for command in ("usage 30d", "usage 365d", "review"):
        note(f"/remedy {command}")
        acked, replied = report(api, driver, command)
        figure(
            f"{label}: /remedy {command}: ack {seconds(acked)} · the reply the lead sees {seconds(replied)}"
            f" · goal under 1 s: {under(replied, 1)}"
        )
    note("a lead's Home")
    opened = home(api, driver)
    figure(
        f"{label}: a lead's Home, app_home_opened → views.publish {seconds(opened)} · goal under 1 s: "
        f"{under(opened, 1)}"
    )

    def load(text: str, duration: int = args.duration) -> dict[str, float]:
        bodies = workdir / "bodies.txt"  # written just before, so every signature is fresh
        write_bodies(bodies, max(20_000, duration * 3_000), text)
        run = wrk(
            f"{bot.base}/slack/events", bodies, concurrency=args.concurrency, duration=duration, timeout=WRK_TIMEOUT
        )
        settle(driver)
        return run

    load("refund 10 #W{i} warm-up", duration=2)
    note("alone-tier proposals")
    alone = load("refund 10 #A{i} parcel broken")
    note("peer-tier proposals")
    peer = load("refund 100 #P{i} needs a peer")
    for tier, run in (("alone", alone), ("peer", peer)):
        figure(f"{label}: {tier}-tier proposals, {args.concurrency} senders: {rate_and_tail(run)}")
    figure(
        f"{label}: peer-tier throughput {peer['per_second'] / alone['per_second']:.0%} of alone-tier's · goal "
        f"within 2×: {met(peer['per_second'] * 2 >= alone['per_second'])}"
    )
    note("alone-tier proposals while a lead runs /remedy usage 365d")
    during, reports = during_reports(api, bot, lambda: load("refund 10 #R{i} during a report"))
    ratio = during["p99_ms"] / alone["p99_ms"] if during["requests"] and alone["requests"] else None
    locked = bot.count_in_log("database is locked")
    figure(
        f"{label}: alone-tier acks while a lead runs usage 365d back to back ({reports}): {rate_and_tail(during)}"
        f" · p99 {'—' if ratio is None else f'{ratio:.1f}×'} without · 'database is locked' in the log {locked} "
        f"times · goal within 2×, never locked: {met(ratio is not None and ratio <= 2 and locked == 0)}"
    )
    _, peak = bot.memory_mib()
    figure(
        f"{label}: memory after start {idle:,.0f} MiB · peak {peak:,.0f} MiB (VmHWM) · goal peak within "
        f"50 MiB of idle: {met(peak - idle <= 50)}"
    )


def rate_and_tail(run: dict[str, float]) -> str:
    tail = f"ack p99 {run['p99_ms']:.0f} ms" if run["requests"] else "none answered within the run"
    return f"{run['per_second']:.1f}/s · {tail} · errors {run['errors']:.0f} · non-200 {run['non200']:.0f}"


def settle(driver: SlackDriver, timeout: float = 600) -> None:
    """Wait until the bot answers again: what a run left queued inside it is done before the next."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            driver.command(AGENTS[0], f"refund 10 #S{time.monotonic_ns()} settling", channel="C0GEN")
            return
        except OSError:  # still busy with what the last run left: ask again
            continue


def digests_posted(api: StandInSlack) -> int:
    return sum("weekly Leeway digest" in str(c.args.get("text")) for c in api.calls_to("chat.postMessage"))


def digest(api: StandInSlack, bot: Running, label: str) -> None:
    """The weekly job, caught up at start: the policy's digest fell due minutes before."""
    note("the weekly digest")
    took = bot.job_seconds("weekly")
    deadline = time.monotonic() + 30
    while digests_posted(api) < len(LEADS) and time.monotonic() < deadline:
        time.sleep(0.05)
    figure(
        f"{label}: the weekly digest job (from the bot's log: the job's start and end): {seconds(took)} · "
        f"{digests_posted(api)} of {len(LEADS)} digests posted"
    )


def during_reports(
    api: StandInSlack, bot: Running, load: Callable[[], dict[str, float]]
) -> tuple[dict[str, float], str]:
    """`load`, run while a lead asks for a year's usage again each time the last one is answered."""
    driver = SlackDriver(f"{bot.base}/slack/events", SECRET, api=api)
    done = threading.Event()
    took: list[float] = []

    def lead() -> None:
        while not done.is_set():
            _, replied = report(api, driver, "usage 365d", give_up=done)
            if replied is not None and not done.is_set():
                took.append(replied)

    asking = threading.Thread(target=lead, daemon=True)
    asking.start()
    time.sleep(0.2)  # the first report is under way
    try:
        figures = load()
    finally:
        done.set()
        asking.join(timeout=15)
    finished = f"{len(took)} finished within the run" + (
        f", p99 {seconds(percentile(took, 0.99))}" if took else ", the first still running"
    )
    return figures, finished


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--proposals", type=int, default=1_000_000)
    parser.add_argument("--sizes", help="several sizes, comma-separated (e.g. 10000,100000,1000000)")
    parser.add_argument("--concurrency", type=int, default=8, help="wrk's senders")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per run")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("bench: needs wrk (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    pg_url = os.environ.get("LEEWAY_BENCH_POSTGRES_URL") or os.environ.get("LEEWAY_TEST_POSTGRES_URL")
    if "postgresql" in databases and not pg_url:
        print("bench: PostgreSQL needs LEEWAY_BENCH_POSTGRES_URL (a database it may reset)", file=sys.stderr)
        return 2
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")] if args.sizes else [args.proposals]
    figure(
        f"machine: {os.cpu_count()} cores, {cpu()} · history: 365 days, {len(AGENTS)} agents, {len(LEADS)} leads · "
        f"wrk -c{args.concurrency} -d{args.duration}s"
    )
    figure(
        "goals: every reply under 1 s · memory peak within 50 MiB of idle · ack p99 during a year's report "
        "within 2× of acks without one, and no 'database is locked' · peer-tier throughput within 2× of "
        f"alone-tier · {DUE} due requests re-routed in under a second"
    )
    with tempfile.TemporaryDirectory(prefix="leeway-history-") as tmp, StandInSlack() as api:
        workdir = Path(tmp)
        for size in sizes:
            for database in databases:
                args.proposals = size
                note(f"{database}: seeding {size:,} proposals")
                url = reset_database(pg_url if database == "postgresql" and pg_url else "sqlite", workdir, "history")
                measure(api, url, workdir, args, f"{database} · {size:,}")
    return 0


def cpu() -> str:
    info = Path("/proc/cpuinfo")
    if info.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", info.read_text(), re.MULTILINE)
        if found:
            return found.group(1).strip()
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    sys.exit(main())
