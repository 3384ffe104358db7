"""What a batch of requests reads in one statement is what the reads it stands for give, on
both databases: amounts to the cent, times to the microsecond, and of each pool the first who
are around, in the order whom-to-ask picks."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from storage import queries
from storage.queries.asking import before_asking
from tests.storage.test_storage import T0, make_proposal

PEOPLE = [f"U0P{i:02d}" for i in range(40)]


@pytest.mark.parametrize("people", [["U0BEN", "U0CHO", "U0DAN"], ["U0BEN", "U0CHO", "U0DAN", *PEOPLE]])
def test_one_statement_reads_what_the_four_reads_do(session: Session, people: list[str]) -> None:
    make_proposal(session, amount=Decimal("40.25"), case_ref="#1", source_key="view:1")
    make_proposal(session, amount=Decimal("10.10"), case_ref="#1", status="granted", asked=None)
    make_proposal(session, amount=Decimal("99.99"), case_ref="#1", status="declined")
    make_proposal(session, amount=Decimal("12.00"), case_ref="#2", asked="U0CHO")
    make_proposal(session, amount=Decimal("5.00"), case_ref="#3", created_at=T0 - timedelta(days=40))
    queries.set_away(session, user="U0DAN", since=T0, until=T0 + timedelta(hours=1, microseconds=7))
    queries.set_away(session, user="U0EVE", since=T0, until=None)
    session.flush()
    cases = [("refund", "#1"), ("refund", "#2"), ("refund", "#3"), ("refund", "#9")]
    since, now = T0 - timedelta(days=30), T0 + timedelta(minutes=5)
    read = before_asking(
        session, cases=cases, since=since, keys={"view:1", "view:2"}, pools=[people], picks=len(people), now=now
    )
    assert read.recorded == queries.recorded_source_keys(session, keys=["view:1", "view:2"]) == {"view:1"}
    assert read.so_far == queries.so_far_on_cases(session, cases=cases, since=since)
    assert read.so_far[0].waiting == Decimal("40.25")
    assert read.so_far[0].granted == Decimal("10.10")
    assert read.away == queries.away_users(session, now=now)
    assert read.away["U0DAN"] == T0 + timedelta(hours=1, microseconds=7)
    around = [person for person in people if person not in read.away]
    assert read.shortlisted == set(around)  # every one of them, when `picks` covers the pool
    open_asks, last_asked = queries.asks_of(session, users=around)
    assert (read.open_asks, read.last_asked) == (open_asks, last_asked)
    assert read.open_asks == {"U0BEN": 2, "U0CHO": 1}  # the declined one no longer asks
    assert read.last_asked["U0BEN"] == T0


def test_of_each_pool_the_first_around_in_the_order_whom_to_ask_picks(session: Session) -> None:
    # Loads: Ben two open asks, Cho one asked at T0, Ann one asked later, Dan none but asked
    # before (declined), Eve away; Fay, Gus and Hal never asked, in the roster's order.
    make_proposal(session, case_ref="#1", asked="U0BEN")
    make_proposal(session, case_ref="#2", asked="U0BEN")
    make_proposal(session, case_ref="#3", asked="U0CHO")
    make_proposal(session, case_ref="#4", asked="U0ANN", created_at=T0 + timedelta(minutes=1))
    make_proposal(session, case_ref="#5", asked="U0DAN", status="declined")
    make_proposal(session, case_ref="#6", asked="U0EVE")
    queries.set_away(session, user="U0EVE", since=T0, until=None)
    session.flush()
    people = ["U0BEN", "U0CHO", "U0ANN", "U0DAN", "U0EVE", "U0HAL", "U0FAY", "U0GUS"]
    leads = ["U0CHO", "U0GUS"]

    def first(pools: list[list[str]], picks: int) -> tuple[frozenset[str], dict[str, int]]:
        read = before_asking(session, cases=[("refund", "#1")], since=T0, keys=set(), pools=pools, picks=picks, now=T0)
        return read.shortlisted, read.open_asks

    # Never asked, in the roster's order (Hal before Fay), then asked but with none open (Dan),
    # then one open, asked longest ago first (Cho before Ann), then two (Ben); away: never (Eve).
    order = ["U0HAL", "U0FAY", "U0GUS", "U0DAN", "U0CHO", "U0ANN", "U0BEN"]
    for picks in range(1, 9):
        assert first([people], picks)[0] == set(order[:picks])
    assert first([leads], 1)[0] == {"U0GUS"}
    # Several pools: each its own first, read together.
    assert first([people, leads], 1)[0] == {"U0HAL", "U0GUS"}
    assert first([people, leads], 2)[0] == {"U0HAL", "U0FAY", "U0GUS", "U0CHO"}
    assert first([people], 8)[1] == {"U0BEN": 2, "U0CHO": 1, "U0ANN": 1}


def test_one_back_from_away_is_around_and_an_empty_pool_reads_no_one(session: Session) -> None:
    # Dan's away period ended a microsecond before `now`; Eve's ends just after: she is away.
    now = T0 + timedelta(hours=1)
    queries.set_away(session, user="U0DAN", since=T0, until=now - timedelta(microseconds=1))
    queries.set_away(session, user="U0EVE", since=T0, until=now + timedelta(microseconds=1))
    make_proposal(session, case_ref="#1", asked="U0BEN")
    session.flush()

    def read(pools: list[list[str]]) -> tuple[frozenset[str], dict[str, int], set[str]]:
        got = before_asking(session, cases=[("refund", "#1")], since=T0, keys=set(), pools=pools, picks=2, now=now)
        return got.shortlisted, got.open_asks, set(got.away)

    assert read([["U0BEN", "U0DAN", "U0EVE"]]) == (frozenset({"U0DAN", "U0BEN"}), {"U0BEN": 1}, {"U0EVE"})
    assert read([[]]) == (frozenset(), {}, {"U0EVE"})
    assert read([]) == (frozenset(), {}, {"U0EVE"})
    assert read([["U0EVE"]])[0] == frozenset()  # a pool of the away alone: no one to ask
