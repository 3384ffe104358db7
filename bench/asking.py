"""The database time of one peer-tier request, on a database bench/history.py seeded: each one
written alone (`proposing.write_on_cases` with one item, as a request that arrives by itself
is), and its statements timed from the driver's send to its answer, the commit too. Prints the
median and p99 over the requests, and what each step took at the median. It writes to the
database it is given (requests on cases of its own, left pending), and seeds nothing.

    python bench/asking.py --database postgresql://… [--requests 200]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import event  # noqa: E402

from bench.history import policy  # noqa: E402
from bench.history_seed import AGENTS, LEADS  # noqa: E402
from bot import services  # noqa: E402
from bot.core.authority import Roster  # noqa: E402
from bot.core.lifecycle import Status  # noqa: E402
from bot.core.parsing import Draft  # noqa: E402
from bot.policy_file import parse_policy  # noqa: E402
from bot.services import proposing, records  # noqa: E402
from bot.services.results import OnItsCase  # noqa: E402
from storage.db import make_engine, make_sessions  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def step_of(statement: str) -> str:
    words = " ".join(statement.split())[:60]
    for marker, name in (
        ("pg_advisory_xact_lock(7352003", "the case's lock"),
        ("pg_advisory_xact_lock(7352002", "the routing lock"),
        ("ask_load", "open asks (ask_load)"),
        ("away", "who is away"),
        ("sum(proposal.amount)", "what the case has"),
        ("source_key IN", "recorded before?"),
        ("INSERT INTO proposal", "the write (one statement)"),
        ("count(*)", "the precedent (read before the locks)"),
    ):
        if marker in statement:
            return name
    return words


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", required=True)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    engine = make_engine(args.database)
    roster = Roster(agents=tuple(AGENTS), leads=tuple(LEADS), bot_user="U0BOT")
    the_policy = parse_policy(policy(datetime.now(UTC)), source="bench")
    ctx = services.Context(
        base_policy=the_policy, roster=lambda: roster, sessions=make_sessions(engine), clock=lambda: datetime.now(UTC)
    )
    remedy = the_policy.remedy("refund")
    assert remedy is not None
    spent: dict[str, float] = defaultdict(float)
    started: dict[int, float] = {}

    @event.listens_for(engine, "before_cursor_execute")
    def _before(_conn: Any, cursor: Any, *_: Any) -> None:
        started[id(cursor)] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(_conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        spent[step_of(statement)] += time.perf_counter() - started.pop(id(cursor))

    totals: list[float] = []
    walls: list[float] = []
    steps: list[dict[str, float]] = []
    stamp = int(time.time())
    for i in range(args.requests):
        draft = Draft(remedy_id="refund", amount=Decimal(100), case_ref=f"#T{stamp}-{i}", summary="needs a peer")
        new = records.new_proposal(
            ctx,
            remedy,
            draft,
            status=Status.PENDING,
            tier=remedy.tier_for(Decimal(100)),
            proposer=AGENTS[i % 20],
            origin_channel=None,
            source_key=f"bench-asking:{stamp}:{i}",
            now=ctx.clock(),
        )
        item = OnItsCase(remedy=remedy, new=new, draft=draft, roster=roster)
        spent.clear()
        began = time.perf_counter()
        with _timed_commit(engine, spent):
            (counted,) = proposing.write_on_cases(ctx, [item])
        walls.append(time.perf_counter() - began)
        assert isinstance(counted.result, services.Asked), counted.result
        steps.append(dict(spent))
        totals.append(sum(spent.values()))
    median = percentile(totals, 0.5)
    print(f"{engine.dialect.name}: {args.requests} peer-tier requests written one at a time")
    print(
        f"  database time per request (statements and commit, round trips included): median "
        f"{median * 1000:.1f} ms · p99 {percentile(totals, 0.99) * 1000:.1f} ms · goal under 20 ms: "
        f"{'met' if percentile(totals, 0.99) < 0.020 else 'NOT met'}"
    )
    print(f"  the whole write, Python too: median {percentile(walls, 0.5) * 1000:.1f} ms")
    at_median = min(steps, key=lambda s: abs(sum(s.values()) - median))
    for name, seconds in sorted(at_median.items(), key=lambda kv: -kv[1]):
        print(f"    {name:<40} {seconds * 1000:6.2f} ms")


class _timed_commit:
    """Times COMMIT (SQLAlchemy's commit event fires before it is sent) into `spent`."""

    def __init__(self, engine: Any, spent: dict[str, float]) -> None:
        self.engine, self.spent = engine, spent

    def __enter__(self) -> None:
        original = self.engine.dialect.do_commit
        spent = self.spent

        def do_commit(dbapi_connection: Any) -> None:
            began = time.perf_counter()
            original(dbapi_connection)
            spent["COMMIT"] += time.perf_counter() - began

        self.original = original
        self.engine.dialect.do_commit = do_commit

    def __exit__(self, *_: object) -> None:
        self.engine.dialect.do_commit = self.original


if __name__ == "__main__":
    main()
