"""The precedent, the people Leeway has seen and their nudges, on both databases."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from bot.core.encouragement import median
from bot.core.vocabulary import Welcome
from storage import queries
from tests.storage.test_storage import T0, make_proposal

SINCE = T0 - timedelta(days=30)


def granted(
    session: Session, amount: str, *, remedy_id: str = "refund", status: str = "granted", **more: object
) -> None:
    make_proposal(
        session, status=status, amount=Decimal(amount), remedy_id=remedy_id, decided_at=more.pop("at", T0), **more
    )


@pytest.mark.parametrize(
    ("amounts", "count", "expected"),
    [
        ([], 0, None),
        (["25"], 1, Decimal("25.00")),
        (["60", "10", "25"], 3, Decimal("25.00")),
        (["60", "10", "25", "20"], 4, Decimal("22.50")),
        (["5"] * 7 + ["100"] * 6, 13, Decimal("5.00")),
    ],
)
def test_a_remedys_grants_lately_and_their_median(
    session: Session, amounts: list[str], count: int, expected: Decimal | None
) -> None:
    for amount in amounts:
        granted(session, amount)
    found, newest = queries.granted_lately(session, remedy_id="refund", since=SINCE, newest=501)
    assert (found, median(newest)) == (count, expected)


def edges(session: Session, newest: int = 501) -> queries.SinceKept:
    """What a request reads of the window ending a second after T0, its count kept up to then."""
    end = T0 + timedelta(seconds=1)
    return queries.granted_since_kept(
        session, remedy_id="refund", kept_until=end, window=T0 - SINCE, now=end, settled=end, newest=newest
    )


@pytest.mark.parametrize(
    ("amounts", "expected"),
    [
        ([], None),
        (["25"], Decimal("25.00")),
        (["60", "10", "25"], Decimal("25.00")),
        (["60", "10", "25", "20"], Decimal("22.50")),
        (["5"] * 7 + ["100"] * 6, Decimal("5.00")),
        (["5"] * 6 + ["100"] * 6, Decimal("52.50")),
    ],
)
def test_a_request_reads_only_the_middle_of_the_newest_amounts(
    session: Session, amounts: list[str], expected: Decimal | None
) -> None:
    for amount in amounts:
        granted(session, amount)
    read = edges(session)
    assert len(read.middle) == min(len(amounts), 2 - len(amounts) % 2)
    assert median(read.middle) == expected


def test_the_middle_is_that_of_the_newest_grants_only(session: Session) -> None:
    for day, amount in enumerate(["900", "900", "10", "20", "30", "40"]):
        granted(session, amount, at=T0 - timedelta(days=6 - day))
    assert median(edges(session, newest=3).middle) == Decimal("30.00")  # of 20, 30, 40
    assert median(edges(session, newest=4).middle) == Decimal("25.00")  # of 10, 20, 30, 40


def test_a_request_reads_what_came_and_left_at_the_two_edges(session: Session) -> None:
    # Kept up to K; the request is at N = K + 10 s, settled at S = N - 2 s. Grants came after K
    # (before S, at S, after S) and left the window's back edge [K - W, N - W) (before S - W,
    # at it, after it); others stay in the window, are of another remedy, or are not granted.
    window = T0 - SINCE
    kept_until, now = T0, T0 + timedelta(seconds=10)
    settled = now - timedelta(seconds=2)
    back = kept_until - window
    for at in (kept_until, settled - timedelta(microseconds=1), settled, now - timedelta(microseconds=1)):
        granted(session, "10", at=at)
    for at in (
        back,
        settled - window - timedelta(microseconds=1),
        settled - window,
        now - window - timedelta(seconds=1),
    ):
        granted(session, "20", at=at)
    granted(session, "30", at=now - window)  # still in the window: has not left
    granted(session, "30", at=kept_until - timedelta(seconds=1))  # in the kept count already
    granted(session, "900", at=settled, remedy_id="late_fee")
    granted(session, "900", at=settled, status="declined")
    granted(session, "900", at=back - timedelta(microseconds=1))  # left before the kept count's end
    read = queries.granted_since_kept(
        session, remedy_id="refund", kept_until=kept_until, window=window, now=now, settled=settled, newest=501
    )
    assert (read.came, read.came_settled) == (4, 2)
    assert (read.left, read.left_settled) == (4, 2)
    # What moves on to the settled point is what a whole count there gives, less the kept one.
    assert (
        queries.granted_count(session, remedy_id="refund", since=settled - window, until=settled)
        - queries.granted_count(session, remedy_id="refund", since=back, until=kept_until)
        == read.came_settled - read.left_settled
    )
    # The middle is of what is in the window at `now`: four 10s and two 30s.
    assert median(read.middle) == Decimal("10.00")


def test_only_grants_of_that_remedy_within_the_window_count(session: Session) -> None:
    granted(session, "30")
    granted(session, "40", at=SINCE)  # on the edge: counts
    granted(session, "900", at=SINCE - timedelta(microseconds=1))
    granted(session, "900", remedy_id="late_fee")
    for status in ("pending", "declined", "expired", "withdrawn"):
        granted(session, "900", status=status)
    count, newest = queries.granted_lately(session, remedy_id="refund", since=SINCE, newest=501)
    assert (count, median(newest)) == (2, Decimal("35.00"))


def test_a_busy_months_median_is_that_of_its_newest_grants(session: Session) -> None:
    for day, amount in enumerate(["900", "900", "10", "20", "30"]):
        granted(session, amount, at=T0 - timedelta(days=5 - day))
    count, newest = queries.granted_lately(session, remedy_id="refund", since=SINCE, newest=3)
    assert count == 5  # every grant in the window is counted
    assert median(newest) == Decimal("20.00")  # the newest three


def test_someone_is_welcomed_once_however_often_they_are_claimed(session: Session) -> None:
    queries.add_people(session, users=["U0ANA", "U0BEN"], at=T0, welcome=Welcome.OWED)
    queries.add_people(session, users=["U0ANA"], at=T0 + timedelta(days=1), welcome=Welcome.NOT_OWED)  # seen already
    assert sorted(queries.owed_welcome(session, users=["U0ANA", "U0BEN", "U0CHO"])) == ["U0ANA", "U0BEN"]
    assert queries.claim_welcome(session, user="U0ANA", at=T0)
    assert not queries.claim_welcome(session, user="U0ANA", at=T0)
    assert queries.owed_welcome(session, users=["U0ANA", "U0BEN"]) == ["U0BEN"]
    assert queries.people(session, users=["U0ANA"])["U0ANA"].first_seen_at == T0


def test_a_nudge_is_claimed_once_per_period_and_never_after_no_more(session: Session) -> None:
    period = timedelta(days=14)
    queries.add_people(session, users=["U0ANA", "U0BEN"], at=T0, welcome=Welcome.SENT)
    assert queries.claim_nudge(session, user="U0ANA", now=T0, after=period)
    assert not queries.claim_nudge(session, user="U0ANA", now=T0 + timedelta(days=13), after=period)
    assert queries.claim_nudge(session, user="U0ANA", now=T0 + period, after=period)
    assert queries.stop_nudges(session, user="U0BEN", at=T0)
    assert not queries.stop_nudges(session, user="U0BEN", at=T0)
    assert not queries.claim_nudge(session, user="U0BEN", now=T0, after=period)


def test_leads_get_how_many_agents_were_nudged(session: Session) -> None:
    for user, days in (("U0ANA", 1), ("U0ANA", 2), ("U0BEN", 3), ("U0CHO", 9)):
        queries.add_nudge(session, user=user, at=T0 - timedelta(days=days), example_proposal_id=None)
    assert queries.nudged_between(session, start=T0 - timedelta(days=7), end=T0) == 2


def test_who_proposed_lately(session: Session) -> None:
    make_proposal(session, proposer="U0ANA", created_at=T0)
    make_proposal(session, proposer="U0BEN", created_at=T0 - timedelta(days=15))
    assert queries.proposed_since(session, users=["U0ANA", "U0BEN", "U0CHO"], since=T0 - timedelta(days=14)) == {
        "U0ANA"
    }
